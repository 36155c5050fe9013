"""Property-based conformance of the local API to the generated OpenAPI document.

schemathesis generates requests for every operation of ``devkit.openapi.build()``: the
documented examples, boundary and negative cases of the coverage phase, then random ones.
Each request is signed with SigV4 like a real client's, so it passes the signature check
and reaches request validation and the function. Every response must not be a server
error, must have a documented status and must match that status's schema.
"""

import json
import re
import time
import warnings
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from devkit import openapi
from devkit.local import gateway, sigv4

SCHEMA = schemathesis.openapi.from_dict(json.loads(openapi.render()))
# The signer writes Authorization itself, so schemathesis generates no values for it.
SCHEMA.config.generation.update(with_security_parameters=False)
# Methods that http.server has no do_* handler for; the gateway must answer them like any unknown route.
UNMAPPED_METHODS = {"trace", "query"}

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
MAX_EXAMPLES = 40
# Once an operation's test has run this long, its remaining examples send nothing. That bounds the
# conformance test at roughly this budget per operation, whatever the machine's speed.
OPERATION_BUDGET_SECONDS = 40.0

# The model's timestamp pattern admits any digits, so random timestamps are almost never a real
# date between 2000-01-01 and tomorrow, and the function rejects them before anything is stored.
_TIMESTAMP = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(.*)$")
_OFFSET = re.compile(r"^([+-])([0-9]{2}):([0-9]{2})$")

_started: dict = {}


def _real_timestamp(value: str) -> str:
    """Map a timestamp that matches the model's pattern to a real past instant with the same shape.

    Years become 2001-2024 and every other field is taken modulo its range. Fractional seconds and
    the offset's form stay, so normalization still gets varied input.
    """
    match = _TIMESTAMP.match(value)
    if not match:
        return value
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    offset_match = _OFFSET.match(offset)
    if offset_match:
        sign, offset_hours, offset_minutes = offset_match.groups()
        offset = f"{sign}{int(offset_hours) % 24:02d}:{int(offset_minutes) % 60:02d}"
    return (
        f"{2001 + int(year) % 24}-{1 + int(month) % 12:02d}-{1 + int(day) % 28:02d}T"
        f"{int(hour) % 24:02d}:{int(minute) % 60:02d}:{int(second) % 60:02d}{fraction or ''}{offset}"
    )


@SCHEMA.hook("map_body")
def real_timestamps(context, body):
    """Give generated updates real timestamps, so random bodies reach the table and not only the date check."""
    updates = body.get("updates") if isinstance(body, dict) else None
    items = updates if isinstance(updates, list) else [body]
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("timestamp"), str):
            item["timestamp"] = _real_timestamp(item["timestamp"])
    return body


class SigV4RequestAuth(requests.auth.AuthBase):
    """Sign each prepared request with SigV4 for execute-api, and send it nowhere but 127.0.0.1.

    The signature covers the URL and body exactly as requests prepared them, which is what
    goes on the wire, so the local API's check rebuilds the same canonical request.
    """

    def __init__(self, credentials: sigv4.Credentials):
        self.credentials = Credentials(credentials.access_key_id, credentials.secret_access_key)

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        host = urlsplit(prepared.url).hostname
        if host != gateway.LOOPBACK:
            raise RuntimeError(
                f"not signing a request to {host!r}: this test sends requests only to {gateway.LOOPBACK}"
            )
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        signed = AWSRequest(method=prepared.method, url=prepared.url, data=body, headers=dict(prepared.headers))
        SigV4Auth(self.credentials, sigv4.SERVICE, sigv4.REGION).add_auth(signed)
        prepared.headers.update(dict(signed.headers.items()))
        return prepared


@pytest.fixture(scope="module")
def http_session():
    with requests.Session() as session:
        # Proxy variables must not route loopback traffic anywhere else.
        session.trust_env = False
        yield session


@pytest.fixture(scope="module")
def stored_example(local_api):
    """Store the document's single-update example, so the GET /status examples find a shipment."""
    example = SCHEMA.raw_schema["paths"]["/track"]["post"]["requestBody"]["content"]["application/json"]
    with local_api.client() as client:
        status, body = client.post_track(example["examples"]["single"]["value"])
    assert status == 201, body
    return body


def _over_budget(label: str) -> bool:
    started = _started.setdefault(label, time.monotonic())
    if time.monotonic() - started <= OPERATION_BUDGET_SECONDS:
        return False
    warnings.warn(f"{label}: time budget of {OPERATION_BUDGET_SECONDS:.0f} s used up, rest skipped", stacklevel=2)
    return True


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_local_api_conforms_to_openapi(case, local_api, http_session, stored_example):
    if _over_budget(case.operation.label):
        return
    response = case.call(
        base_url=local_api.base_url, session=http_session, auth=SigV4RequestAuth(local_api.credentials)
    )
    case.validate_response(response, checks=CHECKS)


def _schema_without(edit) -> schemathesis.BaseSchema:
    document = json.loads(openapi.render())
    edit(document)
    return schemathesis.openapi.from_dict(document)


def _call_status(schema, local_api, http_session, tracking_id: str):
    case = schema["/status"]["GET"].Case(query={"tracking_id": tracking_id})
    response = case.call(
        base_url=local_api.base_url, session=http_session, auth=SigV4RequestAuth(local_api.credentials)
    )
    return case, response


def test_checks_reject_undocumented_status(local_api, http_session):
    schema = _schema_without(lambda document: document["paths"]["/status"]["get"]["responses"].pop("404"))
    case, response = _call_status(schema, local_api, http_session, "NO-SUCH-SHIPMENT")

    assert response.status_code == 404, response.text
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        case.validate_response(response, checks=CHECKS)


def test_checks_reject_nonconforming_body(local_api, http_session):
    def require_errors(document):
        document["components"]["schemas"]["Error"]["required"] = ["message", "errors"]

    schema = _schema_without(require_errors)
    case, response = _call_status(schema, local_api, http_session, "NO-SUCH-SHIPMENT")

    assert response.status_code == 404, response.text
    with pytest.raises(FailureGroup, match="Response violates schema"):
        case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize("method", sorted(UNMAPPED_METHODS))
def test_local_api_unknown_method_gets_gateway_403(local_api, method):
    with local_api.client() as client:
        url = client.url("/track")
        response = client.send(method.upper(), url, client.sign(method.upper(), url))

    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"] == "application/json"
