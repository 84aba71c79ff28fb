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


class RetryLater(SessionaryError):
    """An error the client should retry after `retry_after` seconds: every face sends `Retry-After`."""

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TooManyRequests(RetryLater):
    """Too many failed authentications from one client address; answered with Retry-After."""

    status_code = 429


class Unavailable(RetryLater):
    """The server is too busy to answer now (no database connection free in time, a search over its time
    budget): 503 with `Retry-After`, so that a client backs off instead of everyone waiting."""

    status_code = 503


def error_headers(exc: SessionaryError) -> dict[str, str]:
    """Headers an error's answer carries on every face (`Retry-After` for 429 and 503)."""
    return {"Retry-After": str(exc.retry_after)} if isinstance(exc, RetryLater) else {}
