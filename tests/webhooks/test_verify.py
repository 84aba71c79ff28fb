"""The providers' checks as verify.py runs them: retell-sdk's own verification module, loaded without the
SDK's client (which would cost every server process about 90 MB), agrees with the SDK's `verify`."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from retell.lib.webhook_auth import symmetric, verify

from sessionary.webhooks import verify as checks


@pytest.mark.parametrize(
    ("key", "age_ms", "body"),
    [
        ("key_a", 0, '{"event":"call_ended"}'),
        ("key_b", 0, "{}"),
        ("key_a", 6 * 60_000, "{}"),
        ("key_a", -299_000, "{}"),
    ],
)
def test_the_retell_check_agrees_with_the_sdks_verify(key: str, age_ms: int, body: str) -> None:
    signature = symmetric["sign"](body, "key_a", int(time.time() * 1000) - age_ms)
    assert checks.retell_verify(body, key, signature) == verify(body, key, signature)
    assert checks.retell_verify(body + " ", key, signature) is False


def test_a_server_process_does_not_load_the_retell_sdk_client() -> None:
    code = "import sys, sessionary.app; print(sorted(m for m in sys.modules if m.split('.')[0] == 'retell'))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"
