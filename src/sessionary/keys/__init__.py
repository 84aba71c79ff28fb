"""The API keys of an organization over the admin API: made, listed and revoked, each in the audit trail."""
