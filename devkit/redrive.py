"""Operator side of redrive: find the table and the dead letter queue, then replay parked updates.

The replay itself is the function's own ``tracking.redrive`` module, so an update is
written with exactly the conditional put the API uses and a replay twice changes nothing.
"""

import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from invoke import Exit

from devkit import loopback
from shared import definitions, naming, outputs

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = REPO_ROOT / "lambda"
# Written by a running `invoke local` so that tasks can reach its emulator; removed when it stops.
# TRACKING_LOCAL_STATE_FILE moves it, so tests never touch a developer's running local API.
STATE_FILE_VARIABLE = "TRACKING_LOCAL_STATE_FILE"


def local_state_file() -> Path:
    return Path(os.environ.get(STATE_FILE_VARIABLE) or REPO_ROOT / ".local-api.json")


@dataclass
class Target:
    """Redrive target: the AWS session or emulator, the table and the queue."""

    description: str
    session: boto3.session.Session
    table_name: str
    queue_url: str
    # The API configuration parameter, which sets how long stored items are kept.
    api_config_parameter: str
    endpoint: Optional[str] = None


def _tracking_modules():
    if str(LAMBDA_DIR) not in sys.path:
        sys.path.insert(0, str(LAMBDA_DIR))
    from tracking import aws, config, redrive, store, validation

    return aws, config, redrive, store, validation


def _retention_days(target: Target, config) -> Optional[int]:
    """Read the item retention the function applies, so redriven items expire like the API's own."""
    ssm = target.session.client("ssm", region_name=naming.REGION, endpoint_url=target.endpoint)
    try:
        raw = ssm.get_parameter(Name=target.api_config_parameter)["Parameter"]["Value"]
        return config.retention_days(json.loads(raw))
    except (BotoCoreError, ClientError, ValueError, config.ConfigurationError) as exc:
        fix = (
            "check that `invoke local` is still running, and restart it if it was stopped"
            if target.endpoint
            else "check that the credentials allow ssm:GetParameter on it, or redeploy the foundation layer"
        )
        raise Exit(
            f"redrive {target.description}: parameter {target.api_config_parameter} could not be read: {exc}. "
            f"Fix: {fix}"
        ) from None


def redrive_queue(target: Target, max_messages: int = 10_000, wait_seconds: int = 1) -> dict:
    """Replay up to ``max_messages`` parked updates into the target's table; return the report."""
    aws, config, redrive, store, validation = _tracking_modules()
    retention_days = _retention_days(target, config)
    # The function's own bounded retries and timeouts, so a hung table cannot stall a redrive for minutes.
    dynamodb = target.session.client(
        "dynamodb", region_name=naming.REGION, endpoint_url=target.endpoint, config=aws.CONFIGS["dynamodb"]
    )
    sqs = target.session.client(
        "sqs", region_name=naming.REGION, endpoint_url=target.endpoint, config=aws.CONFIGS["sqs"]
    )
    print(f"redrive {target.description}: reading {target.queue_url}", flush=True)
    received_at = validation.format_timestamp(datetime.now(timezone.utc))
    try:
        report = redrive.redrive(
            sqs,
            target.queue_url,
            store.TrackingStore(target.table_name, dynamodb, retention_days),
            received_at,
            max_messages=max_messages,
            wait_seconds=wait_seconds,
        )
    except (BotoCoreError, ClientError) as exc:
        raise Exit(
            f"redrive {target.description} failed: {exc}. Fix: for --local, check that `invoke local` "
            "is still running (restart it if it was killed); for a stack, check the credentials"
        ) from None
    return {**report.as_dict(), "errors": report.errors, "stopped": report.stopped}


def aws_target(foundation_outputs: Optional[dict], stack: str) -> Target:
    """Return the deployed table and queue from the foundation stack's outputs, or raise ``Exit``."""
    if foundation_outputs is None:
        raise Exit(
            f"stack {stack} of the foundation layer could not be read. "
            "Fix: deploy it first (invoke deploy --layer foundation), or pass --local for the local API"
        )
    needed = (outputs.TABLE_NAME, outputs.DEAD_LETTER_QUEUE_URL, outputs.API_CONFIG_PARAMETER_NAME)
    missing = [name for name in needed if name not in foundation_outputs]
    if missing:
        raise Exit(f"stack {stack} has no output {', '.join(missing)}. Fix: invoke deploy --layer foundation")
    session = boto3.session.Session(region_name=naming.REGION)
    if session.get_credentials() is None:
        raise Exit("no AWS credentials found. Fix: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    return Target(
        f"stack {stack}",
        session,
        foundation_outputs[outputs.TABLE_NAME],
        foundation_outputs[outputs.DEAD_LETTER_QUEUE_URL],
        foundation_outputs[outputs.API_CONFIG_PARAMETER_NAME],
    )


def named_target(environment: str) -> Target:
    """Return the environment's table and queue found by their names in AWS, without Pulumi.

    For an incident in which the Pulumi CLI or its state backend is out of reach: the names come
    from the same definitions the foundation stack uses, and the queue URL from SQS itself.
    """
    session = boto3.session.Session(region_name=naming.REGION)
    if session.get_credentials() is None:
        raise Exit("no AWS credentials found. Fix: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    queue_name = definitions.queue_name(environment)
    try:
        queue_url = session.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
    except (BotoCoreError, ClientError) as exc:
        raise Exit(
            f"queue {queue_name} could not be found in {naming.REGION}: {exc}. Fix: check that the credentials "
            f"belong to the account of the {environment} stacks and allow sqs:GetQueueUrl"
        ) from None
    return Target(
        f"{environment} resources found by name",
        session,
        definitions.table_name(environment),
        queue_url,
        naming.parameter_name(environment, definitions.API_CONFIG_PARAMETER.key),
    )


def write_local_state(state: dict, path: Optional[Path] = None) -> None:
    """Record how to reach a running local API's emulator (file mode 0600, because it contains credentials)."""
    path = path or local_state_file()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)


# Keys of the state file a running `invoke local` writes, each a non-empty string.
_LOCAL_STATE_KEYS = (
    "base_url", "endpoint", "access_key_id", "secret_access_key", "table_name", "queue_url", "api_config_parameter",
)


def local_target(path: Optional[Path] = None) -> Target:
    """Return the table and queue of the running ``invoke local`` API, or raise ``Exit``."""
    path = path or local_state_file()
    fix = f"Fix: stop `invoke local` if it runs, delete {path.name}, and start `invoke local` again"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Exit("no local API is running. Fix: start one with `invoke local` in another terminal") from None
    except (OSError, ValueError) as exc:
        raise Exit(f"{path.name} cannot be read ({exc}). {fix}") from None
    if not isinstance(state, dict):
        raise Exit(f"{path.name} contains a JSON {type(state).__name__}, not a local API's state. {fix}")
    invalid = [key for key in _LOCAL_STATE_KEYS if not isinstance(state.get(key), str) or not state[key]]
    if invalid:
        raise Exit(f"{path.name} lacks {', '.join(invalid)} (missing, empty or not text). {fix}")
    # --local must reach the local emulator and nothing else, whatever the file contains.
    if not loopback.is_loopback_url(state["endpoint"]):
        raise Exit(f"{path.name} names endpoint {state['endpoint']!r}, which is not on this machine. {fix}")
    session = boto3.session.Session(
        aws_access_key_id=state["access_key_id"],
        aws_secret_access_key=state["secret_access_key"],
        aws_session_token=state.get("session_token"),
        region_name=naming.REGION,
    )
    return Target(
        f"local API at {state['base_url']}",
        session,
        state["table_name"],
        state["queue_url"],
        state["api_config_parameter"],
        endpoint=state["endpoint"],
    )


def print_report(report: dict, target: str) -> None:
    print(
        f"redrive {target}: received {report['received']}, created {report['created']}, "
        f"duplicate {report['duplicate']}, failed {report['failed']}, invalid {report['invalid']}, "
        f"undeleted {report.get('undeleted', 0)}"
    )
    for error in report["errors"][:20]:
        print(f"  {error}")
    if len(report["errors"]) > 20:
        print(f"  ... and {len(report['errors']) - 20} more")
    problems = []
    if report.get("stopped"):
        problems.append(f"{report['stopped']} (check the table as the runbook says, then redrive again)")
    elif report["failed"]:
        problems.append(f"failed again: {report['failed']} (check the table as the runbook says, then redrive again)")
    if report.get("undeleted"):
        problems.append(
            f"stored but not deleted: {report['undeleted']} (run redrive again: it finds them stored and deletes them)"
        )
    if report["invalid"]:
        problems.append(
            f"not parked updates: {report['invalid']} "
            "(redrive never deletes them; the runbook's redrive section shows how to read them)"
        )
    if problems:
        raise Exit("messages kept on the queue, " + "; ".join(problems), code=1)
