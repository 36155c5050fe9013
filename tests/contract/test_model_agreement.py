"""The API Gateway model and the function agree on what a valid tracking update is.

- Every document the function accepts is valid for the model, so the model never
  blocks a valid update.
- Every document generated from the model is accepted by the function, or rejected
  for a rule a draft-04 model cannot express (listed in MODEL_GAPS and the README).
- A broad family of invalid documents is rejected by both.

Examples are bounded (max_examples) and derandomized, so a run takes seconds and a
failure replays identically.
"""

from datetime import datetime, timedelta, timezone

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from shared import contract
from tracking.errors import RequestInvalid
from tracking.validation import validate_track_body

MODEL = contract.models()[contract.TRACK_REQUEST_MODEL]
MODEL_VALIDATOR = jsonschema.Draft4Validator(MODEL)
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

# Rules the function enforces that a draft-04 model cannot: a real calendar date and a
# valid offset, and the window from 2000-01-01 to 24 hours ahead.
MODEL_GAPS = {"date-time", "minimum", "maximum"}

BOUNDED = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _function_verdict(document):
    try:
        validate_track_body(document, NOW)
    except RequestInvalid as exc:
        return exc.errors
    return None


def _is_model_gap(error: dict, document) -> bool:
    if error["rule"] in MODEL_GAPS:
        return True
    # API Gateway's regex engine (and Python's) lets "$" match before one final line
    # feed, while the function anchors at the true end of the value.
    return error["rule"] == "pattern" and "\\n" in error["message"]


characters = st.characters(blacklist_categories=("Cs",))
tracking_ids = st.from_regex(r"\A[A-Za-z0-9_-]{1,40}\Z").flatmap(
    lambda raw: st.integers(0, len(raw)).map(lambda cut: raw[:cut] + " " + raw[cut:] if cut % 3 == 0 else raw)
)
moments = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2025, 12, 30))
offsets = st.sampled_from(["Z", "z", "+00:00", "-05:00", "+05:30", "+14:00", "-12:00"])
fractions = st.sampled_from(["", ".1", ".123", ".123456", ".123456789"])
timestamps = st.builds(lambda m, f, o: m.strftime("%Y-%m-%dT%H:%M:%S") + f + o, moments, fractions, offsets)
locations = st.fixed_dictionaries(
    {},
    optional={
        "city": st.text(characters, min_size=1, max_size=100),
        "region": st.text(characters, min_size=1, max_size=100),
        "postal_code": st.text(characters, min_size=1, max_size=20),
        "country": st.from_regex(r"\A[A-Z]{2}\Z"),
    },
)
valid_updates = st.fixed_dictionaries(
    {
        "tracking_id": tracking_ids,
        "timestamp": timestamps,
        "status": st.sampled_from(contract.function_contract.STATUSES),
    },
    optional={
        "carrier": st.text(characters, min_size=1, max_size=64),
        "carrier_status": st.text(characters, min_size=1, max_size=64),
        "location": locations,
        "description": st.text(characters, min_size=1, max_size=500),
    },
)
valid_documents = st.one_of(
    valid_updates, st.lists(valid_updates, min_size=1, max_size=25).map(lambda u: {"updates": u})
)


@BOUNDED
@given(valid_documents)
def test_function_accepted_documents_pass_model(document):
    assert _function_verdict(document) is None
    assert MODEL_VALIDATOR.is_valid(document), list(MODEL_VALIDATOR.iter_errors(document))[:3]


@BOUNDED
@given(from_schema(MODEL))
def test_model_documents_accepted_or_model_gap(document):
    errors = _function_verdict(document)

    if errors is not None:
        unexplained = [e for e in errors if not _is_model_gap(e, document)]
        assert unexplained == [], f"model allowed {document!r} but the function rejected it: {unexplained}"


def _mutations():
    base = {"tracking_id": "1Z999AA10123456784", "timestamp": "2024-08-15T10:30:00Z", "status": "in_transit"}
    drop = {key: {k: v for k, v in base.items() if k != key} for key in base}
    yield from ((f"missing {k}", v) for k, v in drop.items())
    yield "unknown field", dict(base, statuss="delivered")
    yield "unknown location field", dict(base, location={"town": "Lyon"})
    yield "status outside vocabulary", dict(base, status="lost")
    yield "status wrong case", dict(base, status="DELIVERED")
    yield "tracking id too long", dict(base, tracking_id="A" * 65)
    yield "tracking id punctuation", dict(base, tracking_id="1Z/999")
    yield "tracking id only spaces", dict(base, tracking_id="   ")
    yield "tracking id empty", dict(base, tracking_id="")
    yield "tracking id number", dict(base, tracking_id=1234)
    yield "timestamp without offset", dict(base, timestamp="2024-08-15T10:30:00")
    yield "timestamp date only", dict(base, timestamp="2024-08-15")
    yield "timestamp epoch", dict(base, timestamp=1723717800)
    yield "timestamp space separator", dict(base, timestamp="2024-08-15 10:30:00Z")
    yield "offset without colon", dict(base, timestamp="2024-08-15T10:30:00+0100")
    yield "carrier empty", dict(base, carrier="")
    yield "carrier too long", dict(base, carrier="x" * 65)
    yield "carrier status too long", dict(base, carrier_status="x" * 65)
    yield "description too long", dict(base, description="é" * 501)
    yield "country lower case", dict(base, location={"country": "fr"})
    yield "country three letters", dict(base, location={"country": "FRA"})
    yield "postal code too long", dict(base, location={"postal_code": "1" * 21})
    yield "location not an object", dict(base, location="Lyon")
    yield "null field", dict(base, carrier=None)
    yield "array body", [base]
    yield "string body", "update"
    yield "empty batch", {"updates": []}
    yield "batch too large", {"updates": [base] * 26}
    yield "batch not a list", {"updates": base}
    yield "batch with extra field", {"updates": [base], "carrier": "UPS"}
    yield "batch item invalid", {"updates": [base, dict(base, status="lost")]}


@pytest.mark.parametrize("name, document", list(_mutations()), ids=[n for n, _ in _mutations()])
def test_invalid_documents_rejected_by_both(name, document):
    assert not MODEL_VALIDATOR.is_valid(document), f"model accepted: {name}"
    assert _function_verdict(document) is not None, f"function accepted: {name}"


def test_future_and_ancient_timestamps_are_model_gaps():
    future = (NOW + timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for timestamp in (future, "1999-12-31T23:59:59Z", "2024-02-30T00:00:00Z", "2024-08-15T10:30:00+24:00"):
        document = {"tracking_id": "A1", "timestamp": timestamp, "status": "unknown"}
        assert MODEL_VALIDATOR.is_valid(document), timestamp
        assert {e["rule"] for e in _function_verdict(document)} <= MODEL_GAPS, timestamp
