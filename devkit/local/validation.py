"""Request validation as API Gateway's request validators apply it, before the function runs.

A body validator checks the JSON body against the route's draft-04 model; a parameters
validator checks that every required query string parameter is present. Failures are
described the way API Gateway's ``$context.error.validationErrorString`` does, as a
bracketed list of messages such as ``[object has missing required properties (["status"])]``.
Each message about a nested value starts with its JSON Pointer, so the field is named.
"""

import json
import re
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

from shared import api_definition

# Maximum length of a quoted value or property name in a message, so a megabyte value is not echoed back.
MAX_QUOTED_CHARACTERS = 80
# Maximum number of names listed in one message about properties that the model does not allow.
MAX_LISTED_NAMES = 10
# A value nested too deeply to validate is named by at most this many pointer segments. The
# deepest field of the track model, /updates/{index}/location/city, has 4.
MAX_POINTER_SEGMENTS = 4

# Python strings from json.loads keep a lone surrogate escape such as "\ud800" as a code point
# that UTF-8 cannot encode. Surrogate pairs arrive already combined into one character.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


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
        try:
            messages = describe_errors(self._validator.iter_errors(document))
        except RecursionError:
            # jsonschema and the messages recurse once per nesting level (jsonschema builds its own
            # messages with repr()), so a body that parses can still exceed the recursion limit here.
            raise BodyInvalid([_nested_too_deeply(document)]) from None
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


MAX_MESSAGES = 20


def describe_errors(errors: Iterable[ValidationError]) -> List[str]:
    """Turn jsonschema errors into messages, descending into the closest branch of oneOf/anyOf."""
    expanded: List[ValidationError] = []
    for error in errors:
        expanded.extend(_expand(error))
    expanded.sort(key=lambda error: (_pointer(error), error.validator or ""))
    # jsonschema reports each missing required property separately; one message lists them all.
    messages = list(dict.fromkeys(_message(error) for error in expanded))
    # A batch of thousands of invalid items would otherwise get a response far larger than its body.
    # NOTE: whether API Gateway caps its own list is not documented; this cap is ours.
    if len(messages) > MAX_MESSAGES:
        messages = messages[:MAX_MESSAGES] + [f"... and {len(messages) - MAX_MESSAGES} more"]
    return messages


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _expand(error: ValidationError) -> List[ValidationError]:
    """Replace a failed oneOf/anyOf by the errors of the branch that came closest to matching.

    The candidates are the branches that ``_candidate_branches`` selects. Among them, the closest
    is the one with the fewest distinct messages, and ties go to the earlier branch. For
    TrackRequest, a single update with one bad field is reported against the update schema,
    not as "matches neither a single update nor a batch".
    """
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict = {}
    for suberror in error.context:
        branches.setdefault(suberror.relative_schema_path[0], []).append(suberror)
    expanded = {index: [e for sub in found for e in _expand(sub)] for index, found in branches.items()}
    candidates = _candidate_branches(error, list(expanded))
    closest = min(candidates, key=lambda index: (len({_message(e) for e in expanded[index]}), index))
    return expanded[closest]


def _candidate_branches(error: ValidationError, indexes: List[int]) -> List[int]:
    """Return the oneOf/anyOf branches that the instance's properties select.

    A branch that lists ``required`` properties itself is keyed by them, like TrackRequest's
    batch form by "updates". An object that has all the properties of a keyed branch selects
    that branch. Any other instance selects the branches without keys, such as the
    single-update form, which is a ``$ref``. Counting messages alone cannot decide this,
    because a batch whose items break two or more rules ties with the single-update form.
    """
    keys = {index: error.validator_value[index].get("required") for index in indexes}
    unkeyed = [index for index in indexes if not keys[index]]
    if isinstance(error.instance, dict):
        selected = [index for index in indexes if keys[index] and all(name in error.instance for name in keys[index])]
        if selected:
            return selected
    return unkeyed or indexes


def _nested_too_deeply(document) -> str:
    """Return the message for a document that jsonschema cannot validate because of its depth."""
    pointer, levels = _deepest_nesting(document)
    text = f"arrays or objects are nested too deeply to validate ({levels} levels)"
    return _escape_surrogates(f"{pointer}: {text}" if pointer else text)


def _deepest_nesting(document) -> Tuple[str, int]:
    """Return the JSON Pointer of the value with the deepest nesting and the levels below it.

    The deepest chain of arrays and objects is the likeliest cause of a RecursionError. Its
    pointer ends at the first array directly inside an array, or after MAX_POINTER_SEGMENTS
    segments, so that it names the field and not every level. The walk uses a list instead
    of recursion, because the document is deeper than the stack allows.
    """
    # Each node is (parent node index, key in the parent, value, depth), arrays and objects only.
    nodes: List[tuple] = [(None, None, document, 1)]
    pending = [0]
    deepest = 0
    while pending:
        index = pending.pop()
        value, depth = nodes[index][2], nodes[index][3]
        if depth > nodes[deepest][3]:
            deepest = index
        children: Iterable[tuple]
        if isinstance(value, dict):
            children = value.items()
        elif isinstance(value, list):
            children = enumerate(value)
        else:
            children = ()
        for key, child in children:
            if isinstance(child, (dict, list)):
                nodes.append((index, key, child, depth + 1))
                pending.append(len(nodes) - 1)

    chain = []
    index = deepest
    while index is not None:
        chain.append(nodes[index])
        index = nodes[index][0]
    chain.reverse()

    segments: List[str] = []
    for position, (_, key, value, _) in enumerate(chain):
        if position > 0:
            segments.append(_shortened(str(key)))
        next_value = chain[position + 1][2] if position + 1 < len(chain) else None
        if len(segments) == MAX_POINTER_SEGMENTS or (isinstance(value, list) and isinstance(next_value, list)):
            break
    pointer = "".join(f"/{segment}" for segment in segments)
    return pointer, nodes[deepest][3] - len(segments)


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{part}" for part in error.absolute_path)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _quoted(value) -> str:
    """Return a value as JSON, shortened to MAX_QUOTED_CHARACTERS."""
    return _shortened(_json(value))


def _shortened(text: str) -> str:
    """Return ``text``, or its start and "..." when it is longer than MAX_QUOTED_CHARACTERS."""
    if len(text) <= MAX_QUOTED_CHARACTERS:
        return text
    return text[: MAX_QUOTED_CHARACTERS - 3] + "..."


def _quoted_names(names: Sequence[str]) -> str:
    """Return property names as a JSON array of quoted names, listing at most MAX_LISTED_NAMES."""
    listed = "[" + ",".join(_quoted(name) for name in names[:MAX_LISTED_NAMES]) + "]"
    more = len(names) - MAX_LISTED_NAMES
    return f"{listed} and {more} more" if more > 0 else listed


def _escape_surrogates(text: str) -> str:
    """Write each lone surrogate as its JSON escape, so that the message can be encoded as UTF-8."""
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


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
    return _escape_surrogates(f"{pointer}: {text}" if pointer else text)


def _keyword_message(error: ValidationError) -> str:  # noqa: C901 - one branch per draft-04 keyword
    keyword, value, instance = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = sorted(name for name in value if isinstance(instance, dict) and name not in instance)
        return f"object has missing required properties ({_json(missing)})"
    if keyword == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(name for name in instance if name not in allowed)
        return f"object has properties that the model does not allow: {_quoted_names(extra)}"
    if keyword == "type":
        allowed = value if isinstance(value, list) else [value]
        return f"value of type {_type_name(instance)} is not of the allowed type (allowed: {_json(allowed)})"
    if keyword == "enum":
        return f"value {_quoted(instance)} is not one of the allowed values {_json(value)}"
    if keyword == "pattern":
        return f"string {_quoted(instance)} does not match the pattern {_json(value)}"
    if keyword == "minLength":
        return f"string {_quoted(instance)} is too short (length: {len(instance)}, minimum: {value})"
    if keyword == "maxLength":
        return f"string is too long (length: {len(instance)}, maximum: {value})"
    if keyword == "minItems":
        return f"array has {len(instance)} items, fewer than the minimum of {value}"
    if keyword == "maxItems":
        return f"array has {len(instance)} items, more than the maximum of {value}"
    if keyword in ("oneOf", "anyOf"):
        return f"value matches more than one of the {len(value)} allowed forms, expected exactly one"
    return error.message
