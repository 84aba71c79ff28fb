"""The README's complete example of the Python producer client runs as written against a live server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.client.conftest import turns
from tests.conftest import Org
from tests.helpers import LiveServer, list_sessions

ROOT = Path(__file__).resolve().parents[2]


def _example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Python producer client\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    return str(blocks[0])


def test_the_readme_example_stores_the_call_it_describes(
    server: LiveServer, org: Org, client: httpx.Client
) -> None:
    code = _example().replace("http://127.0.0.1:8000", server.url).replace("sk_...", org.ingest)
    env = os.environ | {"PYTHONPATH": str(ROOT / "clients" / "python" / "src")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "accepted=10, queued=0, inserted=10" in done.stdout
    assert turns(client, org) == ["Hi! How can I help?", "Where is my order A1?", "It shipped yesterday."]
    (session,) = list_sessions(client, org.read)["items"]
    assert (session["agent_name"], session["prompt_version_number"], session["user_terminated"]) == (
        "Pharmacy Refills",
        3,
        True,
    )
