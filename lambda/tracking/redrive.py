"""Redrive: move parked updates from the dead letter queue back into the table.

Each parked update is written with the same conditional put as the API uses, so a
replay stores it at most once: running a redrive twice changes nothing the second
time. A message is deleted only after its update is stored or found stored already;
one that fails again stays on the queue for the next run.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from tracking.errors import RequestInvalid, StorageUnavailable
from tracking.parking import MESSAGE_KIND, MESSAGE_VERSION
from tracking.store import TrackingStore
from tracking.validation import parse_body, validate_track_body

# The contract's response form, which the API writes as parked_at: YYYY-MM-DDTHH:MM:SS.sssZ.
_UTC_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@dataclass
class RedriveReport:
    received: int = 0
    created: int = 0
    duplicate: int = 0
    failed: int = 0
    invalid: int = 0
    # Stored, but their messages could not be deleted; the next run finds them duplicates.
    undeleted: int = 0
    errors: list = field(default_factory=list)
    # Why the run ended before the queue was empty, or "" when it read all it could.
    stopped: str = ""

    def as_dict(self) -> dict:
        return {
            "received": self.received,
            "created": self.created,
            "duplicate": self.duplicate,
            "failed": self.failed,
            "invalid": self.invalid,
            "undeleted": self.undeleted,
        }


def _parked_update(body: str, redriven_at: str) -> tuple:
    """Return (update, time the API received it) from a parked message, or raise naming the defect."""
    # As strict as a request body: no repeated keys, lone surrogates or runaway nesting.
    message = parse_body(body)
    if not isinstance(message, dict):
        raise ValueError(f"message body is a JSON {type(message).__name__}, not a parked update object")
    if message.get("kind") != MESSAGE_KIND:
        raise ValueError(f"message kind {message.get('kind')!r} is not {MESSAGE_KIND!r}")
    version = message.get("version")
    # type() and not ==, because JSON's true and 1.0 compare equal to 1 in Python.
    if type(version) is not int or version != MESSAGE_VERSION:
        raise ValueError(f"message version {version!r} is not {MESSAGE_VERSION}")
    # The update was validated when it was parked; validate again, because a queue can be
    # written by anyone allowed to send to it. A message contains one update, never a batch.
    update = message.get("update")
    if not isinstance(update, dict) or "updates" in update:
        raise ValueError("message update is not one tracking update object")
    _, (normalized,) = validate_track_body(update)
    return normalized, _arrival_time(message.get("parked_at"), redriven_at)


def _arrival_time(parked_at, redriven_at: str) -> str:
    """Return the arrival time the API recorded, so the item's received_at and expiry match it.

    A missing value, one that is not a real instant in the contract's form, or one later than
    this redrive falls back to the time of this redrive.
    """
    if not isinstance(parked_at, str) or not _UTC_TIMESTAMP.fullmatch(parked_at) or parked_at > redriven_at:
        return redriven_at
    try:
        datetime.strptime(parked_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return redriven_at
    return parked_at


def _describe(exc: Exception) -> str:
    if isinstance(exc, RequestInvalid):
        return "; ".join(error["message"] for error in exc.errors[:3]) or exc.message
    return f"{type(exc).__name__}: {exc}"


# Messages received stay hidden this long, so one run never receives a message twice. A message
# left on the queue (failed or invalid) is made visible again when the run ends.
VISIBILITY_TIMEOUT_SECONDS = 900

# A table that fails this many writes in a row is still down. The run stops there, because each
# further message would only spend its retries on it, and leaves the rest for the next run.
MAX_FAILURES_IN_A_ROW = 5


def redrive(
    sqs,
    queue_url: str,
    store: TrackingStore,
    received_at: str,
    max_messages: int = 10_000,
    wait_seconds: int = 1,
) -> RedriveReport:
    """Replay up to ``max_messages`` parked updates and return the counts."""
    report = RedriveReport()
    seen: set = set()
    to_release: list = []
    pending: list = []
    failures_in_a_row = 0
    try:
        while report.received < max_messages and not report.stopped:
            batch = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(10, max_messages - report.received),
                WaitTimeSeconds=wait_seconds,
                VisibilityTimeout=VISIBILITY_TIMEOUT_SECONDS,
            ).get("Messages", [])
            pending = [message for message in batch if message["MessageId"] not in seen]
            if not pending:
                break
            while pending:
                message = pending.pop(0)
                seen.add(message["MessageId"])
                report.received += 1
                outcome = _replay(sqs, queue_url, store, received_at, message, report)
                if outcome != "deleted":
                    to_release.append(message["ReceiptHandle"])
                failures_in_a_row = failures_in_a_row + 1 if outcome == "failed" else 0
                if failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
                    report.stopped = (
                        f"stopped after {failures_in_a_row} failed writes in a row: the table is still failing, "
                        "and the messages not yet read stay on the queue"
                    )
                    break
    finally:
        # Also after an unexpected error: nothing this run received stays hidden for long.
        _release(sqs, queue_url, to_release + [message["ReceiptHandle"] for message in pending])
    return report


def _replay(sqs, queue_url: str, store: TrackingStore, received_at: str, message: dict, report: RedriveReport) -> str:
    """Store one parked update and delete its message; count it and return what became of the message."""
    try:
        update, parked_at = _parked_update(message["Body"], received_at)
    except (ValueError, KeyError, TypeError, RequestInvalid) as exc:
        # Left on the queue: an operator decides what a malformed message means.
        report.invalid += 1
        report.errors.append(f"message {message['MessageId']}: not a parked update: {_describe(exc)}")
        return "invalid"
    # One id per receipt: a retry inside this call matches the write it repeats, while a later
    # run, which receives the message anew, counts an update stored earlier as a duplicate.
    receipt = hashlib.sha256(message["ReceiptHandle"].encode("utf-8")).hexdigest()[:16]
    try:
        result = store.put_update(update, parked_at, f"redrive:{message['MessageId']}:{receipt}")
    except StorageUnavailable as exc:
        report.failed += 1
        report.errors.append(f"message {message['MessageId']}: {exc}")
        return "failed"
    setattr(report, result, getattr(report, result) + 1)
    try:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    except (ClientError, BotoCoreError) as exc:
        report.undeleted += 1
        report.errors.append(f"message {message['MessageId']}: stored but not deleted: {exc}")
        return "undeleted"
    return "deleted"


def _release(sqs, queue_url: str, receipt_handles: list) -> None:
    """Make the messages kept on the queue visible again at once, so the next run can retry them."""
    for handle in receipt_handles:
        try:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
        except (ClientError, BotoCoreError):
            # They become visible anyway when the visibility timeout ends.
            continue
