"""sessionary: an open-source, self-hosted session service for conversational systems."""

__version__ = "0.1.0"
