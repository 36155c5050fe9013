"""Ingestion and status lookup, independent of HTTP: the router in ``app`` calls these."""

from datetime import datetime, timezone
from typing import Callable, Optional

from aws_lambda_powertools.metrics import MetricUnit

from tracking import aws, contract, tokens
from tracking.config import FunctionConfig
from tracking.errors import ParkingFailed, RequestInvalid, ShipmentNotFound, StorageUnavailable
from tracking.observability import logger, metrics
from tracking.parking import DeadLetterParking
from tracking.store import TrackingStore
from tracking.validation import format_timestamp, validate_status_query, validate_track_body

RESULT_STATUS = {"created": 201, "duplicate": 200, "queued": 202}
RESULT_METRIC = {
    "created": contract.METRIC_UPDATES_CREATED,
    "duplicate": contract.METRIC_UPDATES_DUPLICATE,
    "queued": contract.METRIC_UPDATES_QUEUED,
}
WRITE_RESERVE_MS = aws.TABLE_WRITE_BUDGET_MS + aws.PARKING_BUDGET_MS


def _item_request_id(request_id: str, index: int) -> str:
    """Return the request id stored with one item of a request, or "" when the request has none.

    Per item, so a repeat inside one batch is still a duplicate of the first copy. Without a
    request id (a hand-made event) none is stored, so a redelivery can never pass for a retry.
    """
    return f"{request_id}/{index}" if request_id else ""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class TrackingService:
    def __init__(
        self,
        config: FunctionConfig,
        store: TrackingStore,
        parking: DeadLetterParking,
        token_key: Callable[[], bytes],
        clock: Callable[[], datetime] = utc_now,
    ):
        self.config = config
        self.store = store
        self.parking = parking
        self.token_key = token_key
        self.clock = clock

    def ingest(self, body, request_id: str, remaining_ms: Optional[Callable[[], int]] = None) -> tuple:
        """Store one update or a batch; return (HTTP status, response body).

        Raises ``RequestInvalid`` before anything is written, and ``ParkingFailed`` when an
        update could be neither stored nor parked (the caller then retries, which is safe
        because stored updates come back as duplicates). ``remaining_ms`` returns the time the
        invocation has left. A table write starts only while it and a parking call both still
        fit; the updates after a failed or skipped write are parked together.
        """
        now = self.clock()
        is_batch, updates = validate_track_body(body, now)
        received_at = format_timestamp(now)
        results: list = [None] * len(updates)
        to_park: list = []
        storage_error = None
        for index, update in enumerate(updates):
            if storage_error is None and remaining_ms is not None and remaining_ms() < WRITE_RESERVE_MS:
                storage_error = "not enough time left in this invocation to try the table"
                logger.warning("parking the rest of the request", error=storage_error)
            if storage_error is not None:
                # Later items of this request skip the table, so a dead table cannot use up the
                # function's time with one retry cycle per item.
                to_park.append(index)
                continue
            try:
                results[index] = self.store.put_update(update, received_at, _item_request_id(request_id, index))
            except StorageUnavailable as exc:
                storage_error = str(exc)
                logger.warning("table write failed, parking updates", error=storage_error)
                to_park.append(index)
        try:
            if to_park:
                self._park([updates[index] for index in to_park], storage_error, request_id, received_at, remaining_ms)
                for index in to_park:
                    results[index] = "queued"
        finally:
            # Also when parking fails: the updates stored before it count, although the response is 503.
            for result in results:
                if result is not None:
                    metrics.add_metric(name=RESULT_METRIC[result], unit=MetricUnit.Count, value=1)
        entries = [
            {
                "result": result,
                "tracking_id": update["tracking_id"],
                "timestamp": update["timestamp"],
                "status": update["status"],
            }
            for result, update in zip(results, updates)
        ]
        if is_batch:
            return 200, {"results": entries}
        return RESULT_STATUS[entries[0]["result"]], entries[0]

    def _park(
        self, updates: list, error: str, request_id: str, received_at: str, remaining_ms: Optional[Callable[[], int]]
    ) -> None:
        if not self.config.park_failed_writes:
            raise ParkingFailed(f"parking is switched off and the table failed: {error}")

        def has_time() -> bool:
            return remaining_ms is None or remaining_ms() >= aws.PARKING_BUDGET_MS

        try:
            self.parking.park(updates, error, request_id, received_at, has_time)
        except ParkingFailed:
            metrics.add_metric(name=contract.METRIC_PARKING_FAILED, unit=MetricUnit.Count, value=1)
            raise

    def status(self, params: dict) -> dict:
        """Return the latest event of a shipment, with a page of its history when asked."""
        metrics.add_metric(name=contract.METRIC_STATUS_LOOKUPS, unit=MetricUnit.Count, value=1)
        query = validate_status_query(params, self.config.max_history_limit, self.config.default_history_limit)
        tracking_id = query["tracking_id"]
        after = None
        if query["next_token"] is not None:
            if not query["history"]:
                raise RequestInvalid(
                    "invalid query string",
                    [
                        {
                            "field": "next_token",
                            "rule": "dependency",
                            "message": "next_token pages the history; send it with history=true",
                        }
                    ],
                )
            after = tokens.verify(self.token_key(), query["next_token"], tracking_id)

        latest = self.store.latest(tracking_id)
        if latest is None:
            metrics.add_metric(name=contract.METRIC_STATUS_NOT_FOUND, unit=MetricUnit.Count, value=1)
            raise ShipmentNotFound(f"no tracking updates for tracking_id {tracking_id}")
        response = {"tracking_id": tracking_id, **latest}
        if query["history"] and self.config.history_enabled:
            events, last = self.store.history(tracking_id, query["limit"], after)
            response["events"] = events
            if last is not None:
                response["next_token"] = tokens.issue(self.token_key(), tracking_id, last)
        return response
