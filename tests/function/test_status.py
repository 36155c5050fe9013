"""GET /status through the real handler against moto server."""

import pytest

from tracking import contract


def _update(minute: int, status: str = "in_transit", tracking_id: str = "EW112720413FR") -> dict:
    return {
        "tracking_id": tracking_id,
        "timestamp": f"2023-03-0{1 + minute // 60}T10:{minute % 60:02d}:00+01:00",
        "status": status,
    }


def test_status_latest_by_event_time_not_arrival(emulated, invoke):
    invoke("POST", "/track", _update(30, "delivered"))
    invoke("POST", "/track", _update(5, "in_transit"))

    status, body = invoke("GET", "/status", query={"tracking_id": "ew112720413fr"})

    assert status == 200
    assert body == {"tracking_id": "EW112720413FR", "status": "delivered", "timestamp": "2023-03-01T09:30:00.000Z"}


def test_status_history_newest_first(emulated, invoke):
    for minute in (1, 3, 2):
        invoke("POST", "/track", _update(minute))

    status, body = invoke("GET", "/status", query={"tracking_id": "EW112720413FR", "history": "true"})

    assert status == 200
    assert [e["timestamp"] for e in body["events"]] == [
        "2023-03-01T09:03:00.000Z",
        "2023-03-01T09:02:00.000Z",
        "2023-03-01T09:01:00.000Z",
    ]
    assert "next_token" not in body


def test_status_history_pages_cover_every_event_once(emulated, invoke):
    for minute in range(7):
        invoke("POST", "/track", _update(minute))
    seen, token = [], None
    while True:
        query = {"tracking_id": "EW112720413FR", "history": "true", "limit": "3"}
        if token:
            query["next_token"] = token
        status, body = invoke("GET", "/status", query=query)
        assert status == 200, body
        seen.extend(e["timestamp"] for e in body["events"])
        token = body.get("next_token")
        if not token:
            break

    assert len(seen) == 7
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(
    "tamper",
    ["flip-payload", "flip-signature", "garbage", "other-shipment", "inserted-junk", "padding", "std-alphabet"],
)
def test_status_altered_token_rejected(emulated, invoke, tamper):
    for minute in range(3):
        invoke("POST", "/track", _update(minute))
        invoke("POST", "/track", _update(minute, tracking_id="OTHER1"))
    _, page = invoke("GET", "/status", query={"tracking_id": "EW112720413FR", "history": "true", "limit": "1"})
    token = page["next_token"]
    payload, signature = token.split(".")
    tracking_id = "EW112720413FR"
    if tamper == "flip-payload":
        token = ("A" if payload[0] != "A" else "B") + payload[1:] + "." + signature
    elif tamper == "flip-signature":
        token = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    elif tamper == "garbage":
        token = "not-a-token"
    elif tamper == "inserted-junk":
        token = payload[:4] + "!!**" + payload[4:] + "." + signature
    elif tamper == "padding":
        token = token + "=="
    elif tamper == "std-alphabet":
        token = token.replace("-", "+").replace("_", "/")
        if "+" not in token and "/" not in token:
            token = token + "+"
    else:
        tracking_id = "OTHER1"

    status, body = invoke("GET", "/status", query={"tracking_id": tracking_id, "history": "true", "next_token": token})

    assert status == 400, body
    assert body["errors"][0]["field"] == "next_token"


def test_status_unknown_shipment_is_404(emulated, invoke):
    status, body = invoke("GET", "/status", query={"tracking_id": "NOPE"})

    assert status == 404
    assert "NOPE" in body["message"]


@pytest.mark.parametrize(
    "query, field",
    [
        ({}, "tracking_id"),
        ({"tracking_id": "A/B"}, "tracking_id"),
        ({"tracking_id": "A", "limit": "0"}, "limit"),
        ({"tracking_id": "A", "limit": "101"}, "limit"),
        ({"tracking_id": "A", "history": "yes"}, "history"),
        ({"tracking_id": "A", "next_token": "x"}, "next_token"),
    ],
)
def test_status_invalid_query_names_field(emulated, invoke, query, field):
    status, body = invoke("GET", "/status", query=query or None)

    assert status == 400, body
    assert body["errors"][0]["field"] == field


def test_status_reads_one_item_for_latest(emulated, invoke, monkeypatch):
    for minute in range(20):
        invoke("POST", "/track", _update(minute))
    from tracking import app

    calls = []
    dynamodb = app.service().store.dynamodb
    original = dynamodb.query
    monkeypatch.setattr(dynamodb, "query", lambda **kw: calls.append(kw) or original(**kw))

    invoke("GET", "/status", query={"tracking_id": "EW112720413FR"})

    assert [c["Limit"] for c in calls] == [1]
    assert calls[0]["ScanIndexForward"] is False


def test_status_metrics_names_are_contract_constants():
    assert contract.METRIC_STATUS_LOOKUPS in contract.BUSINESS_METRICS


def test_status_repeated_parameter_rejected(emulated, invoke):
    invoke("POST", "/track", _update(1))
    status, body = invoke(
        "GET",
        "/status",
        query={"tracking_id": "EW112720413FR"},
        multi_query={"tracking_id": ["OTHER", "EW112720413FR"]},
    )

    assert status == 400, body
    assert body["errors"][0] == {
        "field": "tracking_id",
        "rule": "repeated",
        "message": "tracking_id is given 2 times; send it once",
    }
