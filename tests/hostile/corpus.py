"""Hostile and malformed requests to the local API, each with the response the contract requires.

Every entry is one HTTP request exactly as it goes on the wire: method, raw path with the
stage, raw query string, body bytes and extra headers. It comes with the status the contract
requires and a fragment of text that the response must contain. For an error, the fragment
must appear in the error text (``message``, ``validation_error``, ``detail`` and each
``errors[].message``), and it is chosen so that a carrier's engineer can find the broken
field or rule from it. For an accepted update, it must appear in the response body, usually
as the normalized value.

``stored`` is the number of table items the request must add. Every rejected request must
leave the table and the dead letter queue unchanged.

Decisions where the contract is silent are written in ``note``. ``defect`` names a way the
local API or the function currently breaks the contract. The test marks such an entry as
an expected failure (strict), so it starts failing once the defect is fixed and the mark
is due for removal.

Decisions recorded here:

- Duplicate object keys (``{"tracking_id": "A", "tracking_id": "B"}``): Python's ``json``
  keeps the last value, and RFC 8259 notes that other parsers report an error or all pairs.
  The update's meaning then depends on the parser, so the contract's rule that a typo never
  silently drops data extends to it: a body with a repeated key is rejected with 400 naming
  the key.
- A repeated query parameter (``tracking_id=A&tracking_id=B``) is rejected the same way.
  The function reads one value from ``queryStringParameters`` (the last one, in the local
  API), and silently looking up one of two shipments is the same kind of guess.
- A JSON body is accepted whatever its Content-Type header declares. API Gateway validates
  only a body whose Content-Type has a model, and the function reads every body as JSON.
- An escaped NUL (``\\u0000``) inside free text is a Unicode character like any other and is
  stored as sent. In a tracking id it breaks the id's pattern.
- A UTF-8 byte order mark before the JSON is rejected. RFC 8259 forbids sending one.
- ``+`` in a query string arrives as a plus sign, not a space, and breaks the tracking id pattern.
- An unknown method or path gets API Gateway's 403 ``Missing Authentication Token``, whose
  message names both possible causes and the routes that exist. The local API splits the path
  as sent at each slash, then decodes percent escapes in each segment and keeps dot segments.
- A body whose "updates" key makes it a batch is reported against the batch form of the model,
  and any other body against the single-update form.
"""

import base64
import gzip
import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

STAGE = "dev"
TRACK = f"/{STAGE}/track"
STATUS = f"/{STAGE}/status"

# A shipment with three events that the test stores before replaying the GET entries.
SEED_TRACKING_ID = "HX-SEED-1Z999AA10123456784"
SEED_TIMESTAMPS = ("2024-06-01T06:00:00Z", "2024-06-01T07:00:00Z", "2024-06-01T08:00:00Z")

EVENT_TIME = "2024-06-01T08:30:00Z"
EVENT_TIME_STORED = "2024-06-01T08:30:00.000Z"

MEBIBYTE = 1024 * 1024
# API Gateway's request payload limit for REST APIs.
GATEWAY_LIMIT_BYTES = 10 * MEBIBYTE

CATEGORIES = (
    "json-syntax",
    "types",
    "nulls",
    "sizes",
    "encodings",
    "depth",
    "unicode",
    "limits",
    "batch",
    "timestamps",
    "query",
    "content-type",
    "method",
    "path",
    "signature",
)

ROUTE_MISSING = "no route matches this method and path"
INVALID_JSON = "invalid JSON"
LIMIT_RULE = "from 1 to 100"


@dataclass(frozen=True)
class HostileRequest:
    """One request of the corpus and the response the contract requires for it."""

    name: str
    category: str
    method: str
    # Raw path as sent, including the stage.
    path: str
    status: int
    fragment: str
    # Left out of the repr, because some bodies are megabytes long.
    body: bytes = field(default=b"", repr=False)
    # Raw query string as sent, already percent-encoded, without the leading "?".
    query: str = ""
    # Headers besides the signature headers. Content-Type is application/json unless given.
    headers: Mapping[str, str] = field(default_factory=dict)
    signed: bool = True
    stored: int = 0
    # Expected "result" of each batch item, in request order, for an accepted batch.
    results: Optional[Tuple[str, ...]] = None
    note: str = ""
    defect: str = ""


def update(tracking_id: str, **fields) -> dict:
    """Return a valid single update for ``tracking_id``, with ``fields`` added or replaced."""
    value = {"tracking_id": tracking_id, "timestamp": EVENT_TIME, "status": "in_transit"}
    value.update(fields)
    return value


def encoded(value) -> bytes:
    """Encode a JSON value as UTF-8, keeping non-ASCII characters literal."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def raw_update(tracking_id: str, extra: str = "") -> str:
    """Return a valid single update as JSON text, with ``extra`` spliced in before the closing brace."""
    return f'{{"tracking_id": "{tracking_id}", "timestamp": "{EVENT_TIME}", "status": "in_transit"{extra}}}'


def update_with_nested_value(tracking_id: str, opening: str, depth: int, closing: str) -> bytes:
    """Return a valid update's fields followed by ``opening``, ``depth`` nested arrays and ``closing``."""
    fields = raw_update(tracking_id)[:-1]
    return (fields + opening).encode() + nested_arrays(depth) + closing.encode()


def nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def batch(prefix: str, count: int) -> dict:
    return {"updates": [update(f"{prefix}-{index}") for index in range(count)]}


def with_bad_item(value: dict, bad_index: int, **bad_fields) -> dict:
    """Return the batch ``value`` with ``bad_fields`` set on its item ``bad_index``."""
    value["updates"][bad_index].update(bad_fields)
    return value


def padded_update(tracking_id: str, total_bytes: int) -> bytes:
    """Return a valid update followed by spaces up to ``total_bytes``: valid JSON of that size."""
    text = encoded(update(tracking_id))
    return text + b" " * (total_bytes - len(text))


def description_of_size(tracking_id: str, total_bytes: int) -> bytes:
    """Return an update whose description makes the body exactly ``total_bytes`` long."""
    length = total_bytes - len(encoded(update(tracking_id, description="")))
    return encoded(update(tracking_id, description="d" * length))


def post(name: str, category: str, body: bytes, status: int, fragment: str, **options) -> HostileRequest:
    return HostileRequest(name, category, "POST", TRACK, status, fragment, body=body, **options)


def get_status(name: str, query: str, status: int, fragment: str, category: str = "query", **options) -> HostileRequest:
    return HostileRequest(name, category, "GET", STATUS, status, fragment, query=query, **options)


def route(name: str, category: str, method: str, path: str, body: bytes = b"") -> HostileRequest:
    return HostileRequest(name, category, method, path, 403, ROUTE_MISSING, body=body)


_JSON_SYNTAX = (
    post("json_empty_body", "json-syntax", b"", 400, "body is empty"),
    post("json_whitespace_only", "json-syntax", b" \r\n\t ", 400, "body is empty"),
    post("json_truncated", "json-syntax", b'{"tracking_id": "HX-TRUNC", "timesta', 400, INVALID_JSON),
    post("json_trailing_comma", "json-syntax", raw_update("HX-TRAILING", ",").encode(), 400, INVALID_JSON),
    post(
        "json_single_quotes",
        "json-syntax",
        b"{'tracking_id': 'HX-SINGLE', 'timestamp': '2024-06-01T08:30:00Z', 'status': 'in_transit'}",
        400,
        INVALID_JSON,
    ),
    post("json_unquoted_keys", "json-syntax", b"{tracking_id: 1}", 400, INVALID_JSON),
    post(
        "json_line_comment",
        "json-syntax",
        ("// sent by the nightly export\n" + raw_update("HX-COMMENT")).encode(),
        400,
        INVALID_JSON,
    ),
    post(
        "json_block_comment",
        "json-syntax",
        raw_update("HX-BLOCK", ' /* carrier code */, "carrier": "UPS"').encode(),
        400,
        INVALID_JSON,
    ),
    post(
        "json_utf8_bom",
        "json-syntax",
        b"\xef\xbb\xbf" + raw_update("HX-BOM").encode(),
        400,
        "BOM",
        note="RFC 8259 forbids a byte order mark in JSON sent over the network.",
    ),
    post(
        "json_duplicate_key",
        "json-syntax",
        b'{"tracking_id": "HX-DUPKEY-A", "tracking_id": "HX-DUPKEY-B", '
        b'"timestamp": "2024-06-01T08:30:00Z", "status": "in_transit"}',
        400,
        "tracking_id",
        note="Rejected: which of two values a parser keeps differs between parsers.",
    ),
    post(
        "json_two_documents",
        "json-syntax",
        (raw_update("HX-TWO-1") + raw_update("HX-TWO-2")).encode(),
        400,
        "Extra data",
    ),
    post("json_nan", "json-syntax", raw_update("HX-NAN", ', "description": NaN').encode(), 400, "NaN"),
    post(
        "json_raw_control_character",
        "json-syntax",
        raw_update("HX-RAWNUL", ', "description": "a\x00b"').encode(),
        400,
        "Invalid control character",
        note="JSON strings must escape control characters; a raw NUL byte is invalid JSON.",
    ),
)

_TYPES_AND_NULLS = (
    post("type_body_array", "types", encoded([update("HX-ARRAY")]), 400, "array"),
    post("type_body_string", "types", b'"HX-STRING"', 400, "string"),
    post("type_body_number", "types", b"42", 400, "integer"),
    post("type_tracking_id_number", "types", encoded(update(12345678901234)), 400, "/tracking_id"),
    post("type_tracking_id_array", "types", encoded(update(["HX-A", "HX-B"])), 400, "/tracking_id"),
    post(
        "type_timestamp_epoch_number",
        "types",
        encoded(update("HX-EPOCH", timestamp=1717230600)),
        400,
        "/timestamp",
    ),
    post("type_status_boolean", "types", encoded(update("HX-BOOL", status=True)), 400, "/status"),
    post(
        "type_description_array",
        "types",
        encoded(update("HX-DESCARR", description=["arrived", "sorted"])),
        400,
        "/description",
    ),
    post("type_location_array", "types", encoded(update("HX-LOCARR", location=["Memphis", "TN"])), 400, "/location"),
    post(
        "type_huge_number_as_id",
        "types",
        raw_update("X", "").replace('"X"', "1e400").encode(),
        400,
        "/tracking_id",
    ),
    post("null_body", "nulls", b"null", 400, "null"),
    post("null_tracking_id", "nulls", encoded(update(None)), 400, "/tracking_id"),
    post(
        "null_optional_carrier",
        "nulls",
        encoded(update("HX-NULLCARRIER", carrier=None)),
        400,
        "/carrier",
        note="Optional fields are left out, not sent as null: the contract types each one as a string.",
    ),
    post("null_location", "nulls", encoded(update("HX-NULLLOC", location=None)), 400, "/location"),
    post("null_updates", "nulls", b'{"updates": null}', 400, "/updates"),
    post(
        "extra_field_typo",
        "types",
        encoded({"trackingId": "HX-TYPO", "timestamp": EVENT_TIME, "status": "in_transit"}),
        400,
        "trackingId",
    ),
    post("status_upper_case", "types", encoded(update("HX-UPPER", status="DELIVERED")), 400, "/status"),
    post(
        "location_unknown_field",
        "types",
        encoded(update("HX-STREET", location={"city": "Memphis", "street": "1 Main St"})),
        400,
        "street",
    ),
    post(
        "location_country_lower_case",
        "types",
        encoded(update("HX-COUNTRY", location={"country": "us"})),
        400,
        "/location/country",
    ),
    post("carrier_empty_string", "types", encoded(update("HX-EMPTYCARRIER", carrier="")), 400, "/carrier"),
)

_SIZES = (
    post("size_tracking_id_64", "sizes", encoded(update("H" * 64)), 201, "H" * 64, stored=1),
    post(
        "size_tracking_id_64_with_spaces",
        "sizes",
        encoded(update(" ".join("G" * 64))),
        201,
        "G" * 64,
        stored=1,
        note="Spaces do not count: 64 characters remain once they are removed.",
    ),
    post("size_tracking_id_65", "sizes", encoded(update("I" * 65)), 400, "/tracking_id"),
    post("size_tracking_id_blank", "sizes", encoded(update("   ")), 400, "/tracking_id"),
    post(
        "size_description_500", "sizes", encoded(update("HX-DESC500", description="d" * 500)), 201, "created", stored=1
    ),
    post("size_description_501", "sizes", encoded(update("HX-DESC501", description="d" * 501)), 400, "/description"),
    post(
        "size_city_101",
        "sizes",
        encoded(update("HX-CITY101", location={"city": "c" * 101})),
        400,
        "/location/city",
    ),
    post(
        "size_postal_code_21",
        "sizes",
        encoded(update("HX-POSTAL21", location={"postal_code": "9" * 21})),
        400,
        "/location/postal_code",
    ),
    post(
        "size_carrier_status_65", "sizes", encoded(update("HX-CS65", carrier_status="x" * 65)), 400, "/carrier_status"
    ),
    post(
        "size_6mb_description",
        "sizes",
        description_of_size("HX-6MB", 6 * MEBIBYTE),
        400,
        "/description",
    ),
    post(
        "size_5_9mb_padded_valid_update",
        "sizes",
        padded_update("HX-PADDED", 5_900_000),
        201,
        "HX-PADDED",
        stored=1,
        note="Below Lambda's 6 MB synchronous payload limit, a valid body is stored whatever its size.",
    ),
    post(
        "size_10mib_exactly",
        "sizes",
        description_of_size("HX-10MIB", GATEWAY_LIMIT_BYTES),
        400,
        "/description",
        note="A body of exactly 10 MiB is within the limit and reaches request validation.",
    ),
    post(
        "size_over_10mib",
        "sizes",
        padded_update("HX-OVER10", GATEWAY_LIMIT_BYTES + 1),
        413,
        "larger than the 10 MB limit",
    ),
)

_ENCODINGS = (
    post(
        "encoding_latin1_bytes",
        "encodings",
        raw_update("HX-LATIN1", ', "location": {"city": "Zürich"}').encode("latin-1"),
        400,
        "not UTF-8",
    ),
    post("encoding_utf16_with_bom", "encodings", raw_update("HX-UTF16").encode("utf-16"), 400, "not UTF-8"),
    post(
        "encoding_utf16_big_endian_no_bom",
        "encodings",
        raw_update("HX-UTF16BE").encode("utf-16-be"),
        400,
        INVALID_JSON,
        note="UTF-16 without a byte order mark happens to be valid UTF-8, with a NUL before each character.",
    ),
    post(
        "encoding_overlong_utf8_slash",
        "encodings",
        raw_update("HX-OVERLONG", ', "description": "a\xc0\xafb"').encode("latin-1"),
        400,
        "not UTF-8",
    ),
    post(
        "encoding_surrogate_as_utf8_bytes",
        "encodings",
        raw_update("HX-CESU", ', "description": "@"').encode().replace(b"@", b"\xed\xa0\x80"),
        400,
        "not UTF-8",
    ),
    post(
        "encoding_base64_body",
        "encodings",
        base64.b64encode(encoded(update("HX-BASE64"))),
        400,
        INVALID_JSON,
        note="A base64-encoded body is not decoded; the contract takes JSON text.",
    ),
    post(
        "encoding_base64_declared_in_header",
        "encodings",
        base64.b64encode(encoded(update("HX-BASE64"))),
        400,
        INVALID_JSON,
        headers={"Content-Transfer-Encoding": "base64"},
    ),
    post(
        "encoding_gzip_body",
        "encodings",
        gzip.compress(encoded(update("HX-GZIP")), mtime=0),
        400,
        "not UTF-8",
        headers={"Content-Encoding": "gzip"},
        note="The stage has no payload compression configured, so a compressed body reaches validation as bytes.",
    ),
)

_DEPTH = (
    post("depth_100k_arrays", "depth", nested_arrays(100_000), 400, "nested too deeply"),
    post("depth_100k_objects", "depth", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, 400, "nested too deeply"),
    post("depth_100k_unclosed_arrays", "depth", b"[" * 100_000, 400, INVALID_JSON),
    post(
        "depth_100k_inside_city",
        "depth",
        update_with_nested_value("HX-DEEPCITY", ', "location": {"city": ', 100_000, "}}"),
        400,
        "nested too deeply",
    ),
    post(
        "depth_979_inside_status",
        "depth",
        b'{"tracking_id": "HX-DEEP979", "timestamp": "2024-06-01T08:30:00Z", "status": ' + nested_arrays(979) + b"}",
        400,
        "/status",
        note="The body parses, but validating it exhausts the stack; the message names the deep field.",
    ),
    post(
        "depth_980_inside_updates",
        "depth",
        b'{"updates": ' + nested_arrays(980) + b"}",
        400,
        "/updates",
    ),
    post(
        "depth_979_inside_unknown_field",
        "depth",
        update_with_nested_value("HX-DEEPEXTRA", ', "extra": ', 979, "}"),
        400,
        "extra",
    ),
)

_UNICODE = (
    post(
        "unicode_emoji_description",
        "unicode",
        encoded(update("HX-EMOJI", description="Parcel 📦 on the truck 🚚")),
        201,
        "created",
        stored=1,
    ),
    post(
        "unicode_500_emoji_description",
        "unicode",
        encoded(update("HX-EMOJI500", description="📦" * 500)),
        201,
        "created",
        stored=1,
        note="Lengths count Unicode code points, as JSON Schema defines them.",
    ),
    post(
        "unicode_right_to_left_text",
        "unicode",
        encoded(update("HX-RTL", description="تم التسليم \u202eevil\u202c", location={"city": "תל אביב"})),
        201,
        "created",
        stored=1,
    ),
    post(
        "unicode_combining_marks",
        "unicode",
        encoded(update("HX-COMBINING", location={"city": "Zu\u0308rich", "country": "CH"})),
        201,
        "created",
        stored=1,
    ),
    post(
        "unicode_escaped_nul_in_description",
        "unicode",
        encoded(update("HX-NULDESC", description="left at\u0000door")),
        201,
        "created",
        stored=1,
        note="An escaped NUL is valid JSON and a Unicode character; free text stores it as sent.",
    ),
    post("unicode_escaped_nul_in_tracking_id", "unicode", encoded(update("HX-NUL\u0000ID")), 400, "/tracking_id"),
    post(
        "unicode_lone_surrogate_in_description",
        "unicode",
        raw_update("HX-SURROGATE", ', "description": "x\\ud800y"').encode(),
        400,
        "description",
        note="A lone surrogate is not a Unicode character and cannot be encoded as UTF-8 or stored.",
    ),
    post(
        "unicode_lone_surrogate_in_tracking_id",
        "unicode",
        raw_update("HX-SUR\\ud800").encode(),
        400,
        "tracking_id",
        note="The validation message writes the lone surrogate as its JSON escape, so it can be encoded.",
    ),
    post(
        "unicode_lone_surrogate_as_field_name",
        "unicode",
        raw_update("HX-SURKEY", ', "\\udc00": 1').encode(),
        400,
        "allow",
    ),
    post(
        "unicode_surrogate_pair_escaped",
        "unicode",
        raw_update("HX-PAIR", ', "description": "\\ud83d\\ude9a"').encode(),
        201,
        "created",
        stored=1,
    ),
    post("unicode_full_width_digits_in_id", "unicode", encoded(update("１Z９９９AA1")), 400, "/tracking_id"),
    post("unicode_zero_width_space_in_id", "unicode", encoded(update("1Z999\u200bAA1")), 400, "/tracking_id"),
    post("unicode_no_break_space_in_id", "unicode", encoded(update("1Z999\u00a0AA1")), 400, "/tracking_id"),
    post("unicode_tab_in_id", "unicode", encoded(update("1Z999\tAA1")), 400, "/tracking_id"),
    post("unicode_trailing_newline_in_id", "unicode", encoded(update("HX-NEWLINE\n")), 400, "tracking_id"),
    post("unicode_emoji_in_id", "unicode", encoded(update("HX-📦")), 400, "/tracking_id"),
    post(
        "unicode_full_width_digits_in_timestamp",
        "unicode",
        encoded(update("HX-FWTIME", timestamp="２０２４-06-01T08:30:00Z")),
        400,
        "/timestamp",
    ),
    post(
        "unicode_lower_case_id_normalized",
        "unicode",
        encoded(update("hx-lower-ew112720413fr")),
        201,
        "HX-LOWER-EW112720413FR",
        stored=1,
    ),
)

_BATCH = (
    post("batch_0_updates", "batch", b'{"updates": []}', 400, "fewer than the minimum of 1"),
    post("batch_1_update", "batch", encoded(batch("HX-B1", 1)), 200, "created", stored=1, results=("created",)),
    post(
        "batch_25_updates",
        "batch",
        encoded(batch("HX-B25", 25)),
        200,
        "created",
        stored=25,
        results=("created",) * 25,
    ),
    post("batch_26_updates", "batch", encoded(batch("HX-B26", 26)), 400, "more than the maximum of 25"),
    post(
        "batch_identical_items",
        "batch",
        encoded({"updates": [update("HX-BDUP"), update("HX-BDUP", status="delivered"), update("HX-BDUP")]}),
        200,
        "duplicate",
        stored=2,
        results=("created", "created", "duplicate"),
    ),
    post(
        "batch_items_equal_after_normalization",
        "batch",
        encoded(
            {
                "updates": [
                    update("hx-bnorm 1"),
                    update("HX-BNORM1", timestamp="2024-06-01T10:30:00+02:00"),
                    update("HX-BNORM1", timestamp="2024-06-01T08:30:00.000400Z"),
                ]
            }
        ),
        200,
        "duplicate",
        stored=1,
        results=("created", "duplicate", "duplicate"),
        note="Spelling of the id, offset and digits beyond milliseconds do not make a new event.",
    ),
    post(
        "batch_same_instant_other_content",
        "batch",
        encoded({"updates": [update("HX-BSAME"), update("HX-BSAME", description="sorted at hub")]}),
        200,
        "created",
        stored=2,
        results=("created", "created"),
    ),
    post(
        "batch_one_invalid_of_25_model",
        "batch",
        encoded(with_bad_item(batch("HX-BBAD", 25), 17, status="shipped")),
        400,
        "/updates/17/status",
    ),
    post(
        "batch_one_invalid_of_25_calendar",
        "batch",
        encoded(with_bad_item(batch("HX-BCAL", 25), 24, timestamp="2024-02-30T08:30:00Z")),
        400,
        "item 24",
        note="The model accepts the date's shape; the function rejects the whole batch before writing.",
    ),
    post("batch_updates_object", "batch", encoded({"updates": update("HX-BOBJ")}), 400, "/updates"),
    post("batch_updates_string", "batch", b'{"updates": "HX-BSTR"}', 400, "/updates"),
    post("batch_items_strings", "batch", b'{"updates": ["HX-BITEM"]}', 400, "/updates/0"),
    post(
        "batch_extra_top_level_field",
        "batch",
        encoded({"updates": [update("HX-BEXTRA")], "carrier": "UPS"}),
        400,
        "carrier",
    ),
    post(
        "batch_mixed_with_single_update",
        "batch",
        encoded({"updates": [update("HX-BMIX-1")], **update("HX-BMIX-2")}),
        400,
        "tracking_id",
        note='The "updates" key makes it a batch, which does not allow the single update\'s fields.',
    ),
    post(
        "batch_nested_batch",
        "batch",
        encoded({"updates": [{"updates": [update("HX-BNEST")]}]}),
        400,
        "/updates/0",
    ),
    post(
        "batch_item_with_typo_field",
        "batch",
        encoded(
            {
                "updates": [
                    update("HX-BTYPO-0"),
                    {"trackingId": "HX-BTYPO-1", "timestamp": EVENT_TIME, "status": "in_transit"},
                    update("HX-BTYPO-2"),
                ]
            }
        ),
        400,
        "/updates/1",
    ),
    post(
        "batch_two_invalid_items",
        "batch",
        encoded(with_bad_item(with_bad_item(batch("HX-BTWO", 10), 3, status="shipped"), 9, status="lost")),
        400,
        "/updates/3/status",
    ),
)

_TIMESTAMPS = (
    post(
        "timestamp_without_offset",
        "timestamps",
        encoded(update("HX-NOOFFSET", timestamp="2024-06-01T08:30:00")),
        400,
        "/timestamp",
        note="The model's pattern requires an offset, so the gateway rejects the update before the function "
        'runs. Its message names /timestamp and the pattern, and the function\'s "has no UTC offset" '
        "message is not sent.",
    ),
    post(
        "timestamp_date_only",
        "timestamps",
        encoded(update("HX-DATEONLY", timestamp="2024-06-01")),
        400,
        "/timestamp",
    ),
    post(
        "timestamp_space_separator",
        "timestamps",
        encoded(update("HX-SPACE", timestamp="2024-06-01 08:30:00Z")),
        400,
        "/timestamp",
    ),
    post(
        "timestamp_hour_24",
        "timestamps",
        encoded(update("HX-H24", timestamp="2024-06-01T24:00:00Z")),
        400,
        "not a valid date-time",
    ),
    post(
        "timestamp_leap_second",
        "timestamps",
        encoded(update("HX-LEAPSEC", timestamp="2016-12-31T23:59:60Z")),
        400,
        "not a valid date-time",
        note="Leap seconds cannot be ordered in UTC milliseconds, so second 60 is rejected.",
    ),
    post(
        "timestamp_feb_29_non_leap_year",
        "timestamps",
        encoded(update("HX-FEB29-2023", timestamp="2023-02-29T10:00:00Z")),
        400,
        "day is out of range for month",
    ),
    post(
        "timestamp_feb_29_leap_year",
        "timestamps",
        encoded(update("HX-FEB29-2024", timestamp="2024-02-29T10:00:00Z")),
        201,
        "2024-02-29T10:00:00.000Z",
        stored=1,
    ),
    post(
        "timestamp_month_13",
        "timestamps",
        encoded(update("HX-MONTH13", timestamp="2024-13-01T10:00:00Z")),
        400,
        "not a valid date-time",
    ),
    post(
        "timestamp_offset_plus_14",
        "timestamps",
        encoded(update("HX-PLUS14", timestamp="2024-06-01T08:30:00+14:00")),
        201,
        "2024-05-31T18:30:00.000Z",
        stored=1,
    ),
    post(
        "timestamp_offset_minus_12",
        "timestamps",
        encoded(update("HX-MINUS12", timestamp="2024-06-01T08:30:00-12:00")),
        201,
        "2024-06-01T20:30:00.000Z",
        stored=1,
    ),
    post(
        "timestamp_offset_plus_24",
        "timestamps",
        encoded(update("HX-PLUS24", timestamp="2024-06-01T08:30:00+24:00")),
        400,
        "out of range",
    ),
    post(
        "timestamp_far_future",
        "timestamps",
        encoded(update("HX-FUTURE", timestamp="2999-01-01T00:00:00Z")),
        400,
        "more than 24 hours in the future",
    ),
    post(
        "timestamp_year_1999",
        "timestamps",
        encoded(update("HX-1999", timestamp="1999-12-31T23:59:59Z")),
        400,
        "before 2000-01-01",
    ),
    post(
        "timestamp_year_2000_in_utc_but_1999",
        "timestamps",
        encoded(update("HX-2000OFFSET", timestamp="2000-01-01T00:30:00+01:00")),
        400,
        "before 2000-01-01",
    ),
    post(
        "timestamp_earliest_allowed",
        "timestamps",
        encoded(update("HX-EARLIEST", timestamp="2000-01-01T00:00:00Z")),
        201,
        "2000-01-01T00:00:00.000Z",
        stored=1,
    ),
    post(
        "timestamp_lower_case_t_and_z",
        "timestamps",
        encoded(update("HX-LOWERTZ", timestamp="2024-06-01t08:30:00z")),
        201,
        EVENT_TIME_STORED,
        stored=1,
        note="RFC 3339 allows lower-case t and z.",
    ),
    post(
        "timestamp_nine_digit_fraction",
        "timestamps",
        encoded(update("HX-NANOS", timestamp="2024-06-01T08:30:00.123456789Z")),
        201,
        "2024-06-01T08:30:00.123Z",
        stored=1,
        note="Digits beyond milliseconds are truncated, not rounded.",
    ),
    post(
        "timestamp_trailing_newline",
        "timestamps",
        encoded(update("HX-TSNEWLINE", timestamp="2024-06-01T08:30:00Z\n")),
        400,
        "timestamp",
    ),
)

_LIMITS_AND_QUERY = (
    get_status("query_seed_found", f"tracking_id={SEED_TRACKING_ID}", 200, '"timestamp": "2024-06-01T08:00:00.000Z"'),
    get_status("query_missing_tracking_id", "", 400, "Missing required request parameters: [tracking_id]"),
    get_status("query_empty_tracking_id", "tracking_id=", 400, "tracking_id"),
    get_status(
        "query_tracking_id_without_equals",
        "tracking_id",
        400,
        "tracking_id",
    ),
    get_status("query_unknown_tracking_id", "tracking_id=HX-NEVER-STORED", 404, "no tracking updates"),
    get_status(
        "query_repeated_tracking_id",
        f"tracking_id=HX-NEVER-STORED&tracking_id={SEED_TRACKING_ID}",
        400,
        "tracking_id",
        note="Rejected: answering for one of two shipments is a guess.",
    ),
    get_status("query_unknown_parameter", f"tracking_id={SEED_TRACKING_ID}&carrier=UPS", 400, "carrier"),
    get_status("query_parameter_name_case", f"Tracking_Id={SEED_TRACKING_ID}", 400, "[tracking_id]"),
    get_status(
        "query_percent_encoded_spaces",
        "tracking_id=hx-seed-1z999%20aa1%200123%20456784",
        200,
        SEED_TRACKING_ID,
    ),
    get_status("query_percent_encoded_name", f"tracking%5Fid={SEED_TRACKING_ID}", 200, SEED_TRACKING_ID),
    get_status("query_plus_is_not_space", "tracking_id=HX-SEED+1Z999", 400, "tracking_id"),
    get_status("query_double_encoded", "tracking_id=HX%252DSEED", 400, "tracking_id"),
    get_status("query_invalid_utf8_escape", "tracking_id=%C3%28", 400, "tracking_id"),
    get_status("query_newline_in_id", f"tracking_id={SEED_TRACKING_ID}%0A", 400, "tracking_id"),
    get_status(
        "query_header_injection",
        f"tracking_id={SEED_TRACKING_ID}%0D%0AX-Injected%3A%201",
        400,
        "tracking_id",
    ),
    get_status("query_sql_injection", "tracking_id=%27%20OR%20%271%27%3D%271", 400, "tracking_id"),
    get_status("query_script_injection", "tracking_id=%3Cscript%3Ealert%281%29%3C%2Fscript%3E", 400, "tracking_id"),
    get_status(
        "query_template_injection", "tracking_id=%24%7Bjndi%3Aldap%3A%2F%2F127.0.0.1%2Fa%7D", 400, "tracking_id"
    ),
    get_status("query_expression_injection", "tracking_id=%23pk%20%3D%20%3Aid", 400, "tracking_id"),
    get_status("query_path_traversal_id", "tracking_id=..%2F..%2Fetc%2Fpasswd", 400, "tracking_id"),
    get_status("query_id_10000_characters", "tracking_id=" + "Q" * 10_000, 400, "tracking_id"),
    get_status("query_history_upper_case", f"tracking_id={SEED_TRACKING_ID}&history=TRUE", 400, "true, false"),
    get_status("query_history_one", f"tracking_id={SEED_TRACKING_ID}&history=1", 400, "true, false"),
    get_status("query_history_false", f"tracking_id={SEED_TRACKING_ID}&history=false", 200, SEED_TRACKING_ID),
    get_status("limit_0", f"tracking_id={SEED_TRACKING_ID}&history=true&limit=0", 400, LIMIT_RULE, category="limits"),
    get_status(
        "limit_1_pages", f"tracking_id={SEED_TRACKING_ID}&history=true&limit=1", 200, "next_token", category="limits"
    ),
    get_status(
        "limit_100",
        f"tracking_id={SEED_TRACKING_ID}&history=true&limit=100",
        200,
        '"timestamp": "2024-06-01T06:00:00.000Z"',
        category="limits",
    ),
    get_status(
        "limit_101", f"tracking_id={SEED_TRACKING_ID}&history=true&limit=101", 400, LIMIT_RULE, category="limits"
    ),
    get_status(
        "limit_negative", f"tracking_id={SEED_TRACKING_ID}&history=true&limit=-1", 400, LIMIT_RULE, category="limits"
    ),
    get_status(
        "limit_fraction", f"tracking_id={SEED_TRACKING_ID}&history=true&limit=1.5", 400, LIMIT_RULE, category="limits"
    ),
    get_status(
        "limit_leading_zero",
        f"tracking_id={SEED_TRACKING_ID}&history=true&limit=01",
        400,
        LIMIT_RULE,
        category="limits",
    ),
    get_status(
        "limit_newline", f"tracking_id={SEED_TRACKING_ID}&history=true&limit=5%0A", 400, LIMIT_RULE, category="limits"
    ),
    get_status(
        "limit_without_history_101", f"tracking_id={SEED_TRACKING_ID}&limit=101", 400, LIMIT_RULE, category="limits"
    ),
    get_status(
        "next_token_forged",
        f"tracking_id={SEED_TRACKING_ID}&history=true&next_token=eyJmb3JnZWQiOnRydWV9.AAAA",
        400,
        "next_token",
    ),
    get_status("next_token_empty", f"tracking_id={SEED_TRACKING_ID}&history=true&next_token=", 400, "next_token"),
    get_status("next_token_without_history", f"tracking_id={SEED_TRACKING_ID}&next_token=abc", 400, "history=true"),
)

_CONTENT_TYPES = (
    post(
        "content_type_text_plain_valid_json",
        "content-type",
        encoded(update("HX-TEXTPLAIN")),
        201,
        "created",
        stored=1,
        headers={"Content-Type": "text/plain"},
        note="Accepted: the body is JSON whatever the Content-Type says.",
    ),
    post(
        "content_type_json_with_charset",
        "content-type",
        encoded(update("HX-CHARSET")),
        201,
        "created",
        stored=1,
        headers={"Content-Type": "application/json; charset=utf-8"},
    ),
    post(
        "content_type_form_urlencoded",
        "content-type",
        b"tracking_id=HX-FORM&timestamp=2024-06-01T08%3A30%3A00Z&status=in_transit",
        400,
        INVALID_JSON,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    post(
        "content_type_xml",
        "content-type",
        b"<update><tracking_id>HX-XML</tracking_id></update>",
        400,
        INVALID_JSON,
        headers={"Content-Type": "application/xml"},
    ),
    post(
        "content_type_multipart",
        "content-type",
        b'--b\r\nContent-Disposition: form-data; name="tracking_id"\r\n\r\nHX-MULTI\r\n--b--\r\n',
        400,
        INVALID_JSON,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    ),
    post(
        "content_type_json_charset_utf16",
        "content-type",
        raw_update("HX-DECLARED16").encode("utf-16"),
        400,
        "not UTF-8",
        headers={"Content-Type": "application/json; charset=utf-16"},
        note="The contract takes UTF-8 only, whatever charset the header declares.",
    ),
)

_METHODS_AND_PATHS = (
    route("method_get_track", "method", "GET", TRACK),
    route("method_put_track", "method", "PUT", TRACK, encoded(update("HX-PUT"))),
    route("method_patch_track", "method", "PATCH", TRACK, encoded(update("HX-PATCH"))),
    route("method_delete_track", "method", "DELETE", TRACK),
    route("method_options_track", "method", "OPTIONS", TRACK),
    route("method_post_status", "method", "POST", STATUS, encoded(update("HX-POSTSTATUS"))),
    route("path_unknown", "path", "POST", f"/{STAGE}/tracks", encoded(update("HX-TRACKS"))),
    route("path_trailing_slash", "path", "POST", f"{TRACK}/", encoded(update("HX-SLASH"))),
    route("path_upper_case", "path", "POST", f"/{STAGE}/TRACK", encoded(update("HX-UPPERPATH"))),
    route("path_other_stage", "path", "POST", "/prod/track", encoded(update("HX-PROD"))),
    route("path_stage_only", "path", "GET", f"/{STAGE}"),
    route("path_root", "path", "GET", "/"),
    route("path_sub_resource", "path", "POST", f"{TRACK}/extra", encoded(update("HX-SUB"))),
    route("path_dot_dot_segment", "path", "POST", f"/{STAGE}/../{STAGE}/track", encoded(update("HX-DOTDOT"))),
    route("path_dot_dot_from_status", "path", "POST", f"{STATUS}/../track", encoded(update("HX-DOTDOT2"))),
    route("path_encoded_dot_dot", "path", "POST", f"/{STAGE}/%2e%2e/{STAGE}/track", encoded(update("HX-ENCDOT"))),
    HostileRequest(
        "path_encoded_slash",
        "path",
        "POST",
        f"/{STAGE}%2Ftrack",
        403,
        ROUTE_MISSING,
        body=encoded(update("HX-ENCSLASH")),
        note="An encoded slash is part of a path segment, so dev%2Ftrack names no stage.",
    ),
    route("path_encoded_nul", "path", "POST", f"{TRACK}%00", encoded(update("HX-ENCNUL"))),
    HostileRequest(
        "path_double_slash",
        "path",
        "POST",
        f"//{STAGE}/track",
        201,
        "HX-DOUBLESLASH",
        body=encoded(update("HX-DOUBLESLASH")),
        stored=1,
        note="Python's http.server turns a leading // into /, so the local API serves //dev/track as "
        "/dev/track. Whether API Gateway does the same is not verified here.",
    ),
    route("path_dot_segment", "path", "POST", f"/{STAGE}/./track", encoded(update("HX-DOTSEG"))),
    post(
        "signature_missing",
        "signature",
        encoded(update("HX-UNSIGNED")),
        403,
        "not signed with AWS Signature Version 4",
        signed=False,
    ),
    post(
        "signature_payload_hash_mismatch",
        "signature",
        encoded(update("HX-CHANGED")),
        403,
        "X-Amz-Content-SHA256",
        headers={"X-Amz-Content-SHA256": "0" * 64},
        note="A declared payload hash that differs from the body's is rejected before the function runs.",
    ),
)

CORPUS: Tuple[HostileRequest, ...] = (
    _JSON_SYNTAX
    + _TYPES_AND_NULLS
    + _SIZES
    + _ENCODINGS
    + _DEPTH
    + _UNICODE
    + _BATCH
    + _TIMESTAMPS
    + _LIMITS_AND_QUERY
    + _CONTENT_TYPES
    + _METHODS_AND_PATHS
)
