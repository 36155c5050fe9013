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
from tracking.parking import MESSAGE_KIND
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
    if message.get("kind") != MESSAGE_KIND:
        raise ValueError(f"message kind {message.get('kind')!r} is not {MESSAGE_KIND!r}")
    # The update was validated when it was parked; validate again, because a queue can be
    # written by anyone allowed to send to it.
    _, (update,) = validate_track_body(message["update"])
    return update


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
    while report.received < max_messages:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds, VisibilityTimeout=60
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            report.received += 1
            try:
                update = _parked_update(message["Body"])
            except (ValueError, KeyError, RequestInvalid) as exc:
                # Kept on the queue: an operator decides what a malformed message means.
                report.invalid += 1
                report.errors.append(f"message {message['MessageId']}: {exc}")
                continue
            try:
                result = store.put_update(update, received_at, f"redrive:{message['MessageId']}")
            except StorageUnavailable as exc:
                report.failed += 1
                report.errors.append(f"message {message['MessageId']}: {exc}")
                continue
            setattr(report, result, getattr(report, result) + 1)
            try:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            except (ClientError, BotoCoreError) as exc:
                # Stored but still queued: the next run finds it a duplicate and deletes it.
                report.errors.append(f"message {message['MessageId']}: stored but not deleted: {exc}")
    return report
