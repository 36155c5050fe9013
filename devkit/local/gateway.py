"""A local stand-in for the REST API stage: routing, SigV4, request validation, Lambda proxy.

Each request goes through the steps API Gateway applies, in the same order. First come
the size limit and the route match, where an unknown method or path gets
MISSING_AUTHENTICATION_TOKEN. Then the ``AWS_IAM`` signature check and the route's request
validator run, and last the function's handler, called in this process with a REST proxy
event. Routes, models and gateway response bodies come from ``shared.api_definition``, the
module the edge stack is built from.
"""

import base64
import binascii
import json
import logging
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, List, Optional, Sequence, Tuple
from urllib.parse import unquote

from devkit.local import events, sigv4
from devkit.local.validation import BodyInvalid, RouteValidator
from shared import api_definition

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"

# API Gateway's payload limit for REST APIs is 10 MB; larger requests get 413.
MAX_BODY_BYTES = 10 * 1024 * 1024
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DECIMAL = re.compile(r"[0-9]{1,20}")
# An oversized body up to this size is read and dropped before the 413, so the client sees the
# response instead of a reset connection. A larger one gets the 413 without being read.
MAX_DRAINED_BYTES = 4 * MAX_BODY_BYTES

# Response types that shared.api_definition does not customize fall back to DEFAULT_4XX or
# DEFAULT_5XX with these statuses, as API Gateway does.
REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
BAD_REQUEST = "BAD_REQUEST"
INTEGRATION_FAILURE = "INTEGRATION_FAILURE"
_FALLBACK_STATUS = {REQUEST_TOO_LARGE: 413, BAD_REQUEST: 400, INTEGRATION_FAILURE: 502}

JSON = "application/json"
# How often the serving loop checks for stop(); also the longest stop() waits for it.
_POLL_SECONDS = 0.05

ProxyHandler = Callable[[dict, object], dict]


@dataclass(frozen=True)
class IncomingRequest:
    """An HTTP request as received, with the request target (path and query) exactly as sent."""

    method: str
    target: str
    headers: Sequence[Tuple[str, str]]
    body: bytes
    source_ip: str = LOOPBACK
    protocol: str = "HTTP/1.1"


@dataclass
class HttpResponse:
    status: int
    body: bytes
    headers: List[Tuple[str, str]] = field(default_factory=list)
    request_id: str = ""
    # Gateway response type, set when the gateway rejected the request instead of calling the function.
    error_type: str = ""


class LocalGateway:
    """One stage of the REST API on 127.0.0.1, in front of a handler called in this process.

    Calls to the handler are serialized, like one Lambda execution environment, because
    Powertools' resolver keeps the current event on a module-level object.
    """

    def __init__(
        self,
        handler: ProxyHandler,
        stage: str,
        environment: str,
        account_id: str,
        credentials: sigv4.Credentials,
        port: int = 0,
    ):
        self.handler = handler
        self.stage = stage
        self.environment = environment
        # The emulator's account, which the function's ARN and the caller's identity name.
        self.account_id = account_id
        self.credentials = credentials
        models = api_definition.api_models()
        self.validators = {(r.method, r.path): RouteValidator(r, models) for r in api_definition.ROUTES}
        self._invoke_lock = threading.Lock()
        self._server = ThreadingHTTPServer((LOOPBACK, port), _RequestHandler)
        self._server.daemon_threads = True
        self._server.gateway = self  # type: ignore[attr-defined]
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/{self.stage}"

    def start(self) -> None:
        """Serve requests on a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name="local-api",
            daemon=True,
        )
        self._thread.start()
        logger.info("gateway listening url=%s", self.base_url)

    def stop(self) -> None:
        """Stop serving and close the listening socket; a second call does nothing."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def handle(self, request: IncomingRequest) -> HttpResponse:
        """Return the response the deployed stage would send for one request."""
        request_id = events.new_request_id()
        raw_path, _, raw_query = request.target.partition("?")
        route = self._match(request.method, raw_path)
        if route is None:
            return self.gateway_response(sigv4.MISSING_AUTHENTICATION_TOKEN, request_id, "Missing Authentication Token")

        try:
            caller = sigv4.verify(
                sigv4.SignedRequest(request.method, raw_path, raw_query, request.headers, request.body),
                self.credentials,
            )
        except sigv4.SignatureError as exc:
            return self.gateway_response(exc.response_type, request_id, exc.message)

        validator = self.validators[(route.method, route.path)]
        query = events.split_query(raw_query)
        missing = validator.missing_parameters(query)
        if missing:
            message = api_definition.missing_parameters_message(missing)
            return self.gateway_response("BAD_REQUEST_PARAMETERS", request_id, message)
        try:
            validator.check_body(request.body)
        except BodyInvalid as exc:
            return self.gateway_response(
                "BAD_REQUEST_BODY", request_id, "Invalid request body", exc.validation_error_string
            )

        proxy_request = events.ProxyRequest(
            route=route,
            stage=self.stage,
            method=request.method,
            headers=request.headers,
            query=query,
            body=request.body,
            source_ip=request.source_ip,
            access_key_id=caller.access_key_id,
            account_id=self.account_id,
            protocol=request.protocol,
            request_id=request_id,
        )
        return self._invoke(proxy_request)

    def gateway_response(
        self, response_type: str, request_id: str, message: str, validation_error: str = ""
    ) -> HttpResponse:
        """Render a gateway response from the shared templates, as API Gateway does for its own errors."""
        context = {
            "requestId": request_id,
            "error": {
                "message": message,
                "responseType": response_type,
                "validationErrorString": validation_error,
            },
        }
        template = response_type
        if response_type not in api_definition.GATEWAY_RESPONSES:
            status = _FALLBACK_STATUS[response_type]
            context["status"] = status
            template = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        status, body = api_definition.render_gateway_response(template, context)
        response = _json_response(status, body, request_id)
        response.error_type = response_type
        return response

    def _match(self, method: str, raw_path: str) -> Optional[api_definition.Route]:
        # The raw path is split at "/" before percent escapes are decoded, so an encoded slash
        # stays inside its segment. /dev%2Ftrack is then one segment "dev/track", which names no stage.
        segments = [unquote(segment) for segment in raw_path.split("/")]
        if len(segments) < 3 or segments[0] != "" or segments[1] != self.stage:
            return None
        resource_segments = segments[2:]
        if any("/" in segment for segment in resource_segments):
            return None
        return api_definition.find_route(method, "/" + "/".join(resource_segments))

    def _invoke(self, request: events.ProxyRequest) -> HttpResponse:
        event = events.proxy_event(request)
        with self._invoke_lock:
            # Created once the lock is held, so time spent waiting does not count against the timeout.
            context = events.lambda_context(self.environment, self.account_id)
            started = time.monotonic()
            try:
                result = self.handler(event, context)
            except Exception:
                logger.error("function raised request_id=%s\n%s", request.request_id, traceback.format_exc())
                return self._function_failed(request.request_id, "the function raised an exception")
            elapsed = time.monotonic() - started
        # NOTE: Lambda would stop the function at its timeout, but here it runs to the end. Its
        # response is then replaced by the 502 that API Gateway would have returned.
        if elapsed > context.timeout_seconds:
            logger.error(
                "function exceeded its timeout request_id=%s elapsed_s=%.1f timeout_s=%d",
                request.request_id,
                elapsed,
                context.timeout_seconds,
            )
            return self._function_failed(request.request_id, "the function ran past its timeout")
        try:
            return _proxy_response(result, request.request_id)
        except (TypeError, ValueError, binascii.Error) as exc:
            logger.error("malformed proxy response request_id=%s error=%s", request.request_id, exc)
            return self._function_failed(request.request_id, f"the function returned a malformed response: {exc}")

    def _function_failed(self, request_id: str, reason: str) -> HttpResponse:
        # Lambda reports a failed invocation to API Gateway, which then returns 502.
        return self.gateway_response(INTEGRATION_FAILURE, request_id, f"Internal server error: {reason}")


def _json_response(status: int, body: dict, request_id: str) -> HttpResponse:
    # ASCII escapes keep every body encodable, even a message that contains a lone surrogate.
    payload = json.dumps(body, ensure_ascii=True).encode("ascii")
    return HttpResponse(status, payload, [("Content-Type", JSON), ("x-amzn-RequestId", request_id)], request_id)


def _proxy_response(result: object, request_id: str) -> HttpResponse:
    """Turn a Lambda proxy result into an HTTP response, raising ValueError when it is malformed."""
    if not isinstance(result, dict):
        raise ValueError(f"expected a JSON object, got {type(result).__name__}")
    status = result.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"statusCode {status!r} is not an HTTP status")
    body = result.get("body") or ""
    if not isinstance(body, str):
        raise ValueError(f"body must be a string, got {type(body).__name__}")
    payload = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode("utf-8")

    headers: List[Tuple[str, str]] = []
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(value)) for value in values)
    seen = {name.lower() for name, _ in headers}
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in seen:
            headers.append((name, str(value)))
    headers.append(("x-amzn-RequestId", request_id))
    return HttpResponse(status, payload, headers, request_id)


class _BodyTooLarge(Exception):
    pass


class _BadFraming(Exception):
    pass


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LocalTrackingAPI"
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 30

    def do_GET(self) -> None:  # noqa: N802 - http.server's method names
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def __getattr__(self, name: str):
        # http.server looks up do_<METHOD> and answers 501 HTML when it is missing. Every other method
        # (TRACE, QUERY, ...) is an unknown route here too, which gets the gateway's JSON 403.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Send the JSON error body for what http.server rejects itself (a bad request line, oversized headers) in JSON.

        The base class would send an HTML page; clients of the gateway always get the JSON body of
        its own 4XX responses, with the status http.server chose.
        """
        gateway: LocalGateway = self.server.gateway  # type: ignore[attr-defined]
        self.close_connection = True
        # An unparsable request line leaves the version at HTTP/0.9, which would drop the status line.
        self.request_version = self.protocol_version
        response = gateway.gateway_response(BAD_REQUEST, events.new_request_id(), message or explain or "Bad request")
        response.status = code
        logger.info("request rejected by the HTTP parser status=%d error=%s", code, message or "-")
        self._write(response)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's signature
        # The gateway logs one line per request itself; the base class would print a second one.
        return

    def _serve(self) -> None:
        started = time.monotonic()
        gateway: LocalGateway = self.server.gateway  # type: ignore[attr-defined]
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self.close_connection = True
            response = gateway.gateway_response(
                REQUEST_TOO_LARGE,
                events.new_request_id(),
                f"Request body is larger than the {MAX_BODY_BYTES // (1024 * 1024)} MB limit",
            )
        except _BadFraming as exc:
            self.close_connection = True
            response = gateway.gateway_response(BAD_REQUEST, events.new_request_id(), str(exc))
        else:
            request = IncomingRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            response = gateway.handle(request)
        # Logged before the response is written, so the line exists once the client has its answer.
        logger.info(
            "request method=%s path=%s status=%d latency_ms=%.1f request_id=%s error=%s",
            self.command,
            self.path.partition("?")[0],
            response.status,
            (time.monotonic() - started) * 1000,
            response.request_id,
            response.error_type or "-",
        )
        self._write(response)

    def parse_request(self) -> bool:
        if len(self.raw_requestline.split()) == 2:
            # A two-word request line is HTTP/0.9: it has no headers to wait for, and the base
            # class would respond without a status line. It is rejected before either happens.
            self.command, self.request_version = None, self.protocol_version
            self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
            self.send_error(400, "HTTP/0.9 requests are not served; send an HTTP/1.1 request line")
            return False
        return super().parse_request()

    def _read_body(self) -> bytes:
        codings = self.headers.get_all("Transfer-Encoding") or []
        if codings:
            names = [name.strip().lower() for value in codings for name in value.split(",")]
            if names != ["chunked"]:
                raise _BadFraming(f"Transfer-Encoding {', '.join(codings)!r} is not supported; send chunked or none")
            if self.headers.get("Content-Length") is not None:
                raise _BadFraming("a request must not carry both Transfer-Encoding and Content-Length")
            return self._read_chunked()
        lengths = set(self.headers.get_all("Content-Length") or [])
        if len(lengths) > 1:
            raise _BadFraming(f"Content-Length is given with different values: {', '.join(sorted(lengths))}")
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        if not _DECIMAL.fullmatch(length_header.strip()):
            # Digits only: int() alone would also take a sign, underscores or other scripts' digits.
            raise _BadFraming(f"Content-Length {length_header!r} is not a number of bytes")
        length = int(length_header)
        if length > MAX_BODY_BYTES:
            if length <= MAX_DRAINED_BYTES:
                self._discard(length)
            raise _BodyTooLarge()
        body = self.rfile.read(length)
        if len(body) < length:
            raise _BadFraming(f"the connection ended after {len(body)} of the {length} bytes Content-Length gives")
        return body

    def _discard(self, length: int) -> None:
        """Read and drop a body, so the client finishes sending before it reads the 413."""
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1024 * 1024))
            if not chunk:
                return
            remaining -= len(chunk)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size_field = line.split(b";")[0].strip()
            # Hex digits only: int() alone would also take a sign, "0x" or underscores.
            if not _CHUNK_SIZE.fullmatch(size_field):
                raise _BadFraming(f"invalid chunk size line {line[:40]!r}")
            size = int(size_field, 16)
            if size == 0:
                # Skip optional trailer fields up to the blank line that ends the message.
                while self.rfile.readline(1024).strip():
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise _BodyTooLarge()
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise _BadFraming(f"the connection ended inside a chunk of {size} bytes")
            body += chunk
            if self.rfile.readline(1024).strip():
                raise _BadFraming("a chunk is longer than its size line states")

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
