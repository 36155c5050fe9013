"""An HTTP proxy on loopback that sits between the function and moto server and injects faults.

Rules match the AWS operation of a request (its X-Amz-Target header, or the Action
form field for query-protocol services) and answer with an AWS error instead of
forwarding, so botocore's real retry logic and the function's real error handling run.
"""

import http.client
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

THROTTLED = (
    400,
    "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput for the table was exceeded.",
)
TABLE_MISSING = (400, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "Requested resource not found")
INTERNAL_ERROR = (500, "InternalServerError", "Internal server error")
UNAVAILABLE = (503, "ServiceUnavailable", "Service unavailable")


def operation_of(headers, body: bytes) -> str:
    """Return "Service.Operation" for JSON protocols, or the query protocol's Action."""
    target = headers.get("X-Amz-Target")
    if target:
        return target
    action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return action[0] if action else ""


class FaultProxy:
    """Forward to ``upstream`` unless a rule matches; count every operation it sees."""

    def __init__(self, upstream: str):
        self.upstream = urlparse(upstream)
        self.rules: dict = {}
        # Operations forwarded to the emulator whose response is then replaced by a fault.
        self.after_forward: dict = {}
        self._after_forward_left = 0
        # (operation prefix, bytes the request body holds, fault): fails only some items' calls.
        self.body_rules: list = []
        # Called with each operation before its response is sent, for tests that move a clock.
        self.on_operation = None
        self.seen: Counter = Counter()
        # (operation, request body) of every request, in arrival order.
        self.requests: list = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, prefix: str, fault: tuple) -> None:
        """Answer every operation starting with ``prefix`` (e.g. "DynamoDB_20120810.PutItem") with ``fault``."""
        self.rules[prefix] = fault

    def fail_after_forward(self, prefix: str, fault: tuple, times: int = 1) -> None:
        """Let the next ``times`` matching operations reach the emulator, then drop each response and send ``fault``."""
        self.after_forward[prefix] = fault
        self._after_forward_left = times

    def fail_when_body_holds(self, prefix: str, needle: bytes, fault: tuple) -> None:
        """Answer matching operations with ``fault`` only when the request body holds ``needle``."""
        self.body_rules.append((prefix, needle, fault))

    def heal(self) -> None:
        self.rules.clear()
        self.after_forward.clear()
        self.body_rules.clear()

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _rule_for(self, operation: str, rules: dict = None):
        for prefix, fault in (self.rules if rules is None else rules).items():
            if operation.startswith(prefix):
                return fault
        return None

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output readable
                pass

            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                operation = operation_of(self.headers, body)
                with proxy._lock:
                    proxy.seen[operation] += 1
                    proxy.requests.append((operation, body))
                if proxy.on_operation is not None:
                    proxy.on_operation(operation)
                fault = proxy._rule_for(operation)
                for prefix, needle, body_fault in proxy.body_rules:
                    if fault is None and operation.startswith(prefix) and needle in body:
                        fault = body_fault
                if fault is None and proxy._rule_for(operation, proxy.after_forward) is not None:
                    with proxy._lock:
                        lose_answer = proxy._after_forward_left > 0
                        proxy._after_forward_left -= 1
                    if lose_answer:
                        self._forward(body)
                        fault = proxy._rule_for(operation, proxy.after_forward)
                if fault is not None:
                    status, code, message = fault
                    payload = json.dumps({"__type": code, "message": message}).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("x-amzn-ErrorType", code.split("#")[-1])
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                response, data = self._forward(body)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _forward(self, body: bytes):
                connection = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                connection.close()
                return response, data

            do_GET = do_POST = do_PUT = do_DELETE = _relay

        return Handler
