"""Session analysis: when a session ends, an auto-rating label and a summary, computed in the background."""
