"""The signing examples in docs/client.md, run as written against the local API."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLIENT_DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"
_FENCED_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# curl gained --aws-sigv4 in 7.75.0.
MIN_CURL = (7, 75)
EXAMPLE_UPDATE = {"tracking_id": "1Z999AA10123456784", "timestamp": "2024-06-01T08:30:00+02:00", "status": "in_transit"}


def _blocks(language: str) -> list:
    text = CLIENT_DOC.read_text(encoding="utf-8")
    return [body for info, body in _FENCED_BLOCK.findall(text) if info == language]


def _curl_commands() -> list:
    commands = [block for block in _blocks("sh") if block.startswith("curl --aws-sigv4")]
    return [command.strip() for block in commands for command in block.split("\n\n")]


def _curl_version():
    curl = shutil.which("curl")
    if curl is None:
        return None
    first_line = subprocess.run([curl, "--version"], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    match = re.match(r"curl (\d+)\.(\d+)", first_line)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _environment(local_api, **extra) -> dict:
    """A minimal environment: the local API's credentials, no proxies, no profile, no instance metadata."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "API_URL": local_api.base_url,
        "AWS_ACCESS_KEY_ID": local_api.credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": local_api.credentials.secret_access_key,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    environment.update(extra)
    return environment


def test_client_doc_has_examples():
    assert len(_blocks("python")) == 1
    assert len(_curl_commands()) == 2


def test_python_example_stores_and_reads_update(local_api):
    (example,) = _blocks("python")

    done = subprocess.run(
        [sys.executable, "-c", example], env=_environment(local_api), capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    post_line, get_line = done.stdout.splitlines()
    assert post_line.startswith(("(201, {'result': 'created'", "(200, {'result': 'duplicate'")), post_line
    assert get_line.startswith("(200, {'tracking_id': '1Z999AA10123456784'"), get_line


@pytest.mark.skipif(
    (_curl_version() or (0, 0)) < MIN_CURL, reason="curl 7.75 or later, which has --aws-sigv4, is not installed"
)
@pytest.mark.parametrize("index", [0, 1], ids=["post-track", "get-status"])
def test_curl_example_gets_success(local_api, index):
    command = _curl_commands()[index]
    with local_api.client() as client:
        # The status query needs a stored shipment, whichever test of this module ran first.
        status, stored = client.post_track(EXAMPLE_UPDATE)
    assert status in (200, 201), stored
    # The local API does not check session tokens, and a non-empty one keeps the header in the request.
    environment = _environment(local_api, AWS_SESSION_TOKEN="local-session-token")

    done = subprocess.run(["bash", "-c", command], env=environment, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    if index == 0:
        assert body["result"] in ("created", "duplicate"), body
    else:
        assert body["tracking_id"] == "1Z999AA10123456784", body
        assert body["events"], body
