"""Validate tracking updates against the contract's schema and normalize them.

The schema (the same one API Gateway's model uses) checks shapes, lengths, patterns
and the status vocabulary. The rules a draft-04 schema cannot express are checked
here after it: calendar validity of the timestamp, its UTC offset range, and its
allowed window (not before 2000-01-01, at most 24 hours ahead).

Every broken rule becomes one error entry naming the field, the rule and the value,
so a carrier's engineer can fix the payload without reading our code.
"""

import copy
import json
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Optional

import fastjsonschema

from tracking import contract
from tracking.errors import RequestInvalid

EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_FUTURE = timedelta(hours=24)

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)
_LOCAL_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_MAX_VALUE_IN_MESSAGE = 80
_SURROGATE = re.compile("[\ud800-\udfff]")
# A parsed body can hold a lone surrogate only if the raw text has one, or a \uD800-\uDFFF escape.
_SURROGATE_SOURCE = re.compile("[\ud800-\udfff]|\\\\u[dD][89abcdefABCDEF]")

_PATTERN_HINTS = {
    "tracking_id": "must be 1-64 letters, digits, '-' or '_' once spaces are removed",
    "timestamp": "must be an RFC 3339 date-time with a UTC offset, such as 2024-08-15T10:30:00Z "
    "or 2024-08-15T10:30:00-05:00",
    "location.country": "must be an ISO 3166-1 alpha-2 code in upper case, such as US",
    "limit": "must be a whole number from 1 to 100",
}

_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


@lru_cache(maxsize=1)
def track_request_schema() -> dict:
    return contract.load_schema(contract.MODEL_FILES["TrackRequest"])


@lru_cache(maxsize=1)
def status_query_schema() -> dict:
    return contract.load_schema(contract.STATUS_QUERY_SCHEMA_FILE)


# id of a field schema -> (the schema, its compiled validator). The schemas are loaded once and
# never change, so the identity of one is a cheap key that holds for the life of the sandbox.
_LEAF_VALIDATORS: dict = {}


def _leaf_validator(schema: dict):
    """Return the validator of one field schema, compiled on first use: a cold start pays only for
    the fields it meets, and every item of a batch shares one validator per field."""
    entry = _LEAF_VALIDATORS.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, fastjsonschema.compile(copy.deepcopy(schema)))
        _LEAF_VALIDATORS[id(schema)] = entry
    return entry[1]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > _MAX_VALUE_IN_MESSAGE:
        text = text[: _MAX_VALUE_IN_MESSAGE - 3] + "..."
    return text


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _error(field: str, rule: str, message: str, item: Optional[int]) -> dict:
    entry = {"field": field, "rule": rule, "message": message}
    if item is not None:
        entry["item"] = item
    return entry


def _leaf_error(field: str, schema: dict, value: Any, rule: str, item: Optional[int]) -> dict:
    shown = _shown(value)
    if rule == "type":
        message = f"{field} must be a {schema['type']}, got {_json_type(value)} {shown}".rstrip()
    elif rule in ("minLength", "maxLength"):
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        message = f"{field} must be {low}-{high} characters long, got {len(value)}: {shown}"
    elif rule == "enum":
        message = f"{field} must be one of {', '.join(schema['enum'])}, got {shown}"
    elif rule == "pattern" and field.endswith("timestamp") and _LOCAL_TIMESTAMP.match(value):
        rule = "offset"
        message = (
            f"{field} {shown} has no UTC offset; add Z or +hh:mm/-hh:mm, because guessing the zone "
            "would corrupt the order of events"
        )
    elif rule == "pattern":
        hint = _PATTERN_HINTS.get(field.split("].", 1)[-1], f"must match {schema['pattern']}")
        message = f"{field} {hint}, got {shown}"
    else:
        message = f"{field} breaks the {rule} rule, got {shown}"
    return _error(field, rule, message, item)


def _check_object(
    value: Any, schema: dict, path: str, item: Optional[int], errors: list, label: str = "update"
) -> None:
    """Check an object against a draft-04 object schema, collecting every broken rule."""
    label = path or label
    if not isinstance(value, dict):
        got = f"{_json_type(value)} {_shown(value)}".rstrip()
        errors.append(_error(label, "type", f"{label} must be an object, got {got}", item))
        return
    prefix = f"{path}." if path else ""
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            errors.append(_error(prefix + name, "required", f"{prefix}{name} is required", item))
    if schema.get("additionalProperties") is False:
        for name in value:
            if name not in properties:
                allowed = ", ".join(properties)
                errors.append(
                    _error(
                        prefix + name,
                        "additionalProperties",
                        f"{prefix}{name} is not a field of {label}; allowed fields are {allowed}",
                        item,
                    )
                )
    for name, field_schema in properties.items():
        if name not in value:
            continue
        field = prefix + name
        if field_schema.get("type") == "object":
            _check_object(value[name], field_schema, field, item, errors)
            continue
        validate = _leaf_validator(field_schema)
        try:
            validate(value[name])
        except fastjsonschema.JsonSchemaValueException as exc:
            errors.append(_leaf_error(field, field_schema, value[name], exc.rule, item))


def invalid_body(reason: str) -> RequestInvalid:
    return RequestInvalid("invalid request body", [{"field": "body", "rule": "json", "message": reason}])


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in JSON")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list) -> dict:
    # A repeated key would silently drop one of the values, so it is rejected like a typo.
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def _surrogate_errors(value: Any, path: str, errors: list) -> None:
    """Collect every string, key or value, holding a lone UTF-16 surrogate such as \\ud800."""
    if isinstance(value, str):
        if _has_surrogate(value):
            errors.append(
                _error(
                    path or "body",
                    "unicode",
                    f"{path or 'body'} contains an unpaired UTF-16 surrogate; send valid Unicode text",
                    None,
                )
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            shown_key = key.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            child = f"{path}.{shown_key}" if path else shown_key
            if _has_surrogate(key):
                errors.append(_error(child, "unicode", "a field name contains an unpaired UTF-16 surrogate", None))
            _surrogate_errors(item, child, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _surrogate_errors(item, f"{path}[{index}]", errors)


def parse_body(raw: Optional[str]) -> Any:
    """Parse a request body as strict JSON, with an actionable error.

    Strict means: no NaN or Infinity, no key twice in one object, and no lone surrogate
    escapes, which cannot be stored as UTF-8.
    """
    if raw is None or not raw.strip():
        raise invalid_body('body is empty; send one tracking update or {"updates": [...]}')
    try:
        body = json.loads(raw, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise invalid_body(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except _DuplicateKey as exc:
        raise RequestInvalid(
            "invalid request body",
            [
                _error(
                    exc.key,
                    "uniqueKeys",
                    f"{exc.key} appears more than once in one object; send each field once",
                    None,
                )
            ],
        ) from None
    except ValueError as exc:
        raise invalid_body(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise invalid_body("body nests arrays or objects too deeply to be a tracking update") from None
    errors: list = []
    if _SURROGATE_SOURCE.search(raw) is None:
        return body
    try:
        _surrogate_errors(body, "", errors)
    except RecursionError:
        raise invalid_body("body nests arrays or objects too deeply to be a tracking update") from None
    if errors:
        raise RequestInvalid("invalid request body", errors)
    return body


def normalize_tracking_id(raw: str) -> str:
    """Remove spaces and upper-case, so every spelling of a number names one shipment."""
    return raw.replace(" ", "").upper()


def format_timestamp(moment: datetime) -> str:
    """Return the contract's response form, UTC with milliseconds: YYYY-MM-DDTHH:MM:SS.sssZ."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_timestamp(raw: str, field: str, item: Optional[int], now: datetime, errors: list) -> Optional[datetime]:
    """Parse an RFC 3339 date-time with offset, appending an error for each broken rule."""
    match = _TIMESTAMP.match(raw)
    if match is None:  # the schema pattern rejected it already
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_hours, off_minutes = match.groups()
    try:
        offset = timedelta(0)
        if not zulu:
            if int(off_hours) > 23 or int(off_minutes) > 59:
                raise ValueError(f"offset {sign}{off_hours}:{off_minutes} is out of range")
            offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
            if sign == "-":
                offset = -offset
        # Fractions beyond milliseconds are truncated: the stored form keeps milliseconds.
        microsecond = int((fraction or "0")[:6].ljust(6, "0"))
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            microsecond,
            tzinfo=timezone(offset),
        )
    except ValueError as exc:
        errors.append(_error(field, "date-time", f"{field} {_shown(raw)} is not a valid date-time: {exc}", item))
        return None
    if moment < EARLIEST_EVENT:
        errors.append(_error(field, "minimum", f"{field} {_shown(raw)} is before 2000-01-01T00:00:00Z", item))
        return None
    if moment > now + MAX_FUTURE:
        errors.append(_error(field, "maximum", f"{field} {_shown(raw)} is more than 24 hours in the future", item))
        return None
    return moment


def _normalize(update: dict, path: str, item: Optional[int], now: datetime, errors: list) -> Optional[dict]:
    before = len(errors)
    _check_object(update, track_request_schema()["definitions"]["update"], path, item, errors)
    if len(errors) > before:
        return None
    prefix = f"{path}." if path else ""
    moment = parse_timestamp(update["timestamp"], prefix + "timestamp", item, now, errors)
    if moment is None:
        return None
    normalized = dict(update)
    if normalized.get("location") == {}:
        # An empty location says nothing, so it is the same event as one without a location.
        del normalized["location"]
    normalized["tracking_id"] = normalize_tracking_id(update["tracking_id"])
    normalized["timestamp"] = format_timestamp(moment)
    return normalized


def validate_track_body(body: Any, now: Optional[datetime] = None) -> tuple:
    """Validate a POST /track body and return (is_batch, normalized updates).

    Raises ``RequestInvalid`` listing every broken rule; a batch is rejected whole
    when any item is invalid, with the item indexes named.
    """
    now = now or datetime.now(timezone.utc)
    errors: list = []
    if isinstance(body, dict) and "updates" in body:
        batch_schema = track_request_schema()["oneOf"][1]
        updates = body["updates"]
        for name in body:
            if name != "updates":
                errors.append(
                    _error(
                        name,
                        "additionalProperties",
                        f'{name} is not a field of a batch; a batch has only "updates"',
                        None,
                    )
                )
        limits = batch_schema["properties"]["updates"]
        low, high = limits["minItems"], limits["maxItems"]
        if not isinstance(updates, list):
            errors.append(_error("updates", "type", f"updates must be an array, got {_json_type(updates)}", None))
        elif not low <= len(updates) <= high:
            errors.append(
                _error(
                    "updates",
                    "minItems" if len(updates) < low else "maxItems",
                    f"updates must hold {low}-{high} updates, got {len(updates)}",
                    None,
                )
            )
        if errors:
            raise RequestInvalid("invalid batch", errors)
        normalized = [_normalize(u, f"updates[{i}]", i, now, errors) for i, u in enumerate(updates)]
        if errors:
            items = sorted({e["item"] for e in errors})
            raise RequestInvalid(
                f"invalid batch: {'item' if len(items) == 1 else 'items'} {', '.join(map(str, items))} "
                f"{'breaks' if len(items) == 1 else 'break'} the contract; nothing was stored",
                errors,
            )
        return True, normalized

    single = _normalize(body, "", None, now, errors)
    if errors:
        raise RequestInvalid("invalid tracking update", errors)
    return False, [single]


def validate_status_query(params: dict, max_limit: int, default_limit: int) -> dict:
    """Validate GET /status query parameters and return them normalized."""
    errors: list = []
    _check_object(params, status_query_schema(), "", None, errors, label="query string")
    limit = int(params.get("limit", default_limit)) if not errors else 0
    if not errors and limit > max_limit:
        errors.append(_error("limit", "maximum", f"limit must be 1-{max_limit}, got {limit}", None))
    if errors:
        raise RequestInvalid("invalid query string", errors)
    return {
        "tracking_id": normalize_tracking_id(params["tracking_id"]),
        "history": params.get("history") == "true",
        "limit": limit,
        "next_token": params.get("next_token"),
    }
