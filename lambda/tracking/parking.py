"""Parking of updates the table did not accept, on the dead letter queue, for redrive.

API Gateway invokes the function synchronously, so Lambda's own dead letter config
never sees these failures; the function parks the validated update itself.
"""

import json
from typing import Callable, Optional

from botocore.exceptions import BotoCoreError, ClientError

from tracking.errors import ParkingFailed

MESSAGE_KIND = "tracking-update"
MESSAGE_VERSION = 1


def parked_message(update: dict, error: str, request_id: str, parked_at: str) -> str:
    return json.dumps(
        {
            "kind": MESSAGE_KIND,
            "version": MESSAGE_VERSION,
            "update": update,
            "error": error,
            "request_id": request_id,
            "parked_at": parked_at,
        },
        # ASCII only: SQS rejects message bodies with some characters a valid update may hold,
        # such as U+FFFE and U+FFFF, and escapes carry every character through.
        ensure_ascii=True,
        sort_keys=True,
    )


# SQS takes at most 10 messages per SendMessageBatch call.
BATCH_SIZE = 10


class DeadLetterParking:
    def __init__(self, queue_url: str, sqs):
        self.queue_url = queue_url
        self.sqs = sqs

    def park(
        self,
        updates: list,
        error: str,
        request_id: str,
        parked_at: str,
        has_time: Optional[Callable[[], bool]] = None,
    ) -> None:
        """Park every update, up to 10 per call; raise ``ParkingFailed`` unless all were accepted.

        ``has_time`` is called before each queue call, so a slow queue cannot run the invocation
        into its timeout. When it returns False, the rest is not parked and ``ParkingFailed`` is raised.
        """
        for start in range(0, len(updates), BATCH_SIZE):
            if has_time is not None and not has_time():
                raise ParkingFailed(f"not enough time left in this invocation to park {len(updates) - start} updates")
            chunk = updates[start : start + BATCH_SIZE]
            entries = [
                {
                    "Id": str(start + offset),
                    "MessageBody": parked_message(update, error, request_id, parked_at),
                    "MessageAttributes": {"kind": {"DataType": "String", "StringValue": MESSAGE_KIND}},
                }
                for offset, update in enumerate(chunk)
            ]
            try:
                response = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise ParkingFailed(f"dead letter queue {self.queue_url} did not accept the updates: {exc}") from exc
            rejected = response.get("Failed") or []
            if rejected:
                reasons = "; ".join(f"{entry.get('Code')}: {entry.get('Message')}" for entry in rejected[:3])
                raise ParkingFailed(
                    f"dead letter queue {self.queue_url} rejected {len(rejected)} of {len(entries)} updates: {reasons}"
                )
