"""The SigV4 verifier against requests that botocore's signer signs, and against broken ones."""

import datetime
from unittest import mock

import pytest

from devkit.local import sigv4
from tests.local.helpers import sign

CREDENTIALS = sigv4.Credentials("AKIDLOCALTEST", "local-test-secret")
HOST = "127.0.0.1:8123"
NOW = datetime.datetime(2024, 5, 1, 12, 0, 0)


def signed_request(method="GET", path="/dev/status", query="tracking_id=ABC", body=b"", **sign_options):
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
        headers = sign(CREDENTIALS, method, url, body, **sign_options)
    headers["Host"] = HOST
    return sigv4.SignedRequest(method, path, query, list(headers.items()), body)


def verify(request, now=NOW):
    return sigv4.verify(request, CREDENTIALS, now=now.replace(tzinfo=datetime.timezone.utc))


def with_headers(request, headers):
    return sigv4.SignedRequest(request.method, request.raw_path, request.raw_query, headers, request.body)


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", "/dev/status", "tracking_id=ABC", b""),
        ("GET", "/dev/status", "tracking_id=A%20B%2BC%3D&history=true&limit=5", b""),
        ("GET", "/dev/status", "", b""),
        ("POST", "/dev/track", "", b'{"tracking_id": "ABC"}'),
        ("POST", "/dev/track", "", '{"description": "livr\u00e9"}'.encode("utf-8")),
    ],
)
def test_botocore_signed_request_accepted(method, path, query, body):
    caller = verify(signed_request(method, path, query, body))

    assert caller.access_key_id == CREDENTIALS.access_key_id
    assert "host" in caller.signed_headers


def test_session_token_accepted_and_returned():
    caller = verify(signed_request(session_token="session-token-value"))

    assert caller.session_token == "session-token-value"
    assert "x-amz-security-token" in caller.signed_headers


def test_missing_authorization_is_missing_token():
    with pytest.raises(sigv4.SignatureError) as raised:
        verify(sigv4.SignedRequest("GET", "/dev/status", "", [("Host", HOST)], b""))

    assert raised.value.response_type == sigv4.MISSING_AUTHENTICATION_TOKEN


def test_wrong_secret_is_invalid_signature():
    request = signed_request()

    with pytest.raises(sigv4.SignatureError) as raised:
        sigv4.verify(
            request,
            sigv4.Credentials(CREDENTIALS.access_key_id, "other"),
            now=NOW.replace(tzinfo=datetime.timezone.utc),
        )

    assert raised.value.response_type == sigv4.INVALID_SIGNATURE
    assert "Canonical request:\nGET\n/dev/status\ntracking_id=ABC\n" in raised.value.message


def test_clock_skew_limit_is_five_minutes():
    request = signed_request()

    verify(request, now=NOW + datetime.timedelta(minutes=5))
    with pytest.raises(sigv4.SignatureError) as raised:
        verify(request, now=NOW + datetime.timedelta(minutes=5, seconds=1))

    assert raised.value.message.startswith("Signature expired")


def test_unsigned_amz_header_rejected():
    request = signed_request()
    headers = list(request.headers) + [("X-Amz-Meta-Note", "added")]

    with pytest.raises(sigv4.SignatureError) as raised:
        verify(with_headers(request, headers))

    assert "x-amz-meta-note must be signed" in raised.value.message


def test_host_must_be_signed():
    request = signed_request()
    authorization = dict(request.headers)["Authorization"].replace("SignedHeaders=host;", "SignedHeaders=")
    headers = [(n, authorization if n == "Authorization" else v) for n, v in request.headers]

    with pytest.raises(sigv4.SignatureError) as raised:
        verify(with_headers(request, headers))

    assert "host must be signed" in raised.value.message


def test_signed_header_absent_from_request_rejected():
    request = signed_request(headers={"X-Custom": "1"})
    headers = [(n, v) for n, v in request.headers if n != "X-Custom"]

    with pytest.raises(sigv4.SignatureError) as raised:
        verify(with_headers(request, headers))

    assert "x-custom are missing" in raised.value.message


def test_changed_host_rejected():
    request = signed_request()
    headers = [(n, "127.0.0.1:9999" if n == "Host" else v) for n, v in request.headers]

    with pytest.raises(sigv4.SignatureError):
        verify(with_headers(request, headers))


def test_content_sha256_must_match_body():
    request = signed_request("POST", "/dev/track", "", b"{}", headers={"X-Amz-Content-SHA256": "0" * 64})

    with pytest.raises(sigv4.SignatureError) as raised:
        verify(request)

    assert "X-Amz-Content-SHA256" in raised.value.message


def test_scope_date_must_match_request_date():
    request = signed_request()
    headers = [(n, "20240502T120000Z" if n == "X-Amz-Date" else v) for n, v in request.headers]

    with pytest.raises(sigv4.SignatureError) as raised:
        verify(with_headers(request, headers), now=datetime.datetime(2024, 5, 2, 12, 0, 0))

    assert "scope date 20240501" in raised.value.message


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        ("AWS4-HMAC-SHA1 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00", "algorithm"),
        ("AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/20240501/us-west-2/execute-api/aws4_request", "missing"),
        ("AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST, SignedHeaders=host, Signature=00", "Credential"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/20240501/us-west-2/execute-api/aws3_request, "
            "SignedHeaders=host;x-amz-date, Signature=00",
            "aws3_request",
        ),
    ],
)
def test_malformed_authorization_rejected(authorization, expected):
    headers = [("Host", HOST), ("X-Amz-Date", "20240501T120000Z"), ("Authorization", authorization)]

    with pytest.raises(sigv4.SignatureError) as raised:
        verify(sigv4.SignedRequest("GET", "/dev/status", "", headers, b""))

    assert raised.value.response_type == sigv4.INVALID_SIGNATURE
    assert expected in raised.value.message


def test_canonical_query_keeps_encoding_as_sent():
    assert sigv4.canonical_query_string("b=2&a=x+y&a=x%20y&c") == "a=x%20y&a=x+y&b=2&c="


def test_canonical_uri_normalizes_and_encodes_again():
    assert sigv4.canonical_uri("/dev/./a//b/../status") == "/dev/a/status"
    assert sigv4.canonical_uri("/dev/a%20b") == "/dev/a%2520b"
    assert sigv4.canonical_uri("") == "/"


def test_credentials_default_when_unset():
    assert sigv4.credentials_from_environment({}) == sigv4.Credentials(
        sigv4.DEFAULT_ACCESS_KEY_ID, sigv4.DEFAULT_SECRET_ACCESS_KEY
    )
    assert sigv4.credentials_from_environment({"AWS_ACCESS_KEY_ID": "only-key"}).access_key_id == (
        sigv4.DEFAULT_ACCESS_KEY_ID
    )


def test_credentials_read_from_environment():
    environ = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}

    assert sigv4.credentials_from_environment(environ) == sigv4.Credentials("AKIDENV", "env-secret")


def test_date_header_replaces_amz_date():
    request = signed_request(headers={"Date": "placeholder"})
    names = {name.lower() for name, _ in request.headers}

    caller = verify(request)

    assert "x-amz-date" not in names
    assert "date" in caller.signed_headers


@pytest.mark.parametrize("zone", ["-0000", "+0000", "GMT"])
def test_date_header_in_utc_whatever_the_local_zone(monkeypatch, zone):
    # "-0000" parses without a zone; reading it as local time would shift it by the machine's offset.
    import time

    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        moment, amz_date, header = sigv4._request_time({"date": f"Wed, 01 May 2024 12:00:00 {zone}"})
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

    assert moment == datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    assert amz_date == "20240501T120000Z"
    assert header == "date"
