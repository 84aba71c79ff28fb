"""Recordings: audio files uploaded for a session, kept in a blob store, streamed back through signed URLs."""
