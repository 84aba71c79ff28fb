"""Each provider's proof that a delivery is theirs, checked with the provider's own library before anything
in the body is read into a session. No proof: Unauthorized (401); a wrong one: Forbidden (403).

- Twilio: `X-Twilio-Signature`, HMAC of the URL Twilio requested (SESSIONARY_PUBLIC_URL + the path and
  query: behind a proxy, the public address; or the URL as the request names it, for a server reached
  directly) and the sorted form parameters, under the auth token; checked
  by `twilio.request_validator.RequestValidator` (the algorithm named by X-Twilio-Webhooks-Signature-Settings
  when present). It holds no time, so a replay verifies: it is harmless (the same event ids).
- Retell: `x-retell-signature` (`v=<ms>,d=<hex>`, HMAC-SHA256 of the body and the time under the API key),
  checked by retell-sdk's `retell.lib.webhook_auth.verify`, which also refuses a time over 5 minutes away.
- Vapi: the server URL secret, sent by Vapi as `X-Vapi-Secret` (or as a bearer token by a Bearer
  credential), compared in constant time.
"""

from __future__ import annotations

import hmac
import importlib.util
from collections.abc import Callable, Mapping
from functools import cache
from types import ModuleType
from typing import cast

from twilio.request_validator import RequestValidator, get_signature_algorithm

from sessionary.errors import Forbidden, Unauthorized

TWILIO_SIGNATURE = "x-twilio-signature"
RETELL_SIGNATURE = "x-retell-signature"
VAPI_SECRET = "x-vapi-secret"


@cache
def _retell_webhook_auth() -> ModuleType:
    """retell-sdk's own verification module (`retell/lib/webhook_auth.py`, which needs only the standard
    library and `cryptography`), loaded as that one file: importing it the usual way runs the `retell`
    package's `__init__`, which loads the SDK's whole API client and types, about 90 MB in every server
    process, for a 100-line HMAC check."""
    package = importlib.util.find_spec("retell")  # finds the package without running its __init__
    if package is None or not package.submodule_search_locations:
        raise ImportError("retell-sdk is not installed")
    path = f"{list(package.submodule_search_locations)[0]}/lib/webhook_auth.py"
    spec = importlib.util.spec_from_file_location("sessionary._retell_webhook_auth", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def retell_verify(body: str, api_key: str, signature: str) -> bool:
    """retell-sdk's `verify(body, api_key, signature)`: HMAC-SHA256 of the body and the signature's time,
    which must be within 5 minutes of now."""
    verify = cast(Callable[[str, str, str], bool], _retell_webhook_auth().verify)
    return bool(verify(body, api_key, signature))


class Form(dict[str, list[str]]):
    """Form parameters with every value of a name, as RequestValidator reads them (`getlist`)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def twilio(headers: Mapping[str, str], *, urls: list[str], form: Form, auth_token: str) -> None:
    """The signature of the first of `urls` (the URL on SESSIONARY_PUBLIC_URL, then the one the request
    names itself): either needs the auth token, so accepting both weakens nothing, and a server reached
    directly works before SESSIONARY_PUBLIC_URL is set."""
    signature = headers.get(TWILIO_SIGNATURE)
    if not signature:
        raise Unauthorized("Not authenticated: X-Twilio-Signature is missing")
    algorithm = get_signature_algorithm(headers.get("x-twilio-webhooks-signature-settings"))
    validator = RequestValidator(auth_token)
    if not any(validator.validate(url, form, signature, algorithm) for url in dict.fromkeys(urls)):
        raise Forbidden(
            f"X-Twilio-Signature does not match this request to {urls[0]} (is SESSIONARY_PUBLIC_URL the "
            "address Twilio calls?)"
        )


def retell(headers: Mapping[str, str], *, body: str, api_key: str) -> None:
    signature = headers.get(RETELL_SIGNATURE)
    if not signature:
        raise Unauthorized("Not authenticated: x-retell-signature is missing")
    if not retell_verify(body, api_key, signature):
        raise Forbidden("x-retell-signature does not match this body, or is over 5 minutes old")


def vapi(headers: Mapping[str, str], *, secret: str) -> None:
    sent = headers.get(VAPI_SECRET)
    if sent is None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        sent = token if scheme.lower() == "bearer" and token else None
    if not sent:
        raise Unauthorized("Not authenticated: X-Vapi-Secret is missing")
    if not hmac.compare_digest(sent.encode(), secret.encode()):
        raise Forbidden("X-Vapi-Secret is not this integration's secret")
