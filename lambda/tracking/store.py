"""The tracking table: one item per distinct event, read newest first.

Item key: ``tracking_id`` (normalized) and ``timestamp`` = "<event time>#<digest>",
where the digest covers the whole normalized update. An identical redelivery maps to
the same key and is refused by a conditional write, while two different events at the
same instant get two keys. Event times are fixed-width UTC strings, so the sort key
orders events by event time, not by arrival.
"""

import hashlib
import json
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from tracking.errors import StorageUnavailable

EVENT_FIELDS = ("status", "carrier", "carrier_status", "location", "description")


def content_digest(update: dict) -> str:
    """Return a digest of the normalized update; identical content gives an identical digest."""
    canonical = json.dumps(update, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def sort_key(update: dict) -> str:
    return f"{update['timestamp']}#{content_digest(update)}"


def _to_item(update: dict, received_at: str, request_id: str) -> dict:
    item = {
        "tracking_id": {"S": update["tracking_id"]},
        "timestamp": {"S": sort_key(update)},
        "event_time": {"S": update["timestamp"]},
        "received_at": {"S": received_at},
        "request_id": {"S": request_id},
    }
    for field in ("status", "carrier", "carrier_status", "description"):
        if field in update:
            item[field] = {"S": update[field]}
    if "location" in update:
        item["location"] = {"M": {key: {"S": value} for key, value in update["location"].items()}}
    return item


def _from_item(item: dict) -> dict:
    event = {"timestamp": item["event_time"]["S"]}
    for field in EVENT_FIELDS:
        if field not in item:
            continue
        value = item[field]
        event[field] = {k: v["S"] for k, v in value["M"].items()} if "M" in value else value["S"]
    return event


class TrackingStore:
    def __init__(self, table_name: str, dynamodb):
        self.table_name = table_name
        self.dynamodb = dynamodb

    def put_update(self, update: dict, received_at: str, request_id: str) -> str:
        """Store a normalized update once; return "created", or "duplicate" for a redelivery."""
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=_to_item(update, received_at, request_id),
                # "timestamp" is a DynamoDB reserved word, so both key names go through placeholders.
                ConditionExpression="attribute_not_exists(#pk) AND attribute_not_exists(#sk)",
                ExpressionAttributeNames={"#pk": "tracking_id", "#sk": "timestamp"},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return "duplicate"
            raise StorageUnavailable(f"table {self.table_name} rejected the write: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"table {self.table_name} is unreachable: {exc}") from exc
        return "created"

    def _query(self, tracking_id: str, limit: int, start_key: Optional[dict] = None) -> dict:
        arguments = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :id",
            "ExpressionAttributeNames": {"#pk": "tracking_id"},
            "ExpressionAttributeValues": {":id": {"S": tracking_id}},
            "ScanIndexForward": False,
            "Limit": limit,
            "ConsistentRead": True,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if start_key:
            arguments["ExclusiveStartKey"] = start_key
        try:
            return self.dynamodb.query(**arguments)
        except (ClientError, BotoCoreError) as exc:
            raise StorageUnavailable(f"table {self.table_name} could not be read: {exc}") from exc

    def latest(self, tracking_id: str) -> Optional[dict]:
        """Return the event with the greatest event time, reading one item."""
        items = self._query(tracking_id, 1)["Items"]
        return _from_item(items[0]) if items else None

    def history(self, tracking_id: str, limit: int, after: Optional[str] = None) -> tuple:
        """Return (events newest first, sort key to continue after or None)."""
        start_key = {"tracking_id": {"S": tracking_id}, "timestamp": {"S": after}} if after else None
        response = self._query(tracking_id, limit, start_key)
        events = [_from_item(item) for item in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return events, (last["timestamp"]["S"] if last else None)
