"""Parking of updates the table did not accept, on the dead letter queue, for redrive.

API Gateway invokes the function synchronously, so Lambda's own dead letter config
never sees these failures; the function parks the validated update itself.
"""

import json

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
        ensure_ascii=False,
        sort_keys=True,
    )


class DeadLetterParking:
    def __init__(self, queue_url: str, sqs):
        self.queue_url = queue_url
        self.sqs = sqs

    def park(self, update: dict, error: str, request_id: str, parked_at: str) -> None:
        try:
            self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=parked_message(update, error, request_id, parked_at),
                MessageAttributes={"kind": {"DataType": "String", "StringValue": MESSAGE_KIND}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise ParkingFailed(f"dead letter queue {self.queue_url} did not accept the update: {exc}") from exc
