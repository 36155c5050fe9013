"""POST /track through the real handler against moto server."""

from datetime import datetime, timedelta, timezone

UPDATE = {
    "tracking_id": "1z 999 aa1 0123456784",
    "timestamp": "2024-08-15T10:30:00.123456-05:00",
    "status": "in_transit",
    "carrier": "UPS",
    "location": {"city": "Louisville", "region": "KY", "country": "US"},
}


def test_track_single_update_created(emulated, invoke):
    status, body = invoke("POST", "/track", UPDATE)

    assert status == 201
    assert body == {
        "result": "created",
        "tracking_id": "1Z999AA10123456784",
        "timestamp": "2024-08-15T15:30:00.123Z",
        "status": "in_transit",
    }
    assert len(emulated.stored_items("1Z999AA10123456784")) == 1


def test_track_identical_redelivery_is_duplicate(emulated, invoke):
    invoke("POST", "/track", UPDATE)
    respelled = dict(UPDATE, tracking_id="1Z999AA10123456784", timestamp="2024-08-15T15:30:00.123Z")

    status, body = invoke("POST", "/track", respelled)

    assert status == 200
    assert body["result"] == "duplicate"
    assert len(emulated.stored_items()) == 1


def test_track_same_instant_different_content_both_kept(emulated, invoke):
    invoke("POST", "/track", UPDATE)
    status, body = invoke("POST", "/track", dict(UPDATE, status="exception", description="Weather delay"))

    assert status == 201, body
    assert len(emulated.stored_items()) == 2


def test_track_batch_results_in_request_order(emulated, invoke):
    second = dict(UPDATE, timestamp="2024-08-16T08:00:00Z", status="delivered")
    status, body = invoke("POST", "/track", {"updates": [UPDATE, second, UPDATE]})

    assert status == 200
    assert [r["result"] for r in body["results"]] == ["created", "created", "duplicate"]
    assert [r["status"] for r in body["results"]] == ["in_transit", "delivered", "in_transit"]
    assert len(emulated.stored_items()) == 2


def test_track_batch_with_invalid_item_writes_nothing(emulated, invoke):
    broken = dict(UPDATE, timestamp="2024-08-15T10:30:00")
    status, body = invoke("POST", "/track", {"updates": [UPDATE, broken, dict(UPDATE, status="lost")]})

    assert status == 400
    assert "items 1, 2" in body["message"]
    assert [(e["item"], e["field"], e["rule"]) for e in body["errors"]] == [
        (1, "updates[1].timestamp", "offset"),
        (2, "updates[2].status", "enum"),
    ]
    assert emulated.stored_items() == []


def test_track_batch_over_limit_rejected(emulated, invoke):
    status, body = invoke("POST", "/track", {"updates": [UPDATE] * 26})

    assert status == 400
    assert body["errors"][0]["rule"] == "maxItems"
    assert emulated.stored_items() == []


def test_track_unknown_field_rejected_with_name(emulated, invoke):
    status, body = invoke("POST", "/track", dict(UPDATE, statuss="delivered"))

    assert status == 400
    assert body["errors"][0]["field"] == "statuss"
    assert "allowed fields" in body["errors"][0]["message"]


def test_track_invalid_json_names_position(emulated, invoke):
    status, body = invoke("POST", "/track", raw_body='{"tracking_id": "A1",')

    assert status == 400
    assert body["errors"][0]["rule"] == "json"
    assert "line 1 column" in body["errors"][0]["message"]


def test_track_nan_rejected(emulated, invoke):
    status, body = invoke("POST", "/track", raw_body='{"tracking_id": NaN}')

    assert status == 400
    assert "NaN" in body["errors"][0]["message"]


def test_track_timestamp_window_enforced(emulated, invoke):
    future = (datetime.now(timezone.utc) + timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ")
    near_future = (datetime.now(timezone.utc) + timedelta(hours=23)).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert invoke("POST", "/track", dict(UPDATE, timestamp=future))[1]["errors"][0]["rule"] == "maximum"
    assert invoke("POST", "/track", dict(UPDATE, timestamp="1999-12-31T23:59:59Z"))[1]["errors"][0]["rule"] == "minimum"
    assert invoke("POST", "/track", dict(UPDATE, timestamp=near_future))[0] == 201


def test_track_empty_body_rejected(emulated, invoke):
    status, body = invoke("POST", "/track", raw_body="")

    assert status == 400
    assert "empty" in body["errors"][0]["message"]


def test_track_duplicate_key_rejected(emulated, invoke):
    status, body = invoke(
        "POST",
        "/track",
        raw_body='{"tracking_id": "A1", "tracking_id": "B2", '
        '"timestamp": "2024-06-01T08:30:00Z", "status": "in_transit"}',
    )

    assert status == 400
    assert body["errors"][0] == {
        "field": "tracking_id",
        "rule": "uniqueKeys",
        "message": "tracking_id appears more than once in one object; send each field once",
    }
    assert emulated.stored_items() == []


def test_track_lone_surrogate_rejected_not_500(emulated, invoke):
    status, body = invoke(
        "POST",
        "/track",
        raw_body='{"tracking_id": "A1", "timestamp": "2024-06-01T08:30:00Z", '
        '"status": "in_transit", "location": {"city": "x\\ud800y"}}',
    )

    assert status == 400, body
    assert body["errors"][0]["field"] == "location.city"
    assert body["errors"][0]["rule"] == "unicode"


def test_track_empty_location_same_as_none(emulated, invoke):
    invoke("POST", "/track", dict(UPDATE, location={}))
    status, body = invoke("POST", "/track", {k: v for k, v in UPDATE.items() if k != "location"})

    assert status == 200, body
    assert len(emulated.stored_items()) == 1


def test_track_without_retention_writes_no_expiry(emulated, invoke):
    invoke("POST", "/track", UPDATE)

    (item,) = emulated.stored_items()
    assert "expires_at" not in item


def test_track_with_retention_writes_expiry_from_arrival(emulated, invoke, monkeypatch):
    import json

    from shared import definitions
    from tests.function.conftest import reset_function_caches
    from tracking import contract

    monkeypatch.setenv(contract.ENV_API_CONFIG, json.dumps(definitions.api_config(item_retention_days=30)))
    reset_function_caches()
    before = int(datetime.now(timezone.utc).timestamp())
    status, _ = invoke("POST", "/track", UPDATE)
    after = int(datetime.now(timezone.utc).timestamp())

    assert status == 201
    (item,) = emulated.stored_items()
    # Counted from arrival, not from the event time, which here lies years in the past.
    assert before + 30 * 86400 <= int(item["expires_at"]["N"]) <= after + 30 * 86400
