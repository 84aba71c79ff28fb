"""The data lifecycle: deleting a session, erasing a person, retention periods and the purge worker."""
