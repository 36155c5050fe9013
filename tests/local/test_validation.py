"""Request validation messages: API Gateway's bracketed list, with each nested field named."""

import json

import pytest

from devkit.local import validation
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
    assert error_string({}) == '[object has missing required properties (["status","timestamp","tracking_id"])]'


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
    assert error_string({"updates": [VALID] * 26}) == "[/updates: array has 26 items, more than the maximum of 25]"


def test_batch_with_extra_key_reported_against_batch():
    assert error_string({"updates": [VALID], "source": "x"}) == (
        '[object has properties that the model does not allow: ["source"]]'
    )


def test_batch_item_breaking_two_rules_reported_against_batch():
    text = error_string({"updates": [VALID, {"trackingId": "1Z999", "timestamp": "2024-06-01T08:30:00Z"}]})

    assert text.startswith('[/updates/1: object has properties that the model does not allow: ["trackingId"]')
    assert '/updates/1: object has missing required properties (["status","tracking_id"])' in text
    assert '["updates"]' not in text


def test_batch_with_update_fields_reported_against_batch():
    text = error_string({"updates": [VALID], **VALID})

    assert text == '[object has properties that the model does not allow: ["status","timestamp","tracking_id"]]'


def test_object_without_updates_reported_against_single_update():
    # The single-update form gets four messages and the batch form two, so the key decides, not the count.
    text = error_string({"status": "lost", "carrier": "", "source": "x"})

    assert "updates" not in text
    assert '(["timestamp","tracking_id"])' in text
    assert "/status: " in text


def test_lone_surrogate_written_as_escape():
    text = error_string(b'{"tracking_id": "A\\ud800", "timestamp": "2024-06-01T08:30:00Z", "status": "\\udfff"}')

    assert '/tracking_id: string "A\\ud800" does not match' in text
    assert '/status: value "\\udfff" is not one of' in text
    text.encode("utf-8")


def test_lone_surrogate_field_name_written_as_escape():
    text = error_string(
        b'{"tracking_id": "A", "timestamp": "2024-06-01T08:30:00Z", "status": "delivered", "\\udc00": 1}'
    )

    assert text == '[object has properties that the model does not allow: ["\\udc00"]]'


def test_long_value_cut_in_message():
    text = error_string({**VALID, "status": "s" * 1_000_000, "tracking_id": "t" * 1_000_000})
    kept = validation.MAX_QUOTED_CHARACTERS - 4

    assert '/status: value "' + "s" * kept + "... is not one of" in text
    assert '/tracking_id: string "' + "t" * kept + "... does not match" in text
    assert len(text) < 1000


def test_many_extra_names_listed_up_to_maximum():
    extra = {f"extra_{index:02d}": 1 for index in range(validation.MAX_LISTED_NAMES + 3)}
    text = error_string({**VALID, **extra})
    listed = ",".join(f'"extra_{index:02d}"' for index in range(validation.MAX_LISTED_NAMES))

    assert text == f"[object has properties that the model does not allow: [{listed}] and 3 more]"


def test_long_field_name_cut_in_message():
    text = error_string({**VALID, "n" * 10_000: 1})

    assert len(text) < 200
    assert text.endswith("...]]")


def test_recursion_error_reported_as_nested_too_deeply(monkeypatch):
    def exhaust_stack(errors):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(validation, "describe_errors", exhaust_stack)
    text = error_string({**VALID, "location": {"city": [[[[]]]]}})

    assert text == "[/location/city: arrays or objects are nested too deeply to validate (4 levels)]"


def nested_lists(depth: int) -> list:
    innermost: list = []
    outer = innermost
    for _ in range(depth - 1):
        outer = [outer]
    return outer


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"status": nested_lists(5000)}, ("/status", 5000)),
        ({"updates": nested_lists(5000)}, ("/updates", 5000)),
        ({"tracking_id": "A", "location": {"city": "B", "country": nested_lists(3)}}, ("/location/country", 3)),
        ({"updates": [VALID, {"location": {"city": nested_lists(3)}}]}, ("/updates/1/location/city", 3)),
        (nested_lists(5000), ("", 5000)),
    ],
)
def test_deepest_nesting_names_field(document, expected):
    assert validation._deepest_nesting(document) == expected


def test_deepest_nesting_long_key_shortened():
    pointer, levels = validation._deepest_nesting({"k" * 10_000: nested_lists(3)})

    assert pointer == "/" + "k" * (validation.MAX_QUOTED_CHARACTERS - 3) + "..."
    assert levels == 3


def test_deepest_nesting_of_objects_stops_after_maximum_segments():
    document: dict = {}
    for _ in range(5000):
        document = {"a": document}

    pointer, levels = validation._deepest_nesting({"status": document})

    assert pointer == "/status/a/a/a"
    assert levels == 4998


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
    assert error_string([VALID]).startswith('[value of type array is not of the allowed type (allowed: ["object"])')


def test_status_route_checks_parameters_only():
    assert STATUS.validates_body is False
    assert STATUS.missing_parameters({}) == ["tracking_id"]
    assert STATUS.missing_parameters({"tracking_id": [""]}) == []
    STATUS.check_body(b"not json")
