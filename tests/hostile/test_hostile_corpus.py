"""Replay the hostile corpus through the local API with signed requests, one test per entry.

Each request must get the status the corpus documents, never a 5XX and never a dropped
connection, and a message that contains the entry's fragment. The table and the dead letter
queue are read through the emulator's boto3 clients before and after each request: a
rejected request must add nothing, and an accepted one exactly the documented items.
"""

import json

import pytest
import requests

import devkit.local
from devkit.local.client import decode_body
from devkit.local.gateway import LOOPBACK
from tests.hostile import corpus
from tests.hostile.corpus import CORPUS, HostileRequest

# Long enough to upload and drain a body over the 10 MB limit on a slow machine.
REQUEST_TIMEOUT_SECONDS = 60
# Characters of a response shown in a failure message, because some responses echo megabytes.
SHOWN_CHARACTERS = 600
QUEUE_COUNT_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


@pytest.fixture(scope="module")
def local_api():
    """A local API on a free loopback port, with the seed shipment that the GET entries query."""
    api = devkit.local.start(port=0)
    try:
        with api.client() as client:
            for timestamp in corpus.SEED_TIMESTAMPS:
                status, body = client.post_track(corpus.update(corpus.SEED_TRACKING_ID, timestamp=timestamp))
                assert status == 201, body
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="module")
def aws_clients(local_api):
    emulator = local_api.emulator
    return {"dynamodb": emulator.client("dynamodb"), "sqs": emulator.client("sqs")}


def stored_keys(api, dynamodb) -> set:
    """Return the (tracking_id, timestamp) key of every item in the table."""
    keys = set()
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=api.emulator.table_name,
        ConsistentRead=True,
        ProjectionExpression="#pk, #sk",
        ExpressionAttributeNames={"#pk": "tracking_id", "#sk": "timestamp"},
    )
    for page in pages:
        keys.update((item["tracking_id"]["S"], item["timestamp"]["S"]) for item in page["Items"])
    return keys


def queued_message_count(api, sqs) -> int:
    """Return the number of messages on the dead letter queue, visible, in flight or delayed."""
    attributes = sqs.get_queue_attributes(QueueUrl=api.emulator.queue_url, AttributeNames=list(QUEUE_COUNT_ATTRIBUTES))[
        "Attributes"
    ]
    return sum(int(attributes[name]) for name in QUEUE_COUNT_ATTRIBUTES)


def send(api, entry: HostileRequest) -> requests.Response:
    """Send the entry's request byte for byte, signed unless the entry is marked unsigned."""
    url = f"http://{LOOPBACK}:{api.gateway.port}{entry.path}" + (f"?{entry.query}" if entry.query else "")
    with api.client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        if entry.signed:
            headers = client.sign(entry.method, url, entry.body, entry.headers)
        else:
            headers = {"Content-Type": "application/json"} if entry.body else {}
            headers.update(entry.headers)
        return client.send(entry.method, url, headers, entry.body)


def response_text(status: int, body) -> str:
    """Return the text a fragment is looked for in: the error messages, or a whole accepted body."""
    if not isinstance(body, dict):
        return "" if body is None else str(body)
    if status < 400:
        return json.dumps(body, ensure_ascii=False)
    parts = [body.get("message"), body.get("validation_error"), body.get("detail")]
    errors = body.get("errors")
    if isinstance(errors, list):
        parts.extend(error.get("message") for error in errors if isinstance(error, dict))
    return "\n".join(str(part) for part in parts if part)


def shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "..."


def corpus_parameters() -> list:
    parameters = []
    for entry in CORPUS:
        marks = [pytest.mark.xfail(strict=True, reason=entry.defect)] if entry.defect else []
        parameters.append(pytest.param(entry, id=entry.name, marks=marks))
    return parameters


def test_corpus_has_at_least_40_entries():
    assert len(CORPUS) >= 40


def test_corpus_names_unique():
    names = [entry.name for entry in CORPUS]

    assert sorted(name for name in set(names) if names.count(name) > 1) == []


def test_corpus_covers_every_category():
    used = {entry.category for entry in CORPUS}

    assert set(corpus.CATEGORIES) - used == set()
    assert used - set(corpus.CATEGORIES) == set()


def test_corpus_body_sizes_exact():
    by_name = {entry.name: entry for entry in CORPUS}

    assert len(by_name["size_6mb_description"].body) == 6 * corpus.MEBIBYTE
    assert len(by_name["size_10mib_exactly"].body) == corpus.GATEWAY_LIMIT_BYTES
    assert len(by_name["size_over_10mib"].body) == corpus.GATEWAY_LIMIT_BYTES + 1
    assert len(by_name["size_5_9mb_padded_valid_update"].body) == 5_900_000


@pytest.mark.parametrize("entry", corpus_parameters())
def test_hostile_request_answered_as_documented(local_api, aws_clients, entry):
    keys_before = stored_keys(local_api, aws_clients["dynamodb"])
    queued_before = queued_message_count(local_api, aws_clients["sqs"])

    try:
        response = send(local_api, entry)
    except requests.ConnectionError as exc:
        pytest.fail(f"{entry.method} {entry.path}: the connection ended without an HTTP response: {exc}")
    status = response.status_code
    body = decode_body(response)
    text = response_text(status, body)
    expected_status = entry.status
    fragment = entry.fragment

    assert status < 500, f"server error {status}: {shown(response.text)}"
    assert status == expected_status, f"expected {expected_status}, got {status}: {shown(response.text)}"
    assert fragment in text, f"{fragment!r} is not in the response: {shown(text)}"
    if entry.results is not None:
        assert [item["result"] for item in body["results"]] == list(entry.results)

    keys_after = stored_keys(local_api, aws_clients["dynamodb"])
    added = keys_after - keys_before
    expected_added = entry.stored
    assert keys_before - keys_after == set(), "items disappeared from the table"
    assert len(added) == expected_added, f"expected {expected_added} new items, found {sorted(added)[:5]}"
    if expected_added and "tracking_id" in body:
        assert {tracking_id for tracking_id, _ in added} == {body["tracking_id"]}
    assert queued_message_count(local_api, aws_clients["sqs"]) == queued_before, "the dead letter queue changed"


def test_gateway_rejected_body_lists_errors(local_api):
    entry = next(entry for entry in CORPUS if entry.name == "size_tracking_id_65")

    response = send(local_api, entry)
    body = response.json()
    errors = body.get("errors")

    assert response.status_code == 400
    assert isinstance(errors, list), body
    assert errors, body
    assert "tracking_id" in errors[0].get("message", ""), errors
