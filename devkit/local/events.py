"""API Gateway REST proxy events and a Lambda context, as the function receives them in AWS.

The event has the shape of a REST API (payload version 1.0) ``AWS_PROXY`` event: ``path``
without the stage, ``requestContext.path`` with it, the IAM caller in
``requestContext.identity``, and single- and multi-value headers and query parameters.
"""

import base64
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Optional, Sequence, Tuple
from urllib.parse import unquote

from shared import api_definition, naming, settings

LOCAL_API_ID = "localapi01"
LOCAL_DEPLOYMENT_ID = "local"
LOCAL_CALLER_NAME = "local-developer"

_REQUEST_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S +0000"


@dataclass
class LocalLambdaContext:
    """The attributes and method of the Lambda context object that Powertools and the function use."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: object = None
    client_context: object = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self):
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_context(environment: str, account_id: str, region: str = naming.REGION) -> LocalLambdaContext:
    """Return a context for one invocation, sized with the compute stack's default memory and timeout."""
    function_name = naming.function_name(environment)
    return LocalLambdaContext(
        function_name=function_name,
        memory_limit_in_mb=int(settings.BY_KEY["memorySize"].default),
        invoked_function_arn=f"arn:{naming.PARTITION}:lambda:{region}:{account_id}:function:{function_name}",
        aws_request_id=str(uuid.uuid4()),
        timeout_seconds=int(settings.BY_KEY["timeout"].default),
        log_group_name=naming.function_log_group_name(environment),
    )


def new_request_id() -> str:
    return str(uuid.uuid4())


def split_query(raw_query: str) -> dict:
    """Decode a raw query string into names mapped to their values, in arrival order.

    Percent escapes are decoded; ``+`` stays a plus sign, as in the REST API's events.
    """
    values: dict = {}
    if not raw_query:
        return values
    for item in raw_query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        values.setdefault(unquote(name), []).append(unquote(value))
    return values


@dataclass(frozen=True)
class ProxyRequest:
    """A request after the gateway has matched its route and verified its caller."""

    route: api_definition.Route
    stage: str
    method: str
    headers: Sequence[Tuple[str, str]]
    query: dict  # decoded names mapped to lists of values, as split_query returns
    body: bytes
    source_ip: str
    access_key_id: str
    account_id: str
    protocol: str = "HTTP/1.1"
    request_id: str = field(default_factory=new_request_id)


def proxy_event(request: ProxyRequest) -> dict:
    """Build the REST proxy event API Gateway would send the function for this request."""
    now = datetime.now(timezone.utc)
    single_headers, multi_headers = _headers(request.headers)
    body, is_base64 = _body(request.body)
    host = next((value for name, value in request.headers if name.lower() == "host"), "127.0.0.1")
    return {
        "resource": request.route.path,
        "path": request.route.path,
        "httpMethod": request.method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in request.query.items()} or None,
        "multiValueQueryStringParameters": {name: list(values) for name, values in request.query.items()}
        or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": request.account_id,
            "apiId": LOCAL_API_ID,
            "deploymentId": LOCAL_DEPLOYMENT_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0].split(":")[0],
            "extendedRequestId": request.request_id,
            "httpMethod": request.method,
            "identity": _identity(request),
            "path": f"/{request.stage}{request.route.path}",
            "protocol": request.protocol,
            "requestId": request.request_id,
            "requestTime": now.strftime(_REQUEST_TIME_FORMAT),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": request.route.operation_name,
            "resourcePath": request.route.path,
            "stage": request.stage,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _headers(headers: Sequence[Tuple[str, str]]) -> Tuple[dict, dict]:
    """Return single-value headers (the last value wins, as in API Gateway) and multi-value headers."""
    single, multi = {}, {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _body(raw: bytes) -> Tuple[Optional[str], bool]:
    """Return the body as text, or base64 when it is not UTF-8, and whether it is base64."""
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def _identity(request: ProxyRequest) -> dict:
    user_agent = next((value for name, value in request.headers if name.lower() == "user-agent"), None)
    return {
        "accessKey": request.access_key_id,
        "accountId": request.account_id,
        "apiKey": None,
        "apiKeyId": None,
        "caller": request.access_key_id,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": request.source_ip,
        "user": request.access_key_id,
        "userAgent": user_agent,
        "userArn": f"arn:{naming.PARTITION}:iam::{request.account_id}:user/{LOCAL_CALLER_NAME}",
    }
