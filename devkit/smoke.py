"""Smoke checks of a running tracking API: six calls that show it accepts, stores, returns and rejects.

``invoke smoke`` runs them against a deployed stage with the caller's AWS credentials, and the
tests run them against the local API. Each check records its HTTP status and latency. All six
always run, because one broken step rarely explains itself, and ``run_smoke`` then raises
``Exit`` naming the first check that failed.

The checks write one synthetic update per run. Its tracking id starts with ``SMOKE-`` and is
unique (UTC time plus random hex), so runs never see each other's data.
"""

import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, List, Optional, Tuple
from urllib.parse import urlsplit

import boto3
import requests
from invoke import Exit

from devkit import loopback
from devkit.deploy import StackOutputs
from devkit.local import sigv4
from devkit.local.client import TrackingClient
from shared import naming, outputs
from shared.contract import function_contract as contract

TRACKING_ID_PREFIX = "SMOKE-"
# A timestamp this far in the future breaks the contract's 24-hour limit, and the function names the field.
FUTURE_OFFSET = timedelta(days=30)
# The synthetic event lies this far in the past, so a client clock ahead of the server's stays valid.
EVENT_AGE = timedelta(minutes=1)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one smoke check: what was expected, what came back, and how long the call took."""

    name: str
    passed: bool
    expected: str
    actual: str
    latency_ms: float


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: Optional[str] = None


def aws_credentials(url: str = "") -> Credentials:
    """Return the credentials the standard AWS chain resolves (environment, profile, SSO, role), or raise ``Exit``.

    For a URL on this machine (the local API) the chain never queries an instance metadata address.
    """
    local = loopback.is_loopback_url(url)
    if local:
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    resolved = boto3.Session().get_credentials()
    if resolved is None and local:
        raise Exit(
            "no AWS credentials found to sign requests to the local API. Fix: export the pair it was started "
            f"with, by default AWS_ACCESS_KEY_ID={sigv4.DEFAULT_ACCESS_KEY_ID} "
            f"AWS_SECRET_ACCESS_KEY={sigv4.DEFAULT_SECRET_ACCESS_KEY}"
        )
    if resolved is None:
        raise Exit(
            "no AWS credentials found: the standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
            "~/.aws/credentials, ~/.aws/config, SSO, container or instance roles) resolved none.\n"
            "Fix: run `aws configure` (or `aws sso login --profile <name>` and export AWS_PROFILE=<name>) as a "
            "caller whose policy allows execute-api:Invoke, such as the edge stack's "
            f"{outputs.CLIENT_POLICY_ARN} output"
        )
    frozen = resolved.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


def invoke_url(edge: StackOutputs, environment: str) -> str:
    """Return the invoke URL from the edge stack's outputs, or raise ``Exit`` with the fix."""
    fix = f"Fix: deploy it with `invoke deploy --layer edge --env {environment}`, or pass --url"
    if not edge.found:
        raise Exit(f"cannot read the outputs of edge stack {edge.stack}: {edge.error or 'unknown error'}. {fix}")
    url = edge.values.get(outputs.INVOKE_URL)
    if not isinstance(url, str) or not url:
        raise Exit(f"edge stack {edge.stack} exports no {outputs.INVOKE_URL}. {fix}")
    return url


def check_url(url: str) -> str:
    """Return ``url`` without a trailing slash if it is an http(s) URL with a host, or raise ``Exit``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Exit(
            f"invalid --url {url!r}: expected the stage's invoke URL. "
            f"Fix: pass --url https://<restApiId>.execute-api.{naming.REGION}.amazonaws.com/<stage>"
        )
    return url.rstrip("/")


def new_tracking_id(now: datetime) -> str:
    return f"{TRACKING_ID_PREFIX}{now.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4).upper()}"


def run_checks(client: TrackingClient, now: Optional[datetime] = None) -> List[CheckResult]:
    """Run every smoke check in order against the API behind ``client`` and return their results."""
    now = datetime.now(timezone.utc) if now is None else now
    tracking_id = new_tracking_id(now)
    update = {
        "tracking_id": tracking_id,
        "timestamp": _rfc3339(now - EVENT_AGE),
        "status": "in_transit",
        "carrier": "smoke-test",
        "description": "Synthetic update sent by invoke smoke",
    }
    invalid = {**update, "timestamp": _rfc3339(now + FUTURE_OFFSET)}
    missing_id = f"{tracking_id}-MISSING"
    status_url = client.url(contract.STATUS_PATH, [("tracking_id", tracking_id)])

    checks: List[Tuple[str, str, Callable[[], Tuple[int, Any]], Callable[[int, Any], bool]]] = [
        ("create", "201 created", lambda: client.post_track(update), _result_is(201, "created")),
        ("duplicate", "200 duplicate", lambda: client.post_track(update), _result_is(200, "duplicate")),
        (
            "status",
            f"200 with status {update['status']}",
            lambda: client.get_status(tracking_id),
            lambda code, body: code == 200 and isinstance(body, dict) and body.get("status") == update["status"],
        ),
        ("not-found", "404", lambda: client.get_status(missing_id), lambda code, body: code == 404),
        (
            "invalid-body",
            "400 naming timestamp",
            lambda: client.post_track(invalid),
            lambda code, body: code == 400 and _names_field(body, "timestamp"),
        ),
        (
            "unsigned",
            "403",
            lambda: _unsigned(client, status_url),
            lambda code, body: code == 403,
        ),
    ]
    return [_run_check(name, expected, call, passed) for name, expected, call, passed in checks]


def format_result(result: CheckResult) -> str:
    verdict = "PASS" if result.passed else "FAIL"
    line = f"{verdict}  {result.name:<12}  {result.latency_ms:8.1f} ms  got {result.actual}"
    return line if result.passed else f"{line}; expected {result.expected}"


def run_smoke(url: str, credentials: Credentials, out: Callable[[str], None] = print) -> List[CheckResult]:
    """Run the smoke checks against ``url``, print one line per check, and raise ``Exit`` if any failed."""
    base_url = check_url(url)
    out(f"smoke checks against {base_url}")
    with TrackingClient(
        base_url, credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    ) as client:
        results = run_checks(client)
    for result in results:
        out(format_result(result))
    failed = [result for result in results if not result.passed]
    if failed:
        first = failed[0]
        raise Exit(
            f"smoke check {first.name} failed: expected {first.expected}, got {first.actual} "
            f"({len(failed)} of {len(results)} checks failed). Fix: {_fix(first)}"
        )
    out(f"all {len(results)} smoke checks passed")
    return results


def _run_check(
    name: str, expected: str, call: Callable[[], Tuple[int, Any]], passed: Callable[[int, Any], bool]
) -> CheckResult:
    started = time.monotonic()
    try:
        status, body = call()
    except requests.RequestException as exc:
        latency_ms = (time.monotonic() - started) * 1000
        return CheckResult(name, False, expected, f"no response ({type(exc).__name__}: {exc})", latency_ms)
    latency_ms = (time.monotonic() - started) * 1000
    return CheckResult(name, passed(status, body), expected, _describe(status, body), latency_ms)


def _fix(result: CheckResult) -> str:
    if result.actual.startswith("no response"):
        return "check the URL and that this machine can reach the API"
    if result.actual.startswith("403") and result.name != "unsigned":
        return (
            "sign with the credentials of a caller whose IAM policy allows execute-api:Invoke on the routes, "
            f"such as the edge stack's {outputs.CLIENT_POLICY_ARN} output"
        )
    return "look up the request in the function's logs and the stage's access log"


def _unsigned(client: TrackingClient, url: str) -> Tuple[int, Any]:
    response = client.send("GET", url, {})
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    return response.status_code, body


def _result_is(status: int, result: str) -> Callable[[int, Any], bool]:
    return lambda code, body: code == status and isinstance(body, dict) and body.get("result") == result


def _names_field(body: Any, field: str) -> bool:
    """Return whether a 400 body names ``field``: in its errors, or in the gateway's validation error."""
    if not isinstance(body, dict):
        return False
    errors = body.get("errors")
    if isinstance(errors, list) and any(isinstance(error, dict) and error.get("field") == field for error in errors):
        return True
    return field in str(body.get("validation_error", ""))


def _describe(status: int, body: Any) -> str:
    """Summarize a response for the report: the status, then the result, status field or message."""
    if isinstance(body, dict):
        for key in ("result", "status", "message"):
            if isinstance(body.get(key), str):
                return f"{status} {key}={_shorten(body[key])}"
    return f"{status}" if body is None else f"{status} {_shorten(str(body))}"


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
