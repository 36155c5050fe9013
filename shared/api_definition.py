"""The REST API as plain data: routes, request validation, auth and gateway-response bodies.

The edge stack turns this into API Gateway resources, and the local API serves the same
routes, validates with the same models and returns the same gateway-response bodies,
so the two cannot drift apart. Standard library only.

Interface used by the edge stack and the local API:

- ``ROUTES``: one ``Route`` per entry of ``shared.contract.ROUTES``, in the same order.
- ``VALIDATORS``: the API Gateway request validators keyed by kind (``body``, ``parameters``).
- ``api_models()``: every API Gateway model schema keyed by model name.
- ``GATEWAY_RESPONSES``: response type to ``GatewayResponse(status_code, template)``.
- ``render_gateway_response(response_type, context)``: the status and JSON body a gateway
  response template produces for given ``$context`` values.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple

from shared import contract

AUTHORIZATION = "AWS_IAM"
JSON_CONTENT_TYPE = "application/json"
DRAFT_04 = "http://json-schema.org/draft-04/schema#"

# Lambda proxy integrations always call the function with POST, whatever the method's verb.
INTEGRATION_TYPE = "AWS_PROXY"
INTEGRATION_HTTP_METHOD = "POST"

BODY_VALIDATOR = "body"
PARAMETERS_VALIDATOR = "parameters"

# Model that documents both 200 bodies of POST /track: a duplicate single update and a batch.
TRACK_RESULT_MODEL = "TrackResult"


class Validator(NamedTuple):
    name: str
    validate_request_body: bool
    validate_request_parameters: bool


VALIDATORS = {
    BODY_VALIDATOR: Validator("validate-body", True, False),
    PARAMETERS_VALIDATOR: Validator("validate-parameters", False, True),
}


@dataclass(frozen=True)
class Route:
    """One method on one resource, with the validation and responses API Gateway applies."""

    method: str
    path: str
    operation_name: str
    validator: str  # a key of VALIDATORS
    # Model of an application/json request body, or None for a method without a body.
    request_model: Optional[str] = None
    # Query string parameters, each mapped to whether API Gateway requires it.
    query_parameters: Mapping[str, bool] = field(default_factory=dict)
    # Documented response statuses, each mapped to the model of its application/json body.
    responses: Mapping[int, str] = field(default_factory=dict)
    authorization: str = AUTHORIZATION

    @property
    def key(self) -> str:
        """Return the route as API Gateway and the access logs write it, such as ``POST /track``."""
        return f"{self.method} {self.path}"

    @property
    def path_part(self) -> str:
        return self.path.lstrip("/")

    @property
    def required_parameters(self) -> Tuple[str, ...]:
        return tuple(name for name, required in self.query_parameters.items() if required)

    def request_parameters(self) -> Dict[str, bool]:
        """Return the method's ``request_parameters`` map, keyed the way API Gateway names them."""
        return {f"method.request.querystring.{name}": required for name, required in self.query_parameters.items()}

    def request_models(self) -> Dict[str, str]:
        return {JSON_CONTENT_TYPE: self.request_model} if self.request_model else {}


_ROUTE_DETAILS = {
    ("POST", contract.function_contract.TRACK_PATH): {
        "operation_name": "TrackShipment",
        "validator": BODY_VALIDATOR,
        "request_model": contract.TRACK_REQUEST_MODEL,
        "responses": {
            201: "UpdateResult",
            200: TRACK_RESULT_MODEL,
            202: "UpdateResult",
            400: "Error",
            403: "Error",
            503: "Error",
        },
    },
    ("GET", contract.function_contract.STATUS_PATH): {
        "operation_name": "GetShipmentStatus",
        "validator": PARAMETERS_VALIDATOR,
        "query_parameters": dict(contract.STATUS_QUERY_PARAMETERS),
        "responses": {200: "StatusResult", 400: "Error", 403: "Error", 404: "Error"},
    },
}

# A route added to the contract without details here fails at import with a KeyError naming it.
ROUTES = tuple(Route(method, path, **_ROUTE_DETAILS[(method, path)]) for method, path in contract.ROUTES)


def find_route(method: str, path: str) -> Optional[Route]:
    """Return the route for a method and a path without the stage, or None when none matches.

    HTTP methods are case-sensitive, so "get" names no route, as in API Gateway.
    """
    for route in ROUTES:
        if route.method == method and route.path == path:
            return route
    return None


def _without_schema_keyword(schema: dict) -> dict:
    return {key: value for key, value in schema.items() if key != "$schema"}


def api_models() -> Dict[str, dict]:
    """Return every API Gateway model schema keyed by model name.

    These are the function's own schemas, plus ``TrackResult``, which combines two of them
    because API Gateway documents one model per status and content type.
    """
    schemas = contract.models()
    schemas[TRACK_RESULT_MODEL] = {
        "$schema": DRAFT_04,
        "title": TRACK_RESULT_MODEL,
        "description": "200 body of POST /track: UpdateResult for a duplicate update, BatchResult for a batch.",
        "anyOf": [_without_schema_keyword(schemas["UpdateResult"]), _without_schema_keyword(schemas["BatchResult"])],
    }
    return schemas


# Keywords that JSON Schema added after draft-04, which API Gateway models do not accept.
_LATER_KEYWORDS = frozenset(
    {
        "const",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
        "examples",
        "$id",
        "$defs",
        "$anchor",
        "$comment",
        "dependentRequired",
        "dependentSchemas",
        "unevaluatedItems",
        "unevaluatedProperties",
        "prefixItems",
        "minContains",
        "maxContains",
        "contentEncoding",
        "contentMediaType",
    }
)
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_VALUES = ("not", "additionalProperties", "additionalItems")


def _subschemas(schema: dict, location: str):
    """Yield ``(location, subschema)`` for every schema directly nested in ``schema``."""
    for keyword in _SCHEMA_MAPS:
        for name, subschema in schema.get(keyword, {}).items():
            yield f"{location}/{keyword}/{name}", subschema
    for keyword in _SCHEMA_LISTS:
        for index, subschema in enumerate(schema.get(keyword, [])):
            yield f"{location}/{keyword}/{index}", subschema
    for keyword in _SCHEMA_VALUES:
        if isinstance(schema.get(keyword), dict):
            yield f"{location}/{keyword}", schema[keyword]
    items = schema.get("items")
    if isinstance(items, dict):
        yield f"{location}/items", items
    elif isinstance(items, list):
        for index, subschema in enumerate(items):
            yield f"{location}/items/{index}", subschema
    for name, dependency in schema.get("dependencies", {}).items():
        if isinstance(dependency, dict):
            yield f"{location}/dependencies/{name}", dependency


def _keyword_problems(schema: dict, location: str) -> List[str]:
    problems = [f"{location}: keyword {keyword!r} is not draft-04" for keyword in sorted(_LATER_KEYWORDS & set(schema))]
    for keyword in ("exclusiveMinimum", "exclusiveMaximum"):
        if keyword in schema and not isinstance(schema[keyword], bool):
            problems.append(f"{location}: {keyword} must be a boolean in draft-04, not {schema[keyword]!r}")
    if location == "#" and schema.get("$schema") != DRAFT_04:
        problems.append(f"{location}: $schema is {schema.get('$schema')!r}, expected {DRAFT_04!r}")
    if location != "#" and "$schema" in schema:
        problems.append(f"{location}: nested $schema")
    return problems


def draft04_problems(schema: dict, location: str = "#") -> List[str]:
    """Return every place where a schema uses JSON Schema beyond draft-04, as readable messages."""
    problems = _keyword_problems(schema, location)
    for sublocation, subschema in _subschemas(schema, location):
        problems.extend(draft04_problems(subschema, sublocation))
    return problems


class GatewayResponse(NamedTuple):
    # None keeps the status of the underlying error (DEFAULT_4XX, DEFAULT_5XX).
    status_code: Optional[int]
    # Body template for application/json. API Gateway substitutes $context variables in it.
    template: str


# The status a DEFAULT_* response renders with when the context carries no status.
DEFAULT_STATUS = {"DEFAULT_4XX": 400, "DEFAULT_5XX": 500}

_ROUTE_LIST = ", ".join(f"{route.method} /{{stage}}{route.path}" for route in ROUTES)


def _template(message: Optional[str], **extra: str) -> str:
    """Build a JSON body template. With ``message=None`` it passes API Gateway's own message through.

    Every variable but ``$context.error.messageString`` sits inside a JSON string, because
    only ``messageString`` arrives quoted and escaped.
    """
    fields = ['"message": ' + (json.dumps(message) if message else "$context.error.messageString")]
    fields.extend(f'"{key}": {value}' for key, value in extra.items())
    fields.append('"request_id": "$context.requestId"')
    return "{" + ", ".join(fields) + "}"


def _errors_template(field_name: str, rule: str, message: str) -> str:
    """Build the template of an ``errors`` list with one entry, shaped like the function's 400 errors.

    ``message`` is a template fragment that renders as a JSON string, such as a quoted variable.
    """
    return "[{" + f'"field": {json.dumps(field_name)}, "rule": {json.dumps(rule)}, "message": {message}' + "}]"


# API Gateway substitutes the validation error string without quotes, so it goes inside a JSON string.
_VALIDATION_ERROR_STRING = '"$context.error.validationErrorString"'


GATEWAY_RESPONSES = {
    # The contract's 400 body lists errors, but API Gateway gives the template one validation error
    # string. It becomes one entry against the whole body, and its text names each field and rule.
    "BAD_REQUEST_BODY": GatewayResponse(
        400,
        _template(
            "Invalid request body",
            # NOTE: this stays valid JSON only if API Gateway escapes quotes inside the validation
            # error string. Its documentation does not say so, and only the offline renderer is tested.
            errors=_errors_template("body", "model", _VALIDATION_ERROR_STRING),
            validation_error=_VALIDATION_ERROR_STRING,
        ),
    ),
    # API Gateway's message names the missing parameters: "Missing required request parameters: [...]".
    # The parameter validator only checks that required parameters are present, hence rule "required".
    "BAD_REQUEST_PARAMETERS": GatewayResponse(
        400,
        _template(None, errors=_errors_template("query", "required", "$context.error.messageString")),
    ),
    # API Gateway gives this response for an unknown path or method as well as for a request
    # without a signature, so the message names both causes instead of blaming auth alone.
    "MISSING_AUTHENTICATION_TOKEN": GatewayResponse(
        403,
        _template(
            "Missing authentication token: either no route matches this method and path "
            f"(routes: {_ROUTE_LIST}), or the request is not signed with AWS Signature Version 4."
        ),
    ),
    "INVALID_SIGNATURE": GatewayResponse(
        403,
        _template(
            "Invalid request signature: sign the request with AWS Signature Version 4 for service "
            "execute-api and send the path and query string exactly as signed.",
            detail="$context.error.messageString",
        ),
    ),
    "EXPIRED_TOKEN": GatewayResponse(
        403,
        _template(
            "The security token or the signature has expired: sign the request again with current credentials.",
            detail="$context.error.messageString",
        ),
    ),
    "ACCESS_DENIED": GatewayResponse(
        403,
        _template(
            "Access denied: the caller's IAM policy does not allow execute-api:Invoke on this route.",
            detail="$context.error.messageString",
        ),
    ),
    "THROTTLED": GatewayResponse(429, _template("Too many requests: retry with exponential backoff.")),
    "UNAUTHORIZED": GatewayResponse(
        401,
        _template("Unauthorized: the request's credentials were not accepted.", detail="$context.error.messageString"),
    ),
    "DEFAULT_4XX": GatewayResponse(None, _template(None)),
    "DEFAULT_5XX": GatewayResponse(None, _template(None)),
}

_VARIABLE = re.compile(r"\$context\.([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)")


def missing_parameters_message(names) -> str:
    """Return API Gateway's message for required query parameters that a request lacks."""
    return f"Missing required request parameters: [{', '.join(names)}]"


def _flatten(context: Mapping, prefix: str = "") -> Dict[str, object]:
    values = {}
    for key, value in context.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            values.update(_flatten(value, f"{name}."))
        else:
            values[name] = value
    return values


def render_gateway_response(response_type: str, context: Mapping) -> Tuple[int, dict]:
    """Render a gateway response as API Gateway would and return ``(status, body)``.

    ``context`` contains ``$context`` values without the prefix, flat (``{"error.message": ...}``)
    or nested (``{"error": {"message": ...}}``). ``error.messageString`` defaults to
    ``error.message``, a missing variable renders as an empty string, and ``status`` sets the
    status of the DEFAULT_4XX and DEFAULT_5XX responses.
    """
    if response_type not in GATEWAY_RESPONSES:
        raise KeyError(f"unknown gateway response type {response_type!r}: expected one of {sorted(GATEWAY_RESPONSES)}")
    response = GATEWAY_RESPONSES[response_type]
    values = _flatten(context)
    values.setdefault("error.messageString", values.get("error.message", ""))

    def substitute(match: "re.Match") -> str:
        name = match.group(1)
        text = json.dumps("" if values.get(name) is None else str(values[name]))
        # messageString arrives quoted. Every other variable sits inside a JSON string, so it is
        # escaped without the quotes.
        return text if name == "error.messageString" else text[1:-1]

    body = json.loads(_VARIABLE.sub(substitute, response.template))
    status = response.status_code or int(values.get("status") or DEFAULT_STATUS[response_type])
    return status, body


# Access log entry, one JSON object per request. Every value is quoted because API Gateway
# writes "-" for a variable without a value, except messageString, which arrives quoted.
# Free-text variables that API Gateway does not escape (user agent, integration error text)
# are left out, so one odd request cannot make an entry invalid JSON.
ACCESS_LOG_FIELDS = (
    ("request_id", "$context.requestId"),
    ("extended_request_id", "$context.extendedRequestId"),
    ("request_time", "$context.requestTime"),
    ("caller_arn", "$context.identity.userArn"),
    ("caller_account", "$context.identity.accountId"),
    ("source_ip", "$context.identity.sourceIp"),
    ("method", "$context.httpMethod"),
    ("resource_path", "$context.resourcePath"),
    ("path", "$context.path"),
    ("protocol", "$context.protocol"),
    ("status", "$context.status"),
    ("response_length", "$context.responseLength"),
    ("latency_ms", "$context.responseLatency"),
    ("integration_latency_ms", "$context.integrationLatency"),
    ("integration_status", "$context.integration.status"),
    ("error_type", "$context.error.responseType"),
    ("error_message", "$context.error.messageString"),
    ("xray_trace_id", "$context.xrayTraceId"),
)


def access_log_format() -> str:
    """Return the stage's access log format: one line of JSON with every ACCESS_LOG_FIELDS entry."""
    fields = []
    for key, variable in ACCESS_LOG_FIELDS:
        value = variable if variable == "$context.error.messageString" else f'"{variable}"'
        fields.append(f'"{key}": {value}')
    return "{" + ", ".join(fields) + "}"
