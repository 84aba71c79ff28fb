"""The web console: server-rendered pages to find, read and label sessions, and see how agents are doing."""
