"""The audit trail: who did what to an organization's data and keys, when, and from where."""
