"""What a provider secret and an integration's name may be (the CLI, the service and the API schema agree).

A secret: 1 to 512 characters (the providers' are 32 to 64), no control characters nor surrounding spaces
(a pasted newline would make every signature check fail). A name: at most 200 characters, no control
characters. The messages never quote the value.
"""

from __future__ import annotations

from collections.abc import Callable

SECRET_MAX_CHARS = 512
NAME_MAX_CHARS = 200

ProblemFinder = Callable[[str], "str | None"]


def secret_problem(secret: str) -> str | None:
    """What is wrong with a provider secret (None: nothing); never quotes it."""
    if not secret or len(secret) > SECRET_MAX_CHARS:
        return f"must be 1 to {SECRET_MAX_CHARS} characters"
    if _has_control(secret) or secret != secret.strip():
        return "must hold no control characters nor surrounding spaces"
    return None


def name_problem(name: str) -> str | None:
    """What is wrong with an integration's name (None: nothing)."""
    if len(name) > NAME_MAX_CHARS:
        return f"at most {NAME_MAX_CHARS} characters"
    if _has_control(name):
        return "must hold no control characters"
    return None


def _has_control(text: str) -> bool:
    # C0, DEL and C1 controls, and lone surrogates (no database stores them as text).
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) < 0xE000 for c in text)
