"""The local API end to end: signed HTTP on loopback, request validation, the real function."""

import json

import pytest

from devkit.local import replay
from tests.local.helpers import send_exact, sign

SAMPLE_FILES = replay.sample_files()


def update(tracking_id: str, **fields) -> dict:
    body = {"tracking_id": tracking_id, "timestamp": "2024-06-01T08:30:00+02:00", "status": "in_transit"}
    body.update(fields)
    return body


def test_sample_files_found():
    assert len(SAMPLE_FILES) >= 5


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[path.stem for path in SAMPLE_FILES])
def test_sample_file_replays_as_expected(client, path):
    report = replay.replay_file(client, path)

    assert report.checks, f"{path.name} produced no checks"
    for check in report.checks:
        assert check.passed, f"{path.name}: {check.kind} {check.subject}: expected {check.expected}, got {check.actual}"


def test_update_created_then_duplicate(client):
    first_status, first = client.post_track(update("E2E-DUP-1"))
    second_status, second = client.post_track(update("E2E-DUP-1"))

    assert first_status == 201, first
    assert first["result"] == "created"
    assert first["timestamp"] == "2024-06-01T06:30:00.000Z"
    assert second_status == 200, second
    assert second["result"] == "duplicate"


def test_status_pages_history_with_next_token(client):
    for hour in range(3):
        status, body = client.post_track(update("E2E-PAGES", timestamp=f"2024-06-01T0{hour}:00:00Z"))
        assert status == 201, body

    status, first_page = client.get_status("e2e-pages", history=True, limit=2)
    assert status == 200, first_page
    assert len(first_page["events"]) == 2
    assert "next_token" in first_page

    status, second_page = client.get_status("E2E-PAGES", history=True, limit=2, next_token=first_page["next_token"])
    assert status == 200, second_page
    assert [event["timestamp"] for event in second_page["events"]] == ["2024-06-01T00:00:00.000Z"]
    assert "next_token" not in second_page


def test_altered_next_token_rejected_by_function(client):
    status, body = client.get_status("E2E-PAGES", history=True, next_token="forged.token")

    assert status == 400, body
    assert "next_token" in json.dumps(body)


def test_batch_stored_in_order(client):
    batch = {"updates": [update("E2E-BATCH"), update("E2E-BATCH", status="delivered"), update("E2E-BATCH")]}

    status, body = client.post_track(batch)

    assert status == 200, body
    assert [entry["result"] for entry in body["results"]] == ["created", "created", "duplicate"]


def test_body_missing_field_rejected_with_field_named(client, invocations):
    status, body = client.post_track({"tracking_id": "E2E-BAD", "timestamp": "2024-06-01T08:30:00Z"})
    validation_error = '[object has missing required properties (["status"])]'

    assert status == 400
    assert body["message"] == "Invalid request body"
    assert body["errors"] == [{"field": "body", "rule": "model", "message": validation_error}]
    assert body["validation_error"] == validation_error
    assert invocations == []


def test_body_bad_timestamp_rejected_with_field_named(client, invocations):
    status, body = client.post_track(update("E2E-BAD", timestamp="2024-06-01 08:30"))

    assert status == 400
    assert body["validation_error"].startswith('[/timestamp: string "2024-06-01 08:30" does not match')
    assert invocations == []


def test_body_unknown_field_rejected_with_field_named(client, invocations):
    status, body = client.post_track(update("E2E-BAD", carier="FedEx"))

    assert status == 400
    assert '["carier"]' in body["validation_error"]
    assert invocations == []


def test_batch_item_error_names_item_index(client, invocations):
    status, body = client.post_track({"updates": [update("E2E-BAD"), update("E2E-BAD", status="lost")]})

    assert status == 400
    assert body["validation_error"].startswith('[/updates/1/status: value "lost" is not one of')
    assert invocations == []


def test_batch_over_25_rejected(client, invocations):
    status, body = client.post_track({"updates": [update(f"E2E-MANY-{i}") for i in range(26)]})

    assert status == 400
    assert "/updates: array has 26 items, more than the maximum of 25" in body["validation_error"]
    assert invocations == []


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"tracking_id": NaN}', b"\xff\xfe"])
def test_body_not_json_rejected(client, invocations, raw):
    status, body = client.request("POST", "/track", body=raw)

    assert status == 400
    assert body["validation_error"].startswith("[invalid JSON: ")
    assert invocations == []


def test_future_timestamp_rejected_by_function(client, invocations):
    status, body = client.post_track(update("E2E-FUTURE", timestamp="2999-01-01T00:00:00Z"))

    assert status == 400, body
    assert "timestamp" in json.dumps(body)
    assert len(invocations) == 1


def test_status_without_tracking_id_rejected(client, invocations):
    status, body = client.request("GET", "/status", query=[("history", "true")])

    assert status == 400
    assert body["message"] == "Missing required request parameters: [tracking_id]"
    assert body["errors"] == [
        {"field": "query", "rule": "required", "message": "Missing required request parameters: [tracking_id]"}
    ]
    assert invocations == []


def test_status_query_reordered_still_valid(local_api, invocations):
    signed_url = f"{local_api.base_url}/status?tracking_id=E2E-NONE&history=true"
    headers = sign(local_api.credentials, "GET", signed_url)

    response = send_exact("GET", f"{local_api.base_url}/status?history=true&tracking_id=E2E-NONE", headers)

    assert response.status_code == 404, response.text
    assert len(invocations) == 1


def test_event_has_rest_proxy_shape(client, local_api, invocations):
    client.get_status("E2E-SHAPE", history=False)

    event = invocations[0]
    assert event["resource"] == "/status"
    assert event["path"] == "/status"
    assert event["requestContext"]["path"] == f"/{local_api.stage}/status"
    assert event["requestContext"]["stage"] == local_api.stage
    assert event["requestContext"]["identity"]["accessKey"] == local_api.credentials.access_key_id
    assert event["multiValueQueryStringParameters"] == {"tracking_id": ["E2E-SHAPE"], "history": ["false"]}
    assert event["isBase64Encoded"] is False


def test_request_id_is_fresh_and_returned(local_api):
    first = send_exact("GET", f"{local_api.base_url}/nothing", {})
    second = send_exact("GET", f"{local_api.base_url}/nothing", {})

    assert first.headers["x-amzn-RequestId"] != second.headers["x-amzn-RequestId"]


def test_body_over_10_mb_rejected_with_413(client, invocations):
    status, body = client.request("POST", "/track", body=b" " * (10 * 1024 * 1024 + 1))

    assert status == 413
    assert "10 MB" in body["message"]
    assert invocations == []
