"""The name of the server secret that signs console cookies (table server_secret, beside the recording-URL
secret): `SESSIONARY_SECRET_KEY` when set, else a random value every server process agrees on, read through
the app's `recordings.tokens.SecretCache`."""

from __future__ import annotations

COOKIE_SECRET = "cookie-signing"
