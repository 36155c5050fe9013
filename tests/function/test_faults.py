"""Partial AWS failure: throttled or missing table, unreachable queue, no Parameter Store.

Faults come from a proxy between the function and moto server, so botocore's real
retries and the function's real fallbacks run. After a redrive, every update that was
answered 201, 200 or 202 is stored exactly once, and nothing answered 503 is stored twice.
"""

import json
import random

import boto3
import pytest

from shared import settings
from tests.function.conftest import reset_function_caches
from tests.function.fault_proxy import INTERNAL_ERROR, THROTTLED, UNAVAILABLE, FaultProxy
from tracking import aws
from tracking.parking import parked_message
from tracking.redrive import MAX_FAILURES_IN_A_ROW, redrive
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

    assert first.as_dict() == {"received": 2, "created": 1, "duplicate": 1, "failed": 0, "invalid": 0, "undeleted": 0}
    assert second.as_dict() == {"received": 0, "created": 0, "duplicate": 0, "failed": 0, "invalid": 0, "undeleted": 0}
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
    """The table stores the write but its response is lost; botocore's retry meets the stored item."""
    proxy.fail_after_forward(PUT_ITEM, INTERNAL_ERROR)

    status, body = invoke("POST", "/track", _update(6))

    assert proxy.seen[PUT_ITEM] >= 2, "the write was not retried, so the test proves nothing"
    assert status == 201, body
    assert len(emulated.stored_items()) == 1


def test_short_deadline_parks_without_table(emulated, proxy, invoke, monkeypatch):
    from tests.function.conftest import LambdaContext

    # Time for a parking call with its retries, not for a table write as well.
    left = aws.TABLE_WRITE_BUDGET_MS + aws.PARKING_BUDGET_MS - 1
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", staticmethod(lambda: left))

    status, body = invoke("POST", "/track", _update(7))

    assert status == 202, body
    assert proxy.seen[PUT_ITEM] == 0
    assert emulated.parked_count() == 1


def test_no_time_to_park_gives_503(emulated, proxy, invoke, monkeypatch):
    from tests.function.conftest import LambdaContext

    left = aws.PARKING_BUDGET_MS - 1
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", staticmethod(lambda: left))

    status, body = invoke("POST", "/track", _update(8))

    assert status == 503, body
    assert proxy.seen[PUT_ITEM] == proxy.seen[SEND_MESSAGE + "Batch"] == 0
    assert emulated.parked_count() == 0
    assert emulated.stored_items() == []


def test_outage_parks_batch_in_three_calls(emulated, proxy, invoke):
    proxy.fail(PUT_ITEM, THROTTLED)

    status, body = invoke("POST", "/track", {"updates": [_update(n) for n in range(25)]})

    assert status == 200, body
    assert [entry["result"] for entry in body["results"]] == ["queued"] * 25
    # Ten messages per call: one call per item would let a slow queue run into the timeout.
    assert proxy.seen[SEND_MESSAGE + "Batch"] == 3
    assert emulated.parked_count() == 25


def test_slow_queue_stops_parking_before_the_timeout(emulated, proxy, invoke, monkeypatch):
    from tests.function.conftest import LambdaContext

    proxy.fail(PUT_ITEM, THROTTLED)
    # A clock that jumps as if each queue call took longer than the parking budget, so after the
    # first of the three calls the rest no longer fits.
    budget = {"left": settings.BY_KEY["timeout"].default * 1000}

    def spend_on_queue_call(operation: str) -> None:
        if operation.startswith(SEND_MESSAGE):
            budget["left"] = aws.PARKING_BUDGET_MS - 1

    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", staticmethod(lambda: budget["left"]))
    proxy.on_operation = spend_on_queue_call

    status, body = invoke("POST", "/track", {"updates": [_update(n) for n in range(25)]})

    assert status == 503, body
    assert proxy.seen[SEND_MESSAGE + "Batch"] == 1


def test_redrive_during_outage_stops_and_releases_every_message(emulated, proxy, invoke):
    proxy.fail(PUT_ITEM, THROTTLED)
    invoke("POST", "/track", {"updates": [_update(n) for n in range(12)]})
    throttled_table = boto3.client("dynamodb", endpoint_url=proxy.endpoint, region_name="us-west-2")
    store = TrackingStore(emulated.table_name, throttled_table)

    report = redrive(emulated.client("sqs"), emulated.queue_url, store, "2024-05-02T00:00:00.000Z", wait_seconds=0)

    # Each message tried spends a full retry cycle on the dead table, so the run gives up early.
    assert report.received == report.failed == MAX_FAILURES_IN_A_ROW
    assert "failed writes in a row" in report.stopped
    proxy.heal()
    # Those it tried and those it received but never tried are all visible again at once.
    assert _redrive(emulated).created == 12, "messages were not released for the next run"


def test_redrive_failures_between_successes_do_not_stop_it(emulated, proxy, invoke):
    proxy.fail(PUT_ITEM, THROTTLED)
    invoke("POST", "/track", {"updates": [_update(n) for n in range(8)]})
    proxy.heal()
    # Only the writes for one shipment fail (2 of the 8), so failures never come 5 in a row.
    proxy.fail_when_body_holds(PUT_ITEM, b'"FAULT1"', THROTTLED)
    table = boto3.client("dynamodb", endpoint_url=proxy.endpoint, region_name="us-west-2")
    store = TrackingStore(emulated.table_name, table)

    report = redrive(emulated.client("sqs"), emulated.queue_url, store, "2024-05-02T00:00:00.000Z", wait_seconds=0)

    assert report.stopped == ""
    assert (report.received, report.created, report.failed) == (8, 6, 2)


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


_ONE_UPDATE = '{"tracking_id": "BAD2", "timestamp": "2024-05-01T00:00:00Z", "status": "delivered"}'


@pytest.mark.parametrize(
    "body",
    [
        "[1, 2]",
        "null",
        '"text"',
        "not json",
        '{"kind": "tracking-update", "version": 99}',
        '{"kind": "tracking-update", "version": true, "update": ' + _ONE_UPDATE + "}",
        '{"kind": "tracking-update", "version": 1.0, "update": ' + _ONE_UPDATE + "}",
        '{"kind": "tracking-update", "version": 1, "update": {"updates": [' + _ONE_UPDATE + "]}}",
    ],
)
def test_redrive_counts_malformed_message_invalid(emulated, body):
    sqs = emulated.client("sqs")
    sqs.send_message(QueueUrl=emulated.queue_url, MessageBody=body)
    update = validate_track_body(_update(8))[1][0]
    from tracking.parking import parked_message

    sqs.send_message(QueueUrl=emulated.queue_url, MessageBody=parked_message(update, "e", "r", "2024-05-01T00:00:00Z"))

    report = _redrive(emulated)

    assert report.invalid == 1
    assert report.created == 1


_HOSTILE_UPDATE = '{"tracking_id": "BAD1", "timestamp": "2024-05-01T00:00:00Z", "status": "delivered"'


@pytest.mark.parametrize(
    "body",
    [
        '{"kind": "tracking-update", "version": 1, "update": ' + "[" * 60_000 + "]" * 60_000 + "}",
        '{"kind": "tracking-update", "version": 1, "update": ' + _HOSTILE_UPDATE + ', "description": "\\ud800"}}',
        '{"kind": "tracking-update", "version": 1, "version": 1, "update": ' + _HOSTILE_UPDATE + "}}",
    ],
    ids=["deep-nesting", "lone-surrogate", "repeated-key"],
)
def test_redrive_survives_hostile_message_and_releases_it(emulated, body):
    sqs = emulated.client("sqs")
    good = {"tracking_id": "GOOD1", "timestamp": "2024-05-01T00:00:00Z", "status": "delivered"}
    sqs.send_message(QueueUrl=emulated.queue_url, MessageBody=body)
    good_message = parked_message(good, "e", "r", "2024-05-01T00:00:00.000Z")
    sqs.send_message(QueueUrl=emulated.queue_url, MessageBody=good_message)

    report = _redrive(emulated)

    assert (report.received, report.created, report.invalid) == (2, 1, 1), report.errors
    assert "not a parked update" in report.errors[0]
    # Released at the end of the run, not hidden for the whole visibility timeout.
    assert emulated.parked_count() == 1


@pytest.mark.parametrize(
    "parked_at", ["2024-02-30T00:00:00.000Z", "2024-05-01T25:61:61.000Z", "2999-01-01T00:00:00.000Z"]
)
def test_redrive_replaces_an_impossible_arrival_time(emulated, parked_at):
    # With a retention the arrival time becomes an expiry, so an impossible one must never reach it.
    update = {"tracking_id": "ODD1", "timestamp": "2024-05-01T00:00:00Z", "status": "delivered"}
    emulated.client("sqs").send_message(
        QueueUrl=emulated.queue_url, MessageBody=parked_message(update, "throttled", "req-11", parked_at)
    )
    store = TrackingStore(emulated.table_name, emulated.client("dynamodb"), retention_days=7)

    report = redrive(emulated.client("sqs"), emulated.queue_url, store, "2024-05-02T00:00:00.000Z", wait_seconds=0)

    assert report.created == 1, report.errors
    (item,) = emulated.stored_items()
    assert item["received_at"]["S"] == "2024-05-02T00:00:00.000Z"


def test_redrive_keeps_the_arrival_time_the_api_recorded(emulated):
    update = {"tracking_id": "LATE1", "timestamp": "2024-05-01T00:00:00Z", "status": "delivered"}
    message = parked_message(update, "throttled", "req-9", "2024-05-01T00:00:05.000Z")
    emulated.client("sqs").send_message(QueueUrl=emulated.queue_url, MessageBody=message)

    _redrive(emulated)

    (item,) = emulated.stored_items()
    assert item["received_at"]["S"] == "2024-05-01T00:00:05.000Z"


def test_redrive_counts_undeleted_messages(emulated, proxy):
    update = {"tracking_id": "KEEP1", "timestamp": "2024-05-01T00:00:00Z", "status": "delivered"}
    message = parked_message(update, "throttled", "req-10", "2024-05-01T00:00:05.000Z")
    emulated.client("sqs").send_message(QueueUrl=emulated.queue_url, MessageBody=message)
    proxy.fail("AmazonSQS.DeleteMessage", UNAVAILABLE)
    flaky_queue = boto3.client("sqs", endpoint_url=proxy.endpoint, region_name="us-west-2")
    store = TrackingStore(emulated.table_name, emulated.client("dynamodb"))

    first = redrive(flaky_queue, emulated.queue_url, store, "2024-05-02T00:00:00.000Z", wait_seconds=0)
    proxy.heal()
    second = _redrive(emulated)

    assert (first.created, first.undeleted) == (1, 1)
    # A new receipt is a new attempt: the update stored by the first run is a duplicate now.
    assert (second.received, second.created, second.duplicate) == (1, 0, 1)
    assert emulated.parked_count() == 0


def test_parked_message_is_ascii():
    # SQS rejects bodies holding U+FFFE or U+FFFF, which a description may hold.
    update = {"tracking_id": "CHARS1", "timestamp": "2024-05-01T00:00:00.000Z", "status": "delivered",
              "description": "Zustellung \uffff \ufffe \U0001f4e6 entrega"}

    body = parked_message(update, "throttled", "req-12", "2024-05-01T00:00:00.000Z")

    assert body.isascii()
    assert json.loads(body)["update"] == update


def test_parameter_store_client_has_bounded_retries(emulated, proxy, invoke):
    invoke("POST", "/track", _update(9))
    invoke("POST", "/track", _update(4))
    proxy.fail(PARAMETER_STORE, UNAVAILABLE)

    # Two events and a page of one: the response carries a next_token, signed with the key.
    status, body = invoke("GET", "/status", query={"tracking_id": "FAULT4", "history": "true", "limit": "1"})

    assert status == 503, body
    assert "history paging is unavailable" in body["message"]
    # The function's own client, with the attempts of tracking.aws, not the SDK default's.
    assert proxy.seen["AmazonSSM.GetParameter"] == aws.CONFIGS["ssm"].retries["total_max_attempts"]


def test_updates_stored_before_a_503_are_still_counted(emulated, proxy, invoke, capsys):
    from tests.function.test_observability import _metrics, _records
    from tracking import contract

    # The first item is stored, the second meets a failing table, and the queue is down too.
    proxy.fail_when_body_holds(PUT_ITEM, b'"FAULT2"', THROTTLED)
    proxy.fail(SEND_MESSAGE, UNAVAILABLE)
    capsys.readouterr()

    status, _ = invoke("POST", "/track", {"updates": [_update(1), _update(2), _update(3)]})

    metrics = _metrics(_records(capsys.readouterr().out))
    assert status == 503
    assert len(emulated.stored_items()) == 1
    assert metrics[contract.METRIC_UPDATES_CREATED][2] in (1.0, [1.0])
    assert contract.METRIC_PARKING_FAILED in metrics


# Three uses of the key: the first page signs its token, the second checks it and signs its own.
@pytest.mark.parametrize(("max_age", "reads"), [("300", 1), ("0", 3)])
def test_page_token_key_decrypted_and_cached(emulated, proxy, invoke, monkeypatch, max_age, reads):
    from tracking import contract

    monkeypatch.setenv(contract.ENV_PARAMETER_MAX_AGE, max_age)
    reset_function_caches()
    for n in (4, 9, 14):
        invoke("POST", "/track", _update(n))

    query = {"tracking_id": "FAULT4", "history": "true", "limit": "1"}
    _, first = invoke("GET", "/status", query=query)
    status, second = invoke("GET", "/status", query=dict(query, next_token=first["next_token"]))

    assert status == 200, second
    key_reads = [json.loads(body) for operation, body in proxy.requests if operation == "AmazonSSM.GetParameter"]
    assert len(key_reads) == reads
    assert all(read["WithDecryption"] is True for read in key_reads)
