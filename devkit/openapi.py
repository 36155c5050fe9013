"""The OpenAPI 3.0.3 description of the tracking API, generated from ``shared.api_definition``.

Routes, parameters, request and response models, validators and gateway-response bodies all
come from the module the edge stack and the local API are built from, so ``docs/openapi.json``
cannot describe another API. ``invoke openapi`` writes the file, and a test fails when the
committed file differs from ``render()``.

API Gateway models are JSON Schema draft-04, and OpenAPI 3.0 schema objects are a subset of
it with a few differences. ``$schema`` is dropped, and each model's ``definitions`` become
components of their own with every internal ``$ref`` rewritten to point at them. A keyword
that OpenAPI 3.0 does not accept raises ``OpenApiError`` instead of being dropped.
"""

import json
from pathlib import Path
from typing import Dict, List, Tuple

from shared import api_definition, contract, naming

REPO_ROOT = Path(__file__).resolve().parent.parent
OPENAPI_FILE = REPO_ROOT / "docs" / "openapi.json"

OPENAPI_VERSION = "3.0.3"
API_TITLE = "Logistics tracking API"
# Version of the API contract that the function and the local API implement.
API_VERSION = "1"
SECURITY_SCHEME = "sigv4"
GATEWAY_ERROR_SCHEMA = "GatewayError"
COMPONENT_PREFIX = "#/components/schemas/"
# A placeholder, not an API that exists: API Gateway ids are 10 lower-case letters and digits.
REST_API_ID_PLACEHOLDER = "your-rest-api-id"

# Draft-04 keywords that an OpenAPI 3.0 schema object does not accept.
_UNSUPPORTED_KEYWORDS = ("id", "patternProperties", "dependencies", "additionalItems")

# The gateway responses a caller of any route can get, besides the validator's 400.
# UNAUTHORIZED is left out: API Gateway sends it for Lambda and Cognito authorizers, not for AWS_IAM.
_ROUTE_GATEWAY_RESPONSES = (
    "MISSING_AUTHENTICATION_TOKEN",
    "INVALID_SIGNATURE",
    "EXPIRED_TOKEN",
    "ACCESS_DENIED",
    "THROTTLED",
    "DEFAULT_5XX",
)
_DEFAULT_5XX_STATUS = "5XX"

_STATUS_DESCRIPTIONS = {
    ("TrackShipment", 201): "A new update was stored; the body has the normalized tracking id and timestamp.",
    ("TrackShipment", 200): (
        "The identical update was already stored and nothing changed (UpdateResult with result duplicate), "
        "or a valid batch was processed (BatchResult with one result per item, in request order)."
    ),
    ("TrackShipment", 202): (
        "The update was valid but could not be stored right now. It was parked on the dead letter queue and "
        "is stored by the next redrive, so do not resend it."
    ),
    ("TrackShipment", 400): (
        "Invalid body: the function's errors name each field and rule, with item indexes for a batch. "
        "Nothing was stored."
    ),
    ("TrackShipment", 503): (
        "The update could be neither stored nor parked and nothing was acknowledged. Resend the same body, "
        "which is safe because an identical redelivery is a duplicate."
    ),
    ("GetShipmentStatus", 200): (
        "The latest event (greatest timestamp, not the last received), and with history=true the events "
        "newest first and a next_token when more pages exist."
    ),
    ("GetShipmentStatus", 400): "A missing or invalid query parameter, or a forged or altered next_token.",
    ("GetShipmentStatus", 404): "No update exists for the tracking id.",
}

# Meaning for a caller of API Gateway's own responses, by status.
_GATEWAY_DESCRIPTIONS = {
    "400": "API Gateway's request validator rejected the request before the function ran.",
    "403": (
        "The request is unsigned, badly signed or expired, the caller's IAM policy does not allow "
        "execute-api:Invoke on the route, or no route matches the method and path."
    ),
    "429": "The stage's throttling limits were exceeded: retry with exponential backoff.",
    _DEFAULT_5XX_STATUS: (
        "The function failed or could not reach its storage, ran past its timeout or returned a malformed "
        "response: retry later."
    ),
}

_SUMMARIES = {
    "TrackShipment": "Store one tracking update, or a batch of 1 to 25 updates",
    "GetShipmentStatus": "Return a shipment's latest event, and optionally its event history",
}

_PARAMETER_DESCRIPTIONS = {
    "tracking_id": (
        "1-64 letters, digits, '-' or '_' once spaces are removed; case-insensitive, normalized as in POST /track."
    ),
    "history": "With true, the response also lists the events newest first.",
    "limit": f"Events per page with history=true: 1-{contract.function_contract.MAX_HISTORY_LIMIT}, "
    f"default {contract.function_contract.DEFAULT_HISTORY_LIMIT}.",
    "next_token": (
        "Opaque token from the previous page's next_token, sent together with history=true. A forged or altered "
        "token, or one without history=true, is rejected with 400."
    ),
}

# Request examples, which readers copy and schemathesis sends first. The tracking id has the UPS form of the
# contract (1Z and 16 letters and digits), and the timestamps lie in the past with a UTC offset.
EXAMPLE_TRACKING_ID = "1Z999AA10123456784"
_EXAMPLE_UPDATE = {
    "tracking_id": EXAMPLE_TRACKING_ID,
    "timestamp": "2024-06-01T08:30:00+02:00",
    "status": "in_transit",
    "carrier": "UPS",
    "carrier_status": "I",
    "location": {"city": "Köln", "postal_code": "50667", "country": "DE"},
    "description": "Departed from facility",
}
_REQUEST_EXAMPLES = {
    "TrackShipment": {
        "single": {"summary": "One tracking update", "value": _EXAMPLE_UPDATE},
        "batch": {
            "summary": "A batch of two updates for one shipment",
            "value": {
                "updates": [
                    {
                        "tracking_id": EXAMPLE_TRACKING_ID,
                        "timestamp": "2024-06-02T07:00:00Z",
                        "status": "out_for_delivery",
                    },
                    {
                        "tracking_id": EXAMPLE_TRACKING_ID,
                        "timestamp": "2024-06-02T12:41:05.250Z",
                        "status": "delivered",
                    },
                ]
            },
        },
    },
}
_PARAMETER_EXAMPLES = {"tracking_id": EXAMPLE_TRACKING_ID, "history": "true", "limit": "10"}

# Schema of each route's query string, keyed by path: one property per parameter.
_QUERY_SCHEMAS = {contract.function_contract.STATUS_PATH: contract.status_query_schema}


class OpenApiError(ValueError):
    """The API definition cannot be expressed in OpenAPI 3.0. The message names the schema location."""


def build() -> dict:
    """Return the OpenAPI 3.0.3 document of every route in ``api_definition.ROUTES``."""
    schemas = component_schemas(api_definition.api_models())
    schemas[GATEWAY_ERROR_SCHEMA] = gateway_error_schema()
    paths: Dict[str, dict] = {}
    for route in api_definition.ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": (
                "Ingests carrier tracking updates and answers shipment status queries. Every request is signed "
                f"with AWS Signature Version 4 for service execute-api in {naming.REGION}. Bodies of 400, 403, "
                "429 and 5XX responses that API Gateway sends itself follow the GatewayError schema."
            ),
        },
        "servers": [
            {
                "url": f"https://{{restApiId}}.execute-api.{naming.REGION}.amazonaws.com/{{stage}}",
                "description": "A deployed stage: the edge stack's invokeUrl output is this URL filled in.",
                "variables": {
                    "restApiId": {
                        "default": REST_API_ID_PLACEHOLDER,
                        "description": "The edge stack's restApiId output.",
                    },
                    "stage": {
                        "default": naming.ENVIRONMENTS[0],
                        "enum": list(naming.ENVIRONMENTS),
                        "description": "The stage, named after the environment.",
                    },
                },
            }
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": (
                        "AWS Signature Version 4 (service execute-api), with a caller whose IAM policy allows "
                        "execute-api:Invoke on the route, such as the edge stack's client policy."
                    ),
                    "x-amazon-apigateway-authtype": "awsSigv4",
                }
            },
        },
        "x-amazon-apigateway-request-validators": {
            validator.name: {
                "validateRequestBody": validator.validate_request_body,
                "validateRequestParameters": validator.validate_request_parameters,
            }
            for validator in api_definition.VALIDATORS.values()
        },
        "x-amazon-apigateway-gateway-responses": _gateway_response_extension(),
    }


def render() -> str:
    """Return the document as ``docs/openapi.json`` stores it: sorted keys, two-space indent, final newline."""
    return json.dumps(build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path = OPENAPI_FILE) -> bool:
    """Write the document to ``path`` unless it is already current, and return whether the file changed."""
    text = render()
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def is_current(path: Path = OPENAPI_FILE) -> bool:
    """Return whether ``path`` contains exactly what ``render()`` produces."""
    return path.is_file() and path.read_text(encoding="utf-8") == render()


def component_schemas(models: Dict[str, dict]) -> Dict[str, dict]:
    """Convert draft-04 models to OpenAPI components, one more per entry of a model's ``definitions``.

    A definition ``update`` of model ``TrackRequest`` becomes ``TrackRequestUpdate``.
    """
    components: Dict[str, dict] = {}
    for model, schema in models.items():
        definitions = schema.get("definitions", {})
        names = {name: model + name[:1].upper() + name[1:] for name in definitions}
        entries = [(model, {k: v for k, v in schema.items() if k != "definitions"})]
        entries += [(names[name], definition) for name, definition in definitions.items()]
        for component, subschema in entries:
            collides = component in components or (component != model and component in models)
            if collides:
                raise OpenApiError(f"component name {component!r} from model {model} is already taken")
            components[component] = _convert(subschema, model, names, f"{model}#")
    return components


def gateway_error_schema() -> dict:
    """Return the schema of every body the gateway-response templates render.

    Each template is rendered with sample values. Fields that every template renders are
    required, and no other field can appear, because the templates are the only source.
    """
    bodies = [_sample_body(response_type) for response_type in api_definition.GATEWAY_RESPONSES]
    fields = sorted({name for body in bodies for name in body})
    required = [name for name in fields if all(name in body for body in bodies)]
    return {
        "title": GATEWAY_ERROR_SCHEMA,
        "description": (
            "Body of a response that API Gateway sends itself (a gateway response), rendered from the edge "
            "stack's templates: a message, the request id, and for some types the validation error or the "
            "signature check's detail."
        ),
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": {name: ERRORS_PROPERTY if name == "errors" else {"type": "string"} for name in fields},
    }


# The gateway responses for invalid requests carry one entry in the contract's errors shape.
ERRORS_PROPERTY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["field", "rule", "message"],
        "additionalProperties": False,
        "properties": {"field": {"type": "string"}, "rule": {"type": "string"}, "message": {"type": "string"}},
    },
}


def _sample_body(response_type: str) -> dict:
    context = {
        "requestId": "sample-request-id",
        "status": 500,
        "error": {"message": "sample message", "validationErrorString": "[sample validation error]"},
    }
    _, body = api_definition.render_gateway_response(response_type, context)
    not_strings = [name for name, value in body.items() if not isinstance(value, str) and name != "errors"]
    if not_strings:
        raise OpenApiError(f"gateway response {response_type} renders non-string fields {not_strings}")
    return body


def _convert(schema: dict, model: str, definition_names: Dict[str, str], location: str) -> dict:
    """Return one draft-04 schema as an OpenAPI 3.0 schema object, descending into every subschema."""
    unsupported = [keyword for keyword in _UNSUPPORTED_KEYWORDS if keyword in schema]
    if isinstance(schema.get("type"), list):
        unsupported.append("type (a list of types)")
    if isinstance(schema.get("items"), list):
        unsupported.append("items (a list of schemas)")
    if "definitions" in schema:
        unsupported.append("definitions (below the top level)")
    if unsupported:
        raise OpenApiError(f"{location}: OpenAPI 3.0 schemas do not accept {', '.join(unsupported)}")

    converted = {}
    for keyword, value in schema.items():
        if keyword == "$schema":
            continue
        if keyword == "$ref":
            converted[keyword] = _component_ref(value, model, definition_names, location)
        elif keyword == "properties":
            converted[keyword] = {
                name: _convert(sub, model, definition_names, f"{location}/properties/{name}")
                for name, sub in value.items()
            }
        elif keyword in ("allOf", "anyOf", "oneOf"):
            converted[keyword] = [
                _convert(sub, model, definition_names, f"{location}/{keyword}/{index}")
                for index, sub in enumerate(value)
            ]
        elif keyword in ("items", "not", "additionalProperties") and isinstance(value, dict):
            converted[keyword] = _convert(value, model, definition_names, f"{location}/{keyword}")
        else:
            converted[keyword] = value
    return converted


def _component_ref(reference: str, model: str, definition_names: Dict[str, str], location: str) -> str:
    """Rewrite a reference inside a model to the component that now contains its target."""
    if not reference.startswith("#"):
        raise OpenApiError(f"{location}: $ref {reference!r} points outside the model; only '#...' is supported")
    parts = reference[1:].split("/")
    if len(parts) >= 3 and parts[1] == "definitions":
        if parts[2] not in definition_names:
            raise OpenApiError(f"{location}: $ref {reference!r} names no entry of the model's definitions")
        return COMPONENT_PREFIX + "/".join([definition_names[parts[2]], *parts[3:]])
    return COMPONENT_PREFIX + model + reference[1:]


def _operation(route: api_definition.Route) -> dict:
    validator = api_definition.VALIDATORS[route.validator]
    operation = {
        "operationId": route.operation_name,
        "summary": _SUMMARIES.get(route.operation_name, route.key),
        "security": [{SECURITY_SCHEME: []}],
        "x-amazon-apigateway-request-validator": validator.name,
        "responses": _responses(route),
    }
    parameters = _parameters(route)
    if parameters:
        operation["parameters"] = parameters
    if route.request_model:
        operation["requestBody"] = {
            "required": True,
            "content": {api_definition.JSON_CONTENT_TYPE: _media_type(route)},
        }
    return operation


def _media_type(route: api_definition.Route) -> dict:
    media_type = {"schema": _ref(route.request_model)}
    if route.operation_name in _REQUEST_EXAMPLES:
        media_type["examples"] = _REQUEST_EXAMPLES[route.operation_name]
    return media_type


def _parameters(route: api_definition.Route) -> List[dict]:
    if not route.query_parameters:
        return []
    if route.path not in _QUERY_SCHEMAS:
        raise OpenApiError(f"{route.key} has query parameters but no query schema in _QUERY_SCHEMAS")
    query_schema = _QUERY_SCHEMAS[route.path]()
    properties = query_schema.get("properties", {})
    parameters = []
    for name, required in route.query_parameters.items():
        if name not in properties:
            raise OpenApiError(f"{route.key}: query parameter {name!r} has no property in the query schema")
        parameter = {
            "name": name,
            "in": "query",
            "required": required,
            "schema": _convert(properties[name], "StatusQuery", {}, f"query#/properties/{name}"),
        }
        if name in _PARAMETER_DESCRIPTIONS:
            parameter["description"] = _PARAMETER_DESCRIPTIONS[name]
        if name in _PARAMETER_EXAMPLES:
            parameter["example"] = _PARAMETER_EXAMPLES[name]
        parameters.append(parameter)
    return parameters


def _gateway_statuses(route: api_definition.Route) -> Dict[str, List[str]]:
    """Map each status that API Gateway itself can return for this route to the response types behind it."""
    validator = api_definition.VALIDATORS[route.validator]
    response_types = []
    if validator.validate_request_body and route.request_model:
        response_types.append("BAD_REQUEST_BODY")
    if validator.validate_request_parameters and route.required_parameters:
        response_types.append("BAD_REQUEST_PARAMETERS")
    response_types.extend(_ROUTE_GATEWAY_RESPONSES)
    statuses: Dict[str, List[str]] = {}
    for response_type in response_types:
        status_code = api_definition.GATEWAY_RESPONSES[response_type].status_code
        status = _DEFAULT_5XX_STATUS if status_code is None else str(status_code)
        statuses.setdefault(status, []).append(response_type)
    return statuses


def _responses(route: api_definition.Route) -> dict:
    gateway = _gateway_statuses(route)
    responses = {}
    for status in sorted({str(code) for code in route.responses} | set(gateway)):
        schemas, descriptions = _response_parts(route, status, gateway.get(status, []))
        schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
        responses[status] = {
            "description": " ".join(descriptions),
            "content": {api_definition.JSON_CONTENT_TYPE: {"schema": schema}},
        }
    return responses


def _response_parts(route: api_definition.Route, status: str, gateway_types: List[str]) -> Tuple[list, list]:
    """Return the schemas a response of ``status`` can match and the sentences that describe it."""
    schemas, descriptions = [], []
    model = route.responses.get(int(status)) if status.isdigit() else None
    if model is not None:
        schemas.append(_ref(model))
        description = _STATUS_DESCRIPTIONS.get((route.operation_name, int(status)))
        if description:
            descriptions.append(description)
    if status == _DEFAULT_5XX_STATUS:
        # The function returns 500 with an Error body for an unexpected failure.
        schemas.append(_ref("Error"))
    if gateway_types:
        schemas.append(_ref(GATEWAY_ERROR_SCHEMA))
        lead = "Or, from API Gateway itself: " if descriptions else ""
        types = ", ".join(gateway_types)
        descriptions.append(f"{lead}{_GATEWAY_DESCRIPTIONS[status]} Gateway response types: {types}.")
    if not descriptions:
        raise OpenApiError(f"{route.key} {status} has no description: add one to _STATUS_DESCRIPTIONS")
    return schemas, descriptions


def _gateway_response_extension() -> dict:
    extension = {}
    for response_type, response in api_definition.GATEWAY_RESPONSES.items():
        entry = {"responseTemplates": {api_definition.JSON_CONTENT_TYPE: response.template}}
        if response.status_code is not None:
            entry["statusCode"] = str(response.status_code)
        extension[response_type] = entry
    return extension


def _ref(component: str) -> dict:
    return {"$ref": COMPONENT_PREFIX + component}
