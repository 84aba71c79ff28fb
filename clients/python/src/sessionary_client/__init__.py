"""sessionary_client: report a conversational system's sessions to a sessionary server.

from sessionary_client import SessionaryClient

client = SessionaryClient("http://127.0.0.1:8000", "sk_...")
with client.session("hedy", "call-42", agent_name="Pharmacy Refills") as call:
    call.transcript("user", "I need a refill")
"""

from sessionary_client._client import SERVER_MAX_BYTES, SERVER_MAX_EVENTS, SessionaryClient
from sessionary_client._sender import MAX_RETRY_AFTER, RetryPolicy
from sessionary_client._session import Session
from sessionary_client._stats import ClientStats

__all__ = [
    "MAX_RETRY_AFTER",
    "SERVER_MAX_BYTES",
    "SERVER_MAX_EVENTS",
    "ClientStats",
    "RetryPolicy",
    "Session",
    "SessionaryClient",
]
