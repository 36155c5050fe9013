"""Request validation as API Gateway's request validators apply it, before the function runs.

A body validator checks the JSON body against the route's draft-04 model; a parameters
validator checks that every required query string parameter is present. Failures are
described the way API Gateway's ``$context.error.validationErrorString`` does, as a
bracketed list of messages such as ``[object has missing required properties (["status"])]``.
Each message about a nested value starts with its JSON Pointer, so the field is named.
"""

import json
from typing import Iterable, List, Mapping, Optional, Sequence

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

from shared import api_definition


class BodyInvalid(Exception):
    """The body is not JSON or does not match the model; ``validation_error_string`` lists the reasons."""

    def __init__(self, messages: Sequence[str]):
        self.messages = list(messages)
        self.validation_error_string = "[" + ", ".join(self.messages) + "]"
        super().__init__(self.validation_error_string)


class RouteValidator:
    """The request validation of one route, built from ``shared.api_definition``."""

    def __init__(self, route: api_definition.Route, models: Mapping[str, dict]):
        self.route = route
        settings = api_definition.VALIDATORS[route.validator]
        self.validates_body = settings.validate_request_body and route.request_model is not None
        self.validates_parameters = settings.validate_request_parameters
        self.schema: Optional[dict] = models[route.request_model] if self.validates_body else None
        self._validator = Draft4Validator(self.schema) if self.schema is not None else None

    def missing_parameters(self, query: Mapping[str, Sequence[str]]) -> List[str]:
        """Return the required query string parameters absent from ``query``, in declaration order."""
        if not self.validates_parameters:
            return []
        return [name for name in self.route.required_parameters if name not in query]

    def check_body(self, body: bytes) -> None:
        """Raise ``BodyInvalid`` unless the body is strict JSON that matches the route's model."""
        # NOTE: API Gateway picks the model by Content-Type; this validates every body against the
        # application/json model, the only one the routes declare, whatever Content-Type says.
        if self._validator is None:
            return
        document = parse_json(body)
        messages = describe_errors(self._validator.iter_errors(document))
        if messages:
            raise BodyInvalid(messages)


def parse_json(body: bytes):
    """Parse a body as strict JSON: UTF-8, no NaN or Infinity, not empty."""
    if not body.strip():
        raise BodyInvalid(["invalid JSON: the request body is empty"])
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyInvalid([f"invalid JSON: the body is not UTF-8 text (byte {exc.start})"]) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BodyInvalid([f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]) from None
    except ValueError as exc:
        raise BodyInvalid([f"invalid JSON: {exc}"]) from None
    except RecursionError:
        raise BodyInvalid(["invalid JSON: arrays or objects are nested too deeply"]) from None


def describe_errors(errors: Iterable[ValidationError]) -> List[str]:
    """Turn jsonschema errors into messages, descending into the closest branch of oneOf/anyOf."""
    expanded: List[ValidationError] = []
    for error in errors:
        expanded.extend(_expand(error))
    expanded.sort(key=lambda error: (_pointer(error), error.validator or ""))
    # jsonschema reports each missing required property separately; one message lists them all.
    return list(dict.fromkeys(_message(error) for error in expanded))


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _expand(error: ValidationError) -> List[ValidationError]:
    """Replace a failed oneOf/anyOf by the errors of the branch that came closest to matching.

    The closest branch is the one with the fewest distinct messages; ties go to the earlier branch. For
    TrackRequest, a single update with one bad field is reported against the update schema,
    not as "matches neither a single update nor a batch".
    """
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict = {}
    for suberror in error.context:
        branches.setdefault(suberror.relative_schema_path[0], []).append(suberror)
    expanded = {index: [e for sub in found for e in _expand(sub)] for index, found in branches.items()}
    closest = min(expanded, key=lambda index: (len({_message(e) for e in expanded[index]}), index))
    return expanded[closest]


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{part}" for part in error.absolute_path)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _message(error: ValidationError) -> str:
    text = _keyword_message(error)
    pointer = _pointer(error)
    return f"{pointer}: {text}" if pointer else text


def _keyword_message(error: ValidationError) -> str:  # noqa: C901 - one branch per draft-04 keyword
    keyword, value, instance = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = sorted(name for name in value if isinstance(instance, dict) and name not in instance)
        return f"object has missing required properties ({_json(missing)})"
    if keyword == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(name for name in instance if name not in allowed)
        return f"object has properties that the model does not allow: {_json(extra)}"
    if keyword == "type":
        allowed = value if isinstance(value, list) else [value]
        return f"value of type {_type_name(instance)} is not of the allowed type (allowed: {_json(allowed)})"
    if keyword == "enum":
        return f"value {_json(instance)} is not one of the allowed values {_json(value)}"
    if keyword == "pattern":
        return f"string {_json(instance)} does not match the pattern {_json(value)}"
    if keyword == "minLength":
        return f"string {_json(instance)} is too short (length: {len(instance)}, minimum: {value})"
    if keyword == "maxLength":
        return f"string is too long (length: {len(instance)}, maximum: {value})"
    if keyword == "minItems":
        return f"array has {len(instance)} items, fewer than the minimum of {value}"
    if keyword == "maxItems":
        return f"array has {len(instance)} items, more than the maximum of {value}"
    if keyword in ("oneOf", "anyOf"):
        return f"value matches more than one of the {len(value)} allowed forms, expected exactly one"
    return error.message
