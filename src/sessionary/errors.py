"""One error family for the whole service; each API face renders it in its own wire shape."""

from __future__ import annotations


class SessionaryError(Exception):
    """Base of every domain error: a status code and a human message naming what is wrong."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidRequest(SessionaryError):
    """The request is malformed (bad datetime, mismatched arrays, ...)."""

    status_code = 400


class Unauthorized(SessionaryError):
    """No API key, or one that matches nothing."""

    status_code = 401


class Forbidden(SessionaryError):
    """A valid API key without the scope the operation needs."""

    status_code = 403


class NotFound(SessionaryError):
    """The object does not exist in the caller's organization."""

    status_code = 404


class Conflict(SessionaryError):
    """The request clashes with what is stored."""

    status_code = 409


class PayloadTooLarge(SessionaryError):
    """The request body or batch is over the configured limit."""

    status_code = 413


class TooManyRequests(SessionaryError):
    """Too many failed authentications from one client address; answered with Retry-After."""

    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def error_headers(exc: SessionaryError) -> dict[str, str]:
    """Headers an error's answer carries on every face (Retry-After for 429)."""
    return {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else {}
