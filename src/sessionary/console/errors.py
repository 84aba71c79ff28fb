"""How console pages answer errors: a sign-in redirect, or an HTML page with the status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from sessionary.console.middleware import is_console_path
from sessionary.console.templating import templates
from sessionary.errors import Forbidden, SessionaryError

Handler = Callable[[Request, Exception], Awaitable[Response]]


class SignInRequired(SessionaryError):
    """A console page asked for without a valid console session."""

    status_code = 303


class CsrfFailed(Forbidden):
    """A console form posted without the session's CSRF token."""


async def sign_in_redirect(request: Request, _exc: Exception) -> Response:
    """303 to /signin, remembering where the visitor wanted to go."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


def page_or(fallback: Handler) -> Handler:
    """A domain-error handler: an HTML error page on console paths, `fallback` (the API's) elsewhere."""

    async def handler(request: Request, exc: Exception) -> Response:
        if not is_console_path(request.url.path) or not isinstance(exc, SessionaryError):
            return await fallback(request, exc)
        return error_page(request, exc.status_code, exc.detail)

    return handler


def error_page(request: Request, status: int, message: str) -> Response:
    """The console's error page."""
    context = {"status": status, "message": message}
    return templates.TemplateResponse(request, "error.html", context, status_code=status)
