"""The gateway alone, in front of stand-in handlers: proxy events, proxy responses, HTTP framing."""

import base64
import json
import logging
import socket
from pathlib import Path

import pytest
import requests
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from devkit.local import sigv4
from devkit.local.client import TrackingClient
from devkit.local.gateway import MAX_DRAINED_BYTES, IncomingRequest, LocalGateway
from shared import naming, settings

CREDENTIALS = sigv4.Credentials("AKIDGATEWAYTEST", "gateway-test-secret")
ACCOUNT_ID = "111122223333"
SAMPLE_EVENT = (
    Path(__file__).parent.parent / "data" / "samples" / "apigw-events" / "powertools-ts_apigw-rest_iam-auth.json"
)


class StandIn:
    """A handler that records its calls and returns whatever the test sets."""

    def __init__(self):
        self.calls = []
        self.result = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}
        self.error = None

    def __call__(self, event, context):
        self.calls.append((event, context))
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def stand_in():
    return StandIn()


@pytest.fixture
def gateway(stand_in):
    local_gateway = LocalGateway(stand_in, "test", "dev", ACCOUNT_ID, CREDENTIALS, port=0)
    local_gateway.start()
    yield local_gateway
    local_gateway.stop()


@pytest.fixture
def client(gateway):
    with TrackingClient(gateway.base_url, CREDENTIALS.access_key_id, CREDENTIALS.secret_access_key) as signed:
        yield signed


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes to the gateway and return all it sends back before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_event_matches_sample_rest_event_keys(client, stand_in):
    sample = json.loads(SAMPLE_EVENT.read_text(encoding="utf-8"))

    client.get_status("ABC")
    event, _ = stand_in.calls[0]

    assert set(sample) <= set(event)
    assert set(sample["requestContext"]) <= set(event["requestContext"])
    assert set(sample["requestContext"]["identity"]) <= set(event["requestContext"]["identity"])


def test_event_paths_and_identity(client, stand_in):
    client.get_status("A B", history=True)
    event, _ = stand_in.calls[0]
    parsed = APIGatewayProxyEvent(event)

    assert parsed.path == "/status"
    assert parsed.resource == "/status"
    assert parsed.http_method == "GET"
    assert parsed.request_context.path == "/test/status"
    assert parsed.request_context.stage == "test"
    assert parsed.request_context.account_id == ACCOUNT_ID
    assert parsed.request_context.identity.access_key == CREDENTIALS.access_key_id
    assert parsed.request_context.identity.caller == CREDENTIALS.access_key_id
    assert parsed.request_context.identity.user_arn.startswith(f"arn:aws:iam::{ACCOUNT_ID}:user/")
    assert parsed.query_string_parameters == {"tracking_id": "A B", "history": "true"}
    assert parsed.multi_value_query_string_parameters == {"tracking_id": ["A B"], "history": ["true"]}
    assert parsed.body is None
    assert parsed.is_base64_encoded is False


def test_repeated_query_parameter_keeps_all_values(client, stand_in):
    client.request("GET", "/status", query=[("tracking_id", "A"), ("tracking_id", "B")])
    event, _ = stand_in.calls[0]

    assert event["queryStringParameters"] == {"tracking_id": "B"}
    assert event["multiValueQueryStringParameters"] == {"tracking_id": ["A", "B"]}


def test_request_ids_fresh_per_request(client, stand_in):
    client.get_status("A")
    client.get_status("A")

    first, second = (event["requestContext"]["requestId"] for event, _ in stand_in.calls)
    assert first != second


def test_powertools_resolver_routes_the_event(client, stand_in):
    resolver = APIGatewayRestResolver()
    resolver.post("/track")(lambda: {"route": "track", "stage": resolver.current_event.request_context.stage})

    client.post_track({"tracking_id": "A", "timestamp": "2024-01-01T00:00:00Z", "status": "unknown"})
    event, context = stand_in.calls[0]
    result = resolver.resolve(event, context)

    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"route": "track", "stage": "test"}


def test_lambda_context_attributes(client, stand_in):
    client.get_status("A")
    _, context = stand_in.calls[0]

    assert context.function_name == naming.function_name("dev")
    assert context.invoked_function_arn == f"arn:aws:lambda:us-west-2:{ACCOUNT_ID}:function:{context.function_name}"
    assert context.memory_limit_in_mb == 256
    assert len(context.aws_request_id) == 36
    timeout_ms = settings.BY_KEY["timeout"].default * 1000
    assert timeout_ms - 1_000 < context.get_remaining_time_in_millis() <= timeout_ms


def test_proxy_response_headers_and_base64_body(client, stand_in):
    stand_in.result = {
        "statusCode": 202,
        "headers": {"Content-Type": "application/octet-stream", "X-One": "1"},
        "multiValueHeaders": {"X-Many": ["a", "b"]},
        "body": base64.b64encode(b"\x00\x01binary").decode("ascii"),
        "isBase64Encoded": True,
    }

    url = client.url("/status", [("tracking_id", "A")])
    response = client.send("GET", url, client.sign("GET", url))

    assert response.status_code == 202
    assert response.content == b"\x00\x01binary"
    assert response.headers["X-One"] == "1"
    assert response.headers["X-Many"] == "a, b"
    assert response.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    "result",
    [
        None,
        [],
        {"body": "{}"},
        {"statusCode": "200"},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
    ],
)
def test_malformed_proxy_response_is_502(client, stand_in, result):
    stand_in.result = result

    status, body = client.get_status("A")

    assert status == 502
    assert "malformed response" in body["message"]


def test_handler_exception_is_502(client, stand_in, caplog):
    stand_in.error = RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="devkit.local.gateway"):
        status, body = client.get_status("A")

    assert status == 502
    assert body["message"].startswith("Internal server error")
    assert "RuntimeError: boom" in caplog.text


def test_one_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="devkit.local.gateway"):
        client.get_status("A")

    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("request ")]
    assert len(lines) == 1
    assert lines[0].startswith("request method=GET path=/test/status status=200 latency_ms=")


def test_chunked_body_verified_and_passed(client, stand_in):
    body = json.dumps({"tracking_id": "A", "timestamp": "2024-01-01T00:00:00Z", "status": "unknown"}).encode()
    url = client.url("/track")
    headers = client.sign("POST", url, body)

    def chunks():
        yield body[:10]
        yield body[10:]

    with requests.Session() as session:
        session.trust_env = False
        prepared = session.prepare_request(requests.Request("POST", url, headers=headers, data=chunks()))
        response = session.send(prepared, timeout=10)

    assert prepared.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 200, response.text
    assert stand_in.calls[0][0]["body"] == body.decode()


def test_oversized_declared_body_gets_413_and_close(gateway, stand_in):
    request = (
        f"POST /test/track HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {MAX_DRAINED_BYTES + 1}\r\n\r\n"
    ).encode("ascii")

    answer = raw_exchange(gateway.port, request)

    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in answer
    assert stand_in.calls == []


def test_invalid_content_length_gets_400(gateway, stand_in):
    answer = raw_exchange(gateway.port, b"POST /test/track HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"is not a number of bytes" in answer
    assert stand_in.calls == []


@pytest.mark.parametrize(
    "size_line",
    [b"-5", b"0x10", b"+a", b"1_0", b"zz", b"1" * 17],
    ids=["negative", "0x", "sign", "underscore", "not-hex", "too-long"],
)
def test_invalid_chunk_size_gets_400_at_once(gateway, stand_in, size_line):
    request = b"POST /test/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + size_line + b"\r\n"

    answer = raw_exchange(gateway.port, request)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"invalid chunk size line" in answer
    assert stand_in.calls == []


@pytest.mark.parametrize(
    ("headers", "expected", "body"),
    [
        (b"Content-Length: 2\r\nContent-Length: 3\r\n", b"different values", b"{}"),
        (b"Content-Length: -2\r\n", b"is not a number of bytes", b"{}"),
        (b"Content-Length: +2\r\n", b"is not a number of bytes", b"{}"),
        (b"Content-Length: 0_2\r\n", b"is not a number of bytes", b"{}"),
        (b"Transfer-Encoding: xchunked\r\n", b"is not supported", b"{}"),
        (b"Transfer-Encoding: gzip, chunked\r\n", b"is not supported", b"{}"),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", b"both Transfer-Encoding and Content-Length", b"{}"),
        (b"Transfer-Encoding: chunked\r\n", b"longer than its size line states", b"2\r\n{}extra\r\n0\r\n\r\n"),
    ],
    ids=["two-lengths", "negative", "sign", "underscore", "xchunked", "gzip", "both", "long-chunk"],
)
def test_ambiguous_framing_gets_400(gateway, stand_in, headers, expected, body):
    request = b"POST /test/track HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + body

    answer = raw_exchange(gateway.port, request)

    assert answer.startswith(b"HTTP/1.1 400 "), answer[:80]
    assert expected in answer
    assert stand_in.calls == []


def test_http_09_request_line_gets_a_real_400(gateway, stand_in):
    # No blank line after it: an HTTP/0.9 request has no headers, so the response must not wait for any.
    answer = raw_exchange(gateway.port, b"GET /test/status\r\n")

    assert answer.startswith(b"HTTP/1.1 400 "), answer[:80]
    assert b"HTTP/0.9" in answer
    assert stand_in.calls == []


def test_body_shorter_than_its_length_gets_400(gateway, stand_in):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as connection:
        connection.sendall(b"POST /test/track HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{}")
        connection.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: connection.recv(65536), b""))

    assert answer.startswith(b"HTTP/1.1 400 "), answer[:80]
    assert b"ended after 2 of the 40 bytes" in answer
    assert stand_in.calls == []


def test_lowercase_method_names_no_route(gateway, stand_in):
    request = b"get /test/status?tracking_id=A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    answer = raw_exchange(gateway.port, request)
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:80]
    assert b"no route matches" in answer
    assert stand_in.calls == []


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NOT A REQUEST LINE AT ALL\r\n\r\n", 400),
        (b"GET /test/status HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /test/status HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(120)) + b"\r\n", 431),
        (b"GET /test/status HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ],
    ids=["request-line", "long-header", "many-headers", "version"],
)
def test_http_parser_rejections_are_json(gateway, stand_in, request_bytes, status):
    answer = raw_exchange(gateway.port, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 %d " % status), head[:80]
    assert b"Content-Type: application/json" in head
    assert json.loads(body)["message"]
    assert stand_in.calls == []


def test_head_gets_403_without_body(gateway):
    answer = raw_exchange(gateway.port, b"HEAD /test/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, rest = answer.partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 403 ")
    assert rest == b""


def test_stop_closes_port(stand_in):
    local_gateway = LocalGateway(stand_in, "test", "dev", ACCOUNT_ID, CREDENTIALS, port=0)
    local_gateway.start()
    port = local_gateway.port
    local_gateway.stop()
    local_gateway.stop()

    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_log_line_names_rejection_type(gateway, caplog):
    with caplog.at_level(logging.INFO, logger="devkit.local.gateway"):
        raw_exchange(gateway.port, b"GET /test/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("request ")]
    assert lines[0].endswith("error=MISSING_AUTHENTICATION_TOKEN")


# A routed request with this invalid Authorization header fails the signature check with
# INVALID_SIGNATURE, so MISSING_AUTHENTICATION_TOKEN means that no route matched.
BAD_AUTHORIZATION = [("Host", "127.0.0.1"), ("Authorization", "AWS4-HMAC-SHA256 Credential=x")]


@pytest.mark.parametrize("raw_path", ["/test%2Ftrack", "/test%2ftrack", "/test/track%2F", "/test/%2Ftrack"])
def test_encoded_slash_matches_no_route(gateway, stand_in, raw_path):
    response = gateway.handle(IncomingRequest("POST", raw_path, BAD_AUTHORIZATION, b"{}"))

    assert response.status == 403
    assert response.error_type == sigv4.MISSING_AUTHENTICATION_TOKEN
    assert stand_in.calls == []


def test_encoded_letter_in_segment_still_routed(gateway):
    response = gateway.handle(IncomingRequest("POST", "/test/%74rack", BAD_AUTHORIZATION, b"{}"))

    assert response.error_type == sigv4.INVALID_SIGNATURE


def test_lone_surrogate_in_message_encodable(gateway):
    response = gateway.gateway_response("BAD_REQUEST_BODY", "request-1", "Invalid request body", "[x\ud800y]")
    body = json.loads(response.body.decode("ascii"))

    assert response.status == 400
    assert body["errors"][0]["message"] == "[x\ud800y]"
