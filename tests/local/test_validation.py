"""Request validation messages: API Gateway's bracketed list, with each nested field named."""

import json

import pytest

from devkit.local.validation import BodyInvalid, RouteValidator
from shared import api_definition

MODELS = api_definition.api_models()
TRACK = RouteValidator(api_definition.find_route("POST", "/track"), MODELS)
STATUS = RouteValidator(api_definition.find_route("GET", "/status"), MODELS)

VALID = {"tracking_id": "1Z999AA10123456784", "timestamp": "2024-06-01T08:30:00Z", "status": "delivered"}


def error_string(body) -> str:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    with pytest.raises(BodyInvalid) as raised:
        TRACK.check_body(raw)
    return raised.value.validation_error_string


def test_valid_single_and_batch_accepted():
    TRACK.check_body(json.dumps(VALID).encode("utf-8"))
    TRACK.check_body(json.dumps({"updates": [VALID, VALID]}).encode("utf-8"))


def test_missing_properties_listed_sorted():
    assert (
        error_string({}) == '[object has missing required properties (["status","timestamp","tracking_id"])]'
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"status": "lost"}, '[/status: value "lost" is not one of the allowed values ['),
        (
            {"tracking_id": 12},
            '[/tracking_id: value of type integer is not of the allowed type (allowed: ["string"])]',
        ),
        (
            {"timestamp": "2024-06-01T08:30:00"},
            '[/timestamp: string "2024-06-01T08:30:00" does not match the pattern',
        ),
        ({"carrier": ""}, '[/carrier: string "" is too short (length: 0, minimum: 1)]'),
        ({"description": "x" * 501}, "[/description: string is too long (length: 501, maximum: 500)]"),
        (
            {"location": {"country": "fr"}},
            '[/location/country: string "fr" does not match the pattern "^[A-Z]{2}$"]',
        ),
        (
            {"location": {"town": "Lyon"}},
            '[/location: object has properties that the model does not allow: ["town"]]',
        ),
        ({"extra": 1}, '[object has properties that the model does not allow: ["extra"]]'),
    ],
)
def test_single_update_error_names_field(change, expected):
    assert error_string({**VALID, **change}).startswith(expected)


def test_several_errors_all_listed():
    text = error_string({**VALID, "status": "lost", "carrier": ""})

    assert text.count(", /") == 1
    assert "/carrier: " in text
    assert "/status: " in text


def test_batch_errors_name_item_index():
    text = error_string({"updates": [VALID, {**VALID, "timestamp": "yesterday"}]})

    assert text.startswith('[/updates/1/timestamp: string "yesterday" does not match the pattern')


def test_batch_size_limits():
    assert error_string({"updates": []}) == "[/updates: array has 0 items, fewer than the minimum of 1]"
    assert (
        error_string({"updates": [VALID] * 26})
        == "[/updates: array has 26 items, more than the maximum of 25]"
    )


def test_batch_with_extra_key_reported_against_batch():
    assert error_string({"updates": [VALID], "source": "x"}) == (
        '[object has properties that the model does not allow: ["source"]]'
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "[invalid JSON: the request body is empty]"),
        (b"{", "[invalid JSON: Expecting property name enclosed in double quotes at line 1 column 2]"),
        (b'{"a": Infinity}', "[invalid JSON: Infinity is not a JSON value]"),
        (b"\xc3\x28", "[invalid JSON: the body is not UTF-8 text (byte 0)]"),
    ],
)
def test_invalid_json_described(raw, expected):
    assert error_string(raw) == expected


def test_non_object_body_rejected():
    assert error_string([VALID]).startswith(
        '[value of type array is not of the allowed type (allowed: ["object"])'
    )


def test_status_route_checks_parameters_only():
    assert STATUS.validates_body is False
    assert STATUS.missing_parameters({}) == ["tracking_id"]
    assert STATUS.missing_parameters({"tracking_id": [""]}) == []
    STATUS.check_body(b"not json")
