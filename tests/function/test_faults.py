"""Partial AWS failure: throttled or missing table, unreachable queue, no Parameter Store.

Faults come from a proxy between the function and moto server, so botocore's real
retries and the function's real fallbacks run. After a redrive, every update that was
answered 201, 200 or 202 is stored exactly once, and nothing answered 503 is stored twice.
"""

import json
import random

import boto3
import pytest

from tests.function.conftest import reset_function_caches
from tests.function.fault_proxy import INTERNAL_ERROR, THROTTLED, UNAVAILABLE, FaultProxy
from tracking import aws
from tracking.redrive import redrive
from tracking.store import TrackingStore, sort_key
from tracking.validation import validate_track_body

PUT_ITEM = "DynamoDB_20120810.PutItem"
QUERY = "DynamoDB_20120810.Query"
SEND_MESSAGE = "AmazonSQS.SendMessage"
PARAMETER_STORE = "AmazonSSM."


def _update(n: int, status: str = "in_transit") -> dict:
    return {"tracking_id": f"FAULT{n % 5}", "timestamp": f"2024-05-01T12:{n % 60:02d}:00Z", "status": status}


@pytest.fixture
def proxy(emulated, monkeypatch):
    fault_proxy = FaultProxy(emulated.endpoint).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.endpoint)
    reset_function_caches()
    yield fault_proxy
    fault_proxy.stop()


def _redrive(emulated):
    store = TrackingStore(emulated.table_name, emulated.client("dynamodb"))
    return redrive(emulated.client("sqs"), emulated.queue_url, store, "2024-05-02T00:00:00.000Z", wait_seconds=0)


def test_throttled_table_parks_after_bounded_retries(emulated, proxy, invoke):
    proxy.fail(PUT_ITEM, THROTTLED)

    status, body = invoke("POST", "/track", _update(1))

    assert status == 202, body
    assert body["result"] == "queued"
    assert proxy.seen[PUT_ITEM] == aws.MAX_ATTEMPTS
    assert emulated.parked_count() == 1
    assert emulated.stored_items() == []


def test_missing_table_parks_with_error(emulated, invoke):
    emulated.client("dynamodb").delete_table(TableName=emulated.table_name)

    status, body = invoke("POST", "/track", _update(2))

    assert status == 202, body
    message = emulated.client("sqs").receive_message(QueueUrl=emulated.queue_url)["Messages"][0]
    parked = json.loads(message["Body"])
    assert parked["update"]["tracking_id"] == "FAULT2"
    assert "ResourceNotFoundException" in parked["error"]


def test_table_and_queue_down_is_503_and_nothing_stored(emulated, proxy, invoke):
    proxy.fail(PUT_ITEM, INTERNAL_ERROR)
    proxy.fail(SEND_MESSAGE, UNAVAILABLE)

    status, body = invoke("POST", "/track", _update(3))

    assert status == 503, body
    assert "nothing was acknowledged" in body["message"]
    proxy.heal()
    assert emulated.stored_items() == []
    assert emulated.parked_count() == 0


def test_batch_during_outage_tries_table_once(emulated, proxy, invoke):
    proxy.fail(PUT_ITEM, THROTTLED)

    status, body = invoke("POST", "/track", {"updates": [_update(n) for n in range(10)]})

    assert status == 200
    assert {r["result"] for r in body["results"]} == {"queued"}
    assert proxy.seen[PUT_ITEM] == aws.MAX_ATTEMPTS
    assert emulated.parked_count() == 10


def test_redrive_stores_parked_updates_once(emulated, proxy, invoke):
    invoke("POST", "/track", _update(4))  # stored before the outage
    proxy.fail(PUT_ITEM, THROTTLED)
    invoke("POST", "/track", _update(4))  # the client's retry during the outage: parked
    invoke("POST", "/track", _update(5))
    proxy.heal()

    first = _redrive(emulated)
    second = _redrive(emulated)

    assert first.as_dict() == {"received": 2, "created": 1, "duplicate": 1, "failed": 0, "invalid": 0}
    assert second.as_dict() == {"received": 0, "created": 0, "duplicate": 0, "failed": 0, "invalid": 0}
    assert len(emulated.stored_items()) == 2
    assert emulated.parked_count() == 0


def test_redrive_keeps_foreign_messages(emulated):
    emulated.client("sqs").send_message(QueueUrl=emulated.queue_url, MessageBody='{"kind": "other"}')

    report = _redrive(emulated)

    assert report.invalid == 1
    assert "kind" in report.errors[0]


def test_parameter_store_down_at_cold_start(emulated, proxy, invoke):
    proxy.fail(PARAMETER_STORE, UNAVAILABLE)
    for minute in range(3):
        assert invoke("POST", "/track", _update(minute * 5))[0] == 201

    latest = invoke("GET", "/status", query={"tracking_id": "FAULT0"})
    paged = invoke("GET", "/status", query={"tracking_id": "FAULT0", "history": "true", "limit": "1"})

    assert latest[0] == 200
    assert paged[0] == 503
    assert "history paging" in paged[1]["message"]


def test_status_with_table_down_is_503(emulated, proxy, invoke):
    proxy.fail(QUERY, INTERNAL_ERROR)

    status, body = invoke("GET", "/status", query={"tracking_id": "FAULT0"})

    assert status == 503
    assert "retry" in body["message"]


def test_acknowledged_updates_stored_exactly_once(emulated, proxy, invoke):
    rng = random.Random(20240501)  # fixed seed: a failure replays identically
    pool = [_update(n, status) for n in range(12) for status in ("in_transit", "delivered")]
    acknowledged, refused = set(), set()
    for _ in range(30):
        proxy.heal()
        fault = rng.choice(["none", "none", "none", "table", "table+queue"])
        if fault != "none":
            proxy.fail(PUT_ITEM, THROTTLED)
        if fault == "table+queue":
            proxy.fail(SEND_MESSAGE, UNAVAILABLE)
        update = rng.choice(pool)
        key = sort_key(validate_track_body(update)[1][0])
        status, _ = invoke("POST", "/track", update)
        assert status in (200, 201, 202, 503)
        (refused if status == 503 else acknowledged).add((update["tracking_id"], key))
    proxy.heal()

    _redrive(emulated)

    stored = [(i["tracking_id"]["S"], i["timestamp"]["S"]) for i in emulated.stored_items()]
    assert len(stored) == len(set(stored))
    assert set(stored) == acknowledged
    assert refused - acknowledged, "the seed should produce at least one update that only ever got 503"
    assert not (refused - acknowledged) & set(stored)


def test_lost_answer_retry_still_created(emulated, proxy, invoke):
    """The table stores the write but its answer is lost; botocore's retry meets the stored item."""
    proxy.fail_after_forward(PUT_ITEM, INTERNAL_ERROR)

    status, body = invoke("POST", "/track", _update(6))

    assert proxy.seen[PUT_ITEM] >= 2, "the write was not retried, so the test proves nothing"
    assert status == 201, body
    assert len(emulated.stored_items()) == 1


def test_short_deadline_parks_without_table(emulated, proxy, invoke, monkeypatch):
    from tests.function.conftest import LambdaContext

    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", staticmethod(lambda: 3_000))

    status, body = invoke("POST", "/track", _update(7))

    assert status == 202, body
    assert proxy.seen[PUT_ITEM] == 0
    assert emulated.parked_count() == 1


def test_redrive_during_outage_reads_each_message_once(emulated, proxy, invoke):
    proxy.fail(PUT_ITEM, THROTTLED)
    invoke("POST", "/track", {"updates": [_update(n) for n in range(12)]})
    throttled_table = boto3.client("dynamodb", endpoint_url=proxy.endpoint, region_name="us-west-2")
    store = TrackingStore(emulated.table_name, throttled_table)

    report = redrive(emulated.client("sqs"), emulated.queue_url, store, "2024-05-02T00:00:00.000Z", wait_seconds=0)

    assert report.received == 12
    assert report.failed == 12
    proxy.heal()
    assert _redrive(emulated).created == 12, "failed messages were not released for the next run"


def test_redrive_honours_max_messages(emulated, proxy, invoke):
    proxy.fail(PUT_ITEM, THROTTLED)
    invoke("POST", "/track", {"updates": [_update(n) for n in range(5)]})
    proxy.heal()
    store = TrackingStore(emulated.table_name, emulated.client("dynamodb"))

    report = redrive(
        emulated.client("sqs"), emulated.queue_url, store, "2024-05-02T00:00:00.000Z", max_messages=1, wait_seconds=0
    )

    assert report.received == 1
    assert len(emulated.stored_items()) == 1


@pytest.mark.parametrize("body", ["[1, 2]", "null", '"text"', "not json", '{"kind": "tracking-update", "version": 99}'])
def test_redrive_counts_malformed_message_invalid(emulated, body):
    sqs = emulated.client("sqs")
    sqs.send_message(QueueUrl=emulated.queue_url, MessageBody=body)
    update = validate_track_body(_update(8))[1][0]
    from tracking.parking import parked_message

    sqs.send_message(QueueUrl=emulated.queue_url, MessageBody=parked_message(update, "e", "r", "2024-05-01T00:00:00Z"))

    report = _redrive(emulated)

    assert report.invalid == 1
    assert report.created == 1
