"""Redrive: move parked updates from the dead letter queue back into the table.

Each parked update is written with the same conditional put as the API uses, so a
replay stores it at most once: running a redrive twice changes nothing the second
time. A message is deleted only after its update is stored or found stored already;
one that fails again stays on the queue for the next run.
"""

import json
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from tracking.errors import RequestInvalid, StorageUnavailable
from tracking.parking import MESSAGE_KIND, MESSAGE_VERSION
from tracking.store import TrackingStore
from tracking.validation import validate_track_body


@dataclass
class RedriveReport:
    received: int = 0
    created: int = 0
    duplicate: int = 0
    failed: int = 0
    invalid: int = 0
    errors: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "received": self.received,
            "created": self.created,
            "duplicate": self.duplicate,
            "failed": self.failed,
            "invalid": self.invalid,
        }


def _parked_update(body: str) -> dict:
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError(f"message body is a JSON {type(message).__name__}, not a parked update object")
    if message.get("kind") != MESSAGE_KIND:
        raise ValueError(f"message kind {message.get('kind')!r} is not {MESSAGE_KIND!r}")
    if message.get("version") != MESSAGE_VERSION:
        raise ValueError(f"message version {message.get('version')!r} is not {MESSAGE_VERSION}")
    # The update was validated when it was parked; validate again, because a queue can be
    # written by anyone allowed to send to it.
    _, (update,) = validate_track_body(message["update"])
    return update


# Messages received stay hidden this long, so one run never receives a message twice. A message
# left on the queue (failed or invalid) is made visible again when the run ends.
VISIBILITY_TIMEOUT_SECONDS = 900


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
    kept: list = []
    while report.received < max_messages:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, max_messages - report.received),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=VISIBILITY_TIMEOUT_SECONDS,
        ).get("Messages", [])
        fresh = [message for message in batch if message["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            report.received += 1
            try:
                update = _parked_update(message["Body"])
            except (ValueError, KeyError, TypeError, RequestInvalid) as exc:
                # Kept on the queue: an operator decides what a malformed message means.
                report.invalid += 1
                report.errors.append(f"message {message['MessageId']}: {exc}")
                kept.append(message["ReceiptHandle"])
                continue
            try:
                result = store.put_update(update, received_at, f"redrive:{message['MessageId']}")
            except StorageUnavailable as exc:
                report.failed += 1
                report.errors.append(f"message {message['MessageId']}: {exc}")
                kept.append(message["ReceiptHandle"])
                continue
            setattr(report, result, getattr(report, result) + 1)
            try:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            except (ClientError, BotoCoreError) as exc:
                # Stored but still queued: the next run finds it a duplicate and deletes it.
                report.errors.append(f"message {message['MessageId']}: stored but not deleted: {exc}")
    _release(sqs, queue_url, kept)
    return report


def _release(sqs, queue_url: str, receipt_handles: list) -> None:
    """Make the messages kept on the queue visible again at once, so the next run can retry them."""
    for handle in receipt_handles:
        try:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
        except (ClientError, BotoCoreError):
            # They become visible anyway when the visibility timeout ends.
            continue
