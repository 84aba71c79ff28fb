"""The API faces: each renders the one error family in its own wire shape."""
