"""The tracking table: one item per distinct event, read newest first.

Item key: ``tracking_id`` (normalized) and ``timestamp`` = "<event time>#<digest>",
where the digest covers the whole normalized update. An identical redelivery maps to
the same key and is refused by a conditional write, while two different events at the
same instant get two keys. Event times are fixed-width UTC strings, so the sort key
orders events by event time, not by arrival.
"""

import calendar
import hashlib
import json
import time
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from tracking.errors import StorageUnavailable

EVENT_FIELDS = ("status", "carrier", "carrier_status", "location", "description")
# The attribute the table's time to live reads, as the foundation stack declares it.
EXPIRY_ATTRIBUTE = "expires_at"
SECONDS_PER_DAY = 24 * 60 * 60


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


def expiry_epoch_seconds(received_at: str, retention_days: int) -> int:
    """Return when an item received at ``received_at`` (the contract's UTC form) may be deleted."""
    received = time.strptime(received_at[:19], "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(received) + retention_days * SECONDS_PER_DAY


class TrackingStore:
    def __init__(self, table_name: str, dynamodb, retention_days: Optional[int] = None):
        self.table_name = table_name
        self.dynamodb = dynamodb
        # Unset keeps items forever; set, each item carries the expiry time the table's TTL reads.
        self.retention_days = retention_days

    def put_update(self, update: dict, received_at: str, request_id: str) -> str:
        """Store a normalized update once; return "created", or "duplicate" for a redelivery."""
        item = _to_item(update, received_at, request_id)
        if self.retention_days is not None:
            item[EXPIRY_ATTRIBUTE] = {"N": str(expiry_epoch_seconds(received_at, self.retention_days))}
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=item,
                # "timestamp" is a DynamoDB reserved word, so both key names go through placeholders.
                ConditionExpression="attribute_not_exists(#pk) AND attribute_not_exists(#sk)",
                ExpressionAttributeNames={"#pk": "tracking_id", "#sk": "timestamp"},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                # A retry of this very request can meet the item its first attempt stored, when
                # only the response to that attempt was lost, and that is still a new update.
                stored_by = exc.response.get("Item", {}).get("request_id", {}).get("S")
                return "created" if request_id and stored_by == request_id else "duplicate"
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
