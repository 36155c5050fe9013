"""SigV4 through real HTTP: rejected requests get 403 and never reach the function.

Every request here is rejected or only reads, so the table must stay empty. The module
has its own local API, so no other test's writes can hide a leak.
"""

import datetime
import json
from unittest import mock

import pytest

from devkit.local import sigv4
from tests.local.helpers import body_text, send_exact, sign, stored_item_count

UPDATE = {"tracking_id": "SIGTEST0001", "timestamp": "2024-05-01T10:00:00Z", "status": "picked_up"}
BODY = json.dumps(UPDATE).encode("utf-8")
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def table_stays_empty(local_api):
    yield
    assert stored_item_count(local_api) == 0, "a rejected request wrote to the table"


def track_url(api) -> str:
    return f"{api.base_url}/track"


def test_unsigned_post_rejected_before_function(local_api, invocations):
    response = send_exact("POST", track_url(local_api), dict(JSON_HEADERS), BODY)

    assert response.status_code == 403
    assert "Missing authentication token" in response.json()["message"]
    assert response.json()["request_id"] == response.headers["x-amzn-RequestId"]
    assert invocations == []


def test_unsigned_get_rejected_before_function(local_api, invocations):
    response = send_exact("GET", f"{local_api.base_url}/status?tracking_id=SIGTEST0001", {})

    assert response.status_code == 403
    assert invocations == []


def test_amz_date_without_authorization_rejected(local_api, invocations):
    headers = sign(local_api.credentials, "POST", track_url(local_api), BODY, headers=JSON_HEADERS)
    del headers["Authorization"]

    response = send_exact("POST", track_url(local_api), headers, BODY)

    assert response.status_code == 403
    assert "no Authorization header" in response.json()["detail"]
    assert invocations == []


def test_wrong_secret_rejected(local_api, invocations):
    wrong = sigv4.Credentials(local_api.credentials.access_key_id, "not-the-secret")
    headers = sign(wrong, "POST", track_url(local_api), BODY, headers=JSON_HEADERS)

    response = send_exact("POST", track_url(local_api), headers, BODY)

    assert response.status_code == 403
    assert "Invalid request signature" in response.json()["message"]
    assert "signature does not match" in response.json()["detail"]
    assert invocations == []


def test_wrong_access_key_rejected(local_api, invocations):
    wrong = sigv4.Credentials("AKIAUNKNOWNKEY000000", local_api.credentials.secret_access_key)
    headers = sign(wrong, "POST", track_url(local_api), BODY, headers=JSON_HEADERS)

    response = send_exact("POST", track_url(local_api), headers, BODY)

    assert response.status_code == 403
    assert "AKIAUNKNOWNKEY000000" in response.json()["detail"]
    assert invocations == []


def test_wrong_region_in_scope_rejected(local_api, invocations):
    headers = sign(
        local_api.credentials, "POST", track_url(local_api), BODY, region="us-east-1", headers=JSON_HEADERS
    )

    response = send_exact("POST", track_url(local_api), headers, BODY)

    assert response.status_code == 403
    assert "region 'us-east-1'" in response.json()["detail"]
    assert invocations == []


def test_wrong_service_in_scope_rejected(local_api, invocations):
    headers = sign(
        local_api.credentials, "POST", track_url(local_api), BODY, service="lambda", headers=JSON_HEADERS
    )

    response = send_exact("POST", track_url(local_api), headers, BODY)

    assert response.status_code == 403
    assert "service 'lambda'" in response.json()["detail"]
    assert invocations == []


@pytest.mark.parametrize("minutes", [-6, 6])
def test_date_outside_five_minutes_rejected(local_api, invocations, minutes):
    signed_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(
        minutes=minutes
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        headers = sign(local_api.credentials, "POST", track_url(local_api), BODY, headers=JSON_HEADERS)

    response = send_exact("POST", track_url(local_api), headers, BODY)

    assert response.status_code == 403
    assert response.json()["detail"].startswith("Signature expired")
    assert invocations == []


def test_body_changed_after_signing_rejected(local_api, invocations):
    headers = sign(local_api.credentials, "POST", track_url(local_api), BODY, headers=JSON_HEADERS)
    tampered = BODY.replace(b"picked_up", b"delivered")

    response = send_exact("POST", track_url(local_api), headers, tampered)

    assert response.status_code == 403
    assert invocations == []


def test_unsigned_security_token_rejected(local_api, invocations):
    headers = sign(local_api.credentials, "POST", track_url(local_api), BODY, headers=JSON_HEADERS)
    headers["X-Amz-Security-Token"] = "added-after-signing"

    response = send_exact("POST", track_url(local_api), headers, BODY)

    assert response.status_code == 403
    assert "x-amz-security-token" in response.json()["detail"]
    assert invocations == []


def test_signed_session_token_accepted(local_api, invocations):
    url = f"{local_api.base_url}/status?tracking_id=NOSUCHSHIPMENT"
    headers = sign(local_api.credentials, "GET", url, session_token="any-session-token")

    response = send_exact("GET", url, headers)

    assert response.status_code == 404
    assert len(invocations) == 1


@pytest.mark.parametrize(
    ("signed_query", "sent_query"),
    [
        ("tracking_id=SIG%20TEST", "tracking_id=SIG+TEST"),
        ("tracking_id=SIG%20TEST", "tracking_id=SIG%2520TEST"),
        ("tracking_id=SIG%2BTEST", "tracking_id=SIG+TEST"),
        ("tracking_id=SIGTEST&history=true", "history=true&tracking_id=SIGTEST&history=true"),
    ],
)
def test_query_sent_in_other_encoding_rejected(local_api, invocations, signed_query, sent_query):
    headers = sign(local_api.credentials, "GET", f"{local_api.base_url}/status?{signed_query}")

    response = send_exact("GET", f"{local_api.base_url}/status?{sent_query}", headers)

    assert response.status_code == 403
    assert "signature does not match" in response.json()["detail"]
    assert invocations == []


def test_encoded_spaces_reach_function(client, invocations):
    status, body = client.get_status(" SIG TEST 0001 ")

    assert status == 404, body
    assert invocations[0]["queryStringParameters"] == {"tracking_id": " SIG TEST 0001 "}


def test_encoded_plus_and_equals_reach_function(client, invocations):
    status, body = client.get_status("SIG+TEST=1")

    # The signature passes; the function then rejects the tracking id itself.
    assert status == 400, body
    assert "tracking_id" in json.dumps(body)
    assert invocations[0]["queryStringParameters"] == {"tracking_id": "SIG+TEST=1"}


def test_unknown_path_rejected_with_clear_message(client, invocations):
    status, body = client.request("GET", "/shipments")

    assert status == 403
    assert "no route matches this method and path" in body["message"]
    assert "POST /{stage}/track" in body["message"]
    assert invocations == []


def test_wrong_method_rejected_as_unknown_route(client, invocations):
    status, body = client.request("GET", "/track")

    assert status == 403
    assert "no route matches" in body["message"]
    assert invocations == []


def test_other_stage_rejected_as_unknown_route(local_api, invocations):
    url = local_api.base_url.rsplit("/", 1)[0] + "/prod/track"
    headers = sign(local_api.credentials, "POST", url, BODY, headers=JSON_HEADERS)

    response = send_exact("POST", url, headers, BODY)

    assert response.status_code == 403
    assert "no route matches" in body_text(response)
    assert invocations == []
