"""Signing and sending helpers for the local API tests; botocore's signer stands for any client."""

import json
from typing import Optional

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devkit.local import sigv4


def sign(
    credentials: sigv4.Credentials,
    method: str,
    url: str,
    body: bytes = b"",
    region: str = sigv4.REGION,
    service: str = sigv4.SERVICE,
    session_token: Optional[str] = None,
    headers: Optional[dict] = None,
) -> dict:
    """Return the headers botocore's SigV4 signer adds to a request for ``url`` as given."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer_credentials = Credentials(credentials.access_key_id, credentials.secret_access_key, session_token)
    SigV4Auth(signer_credentials, service, region).add_auth(request)
    return dict(request.headers.items())


def send_exact(method: str, url: str, headers: dict, body: bytes = b"") -> requests.Response:
    """Send a request with the URL byte for byte as given, which requests would otherwise re-quote."""
    with requests.Session() as session:
        session.trust_env = False
        prepared = session.prepare_request(requests.Request(method, url, headers=headers, data=body or None))
        prepared.url = url
        return session.send(prepared, timeout=10, allow_redirects=False)


def stored_item_count(api) -> int:
    dynamodb = api.emulator.client("dynamodb")
    return dynamodb.scan(TableName=api.emulator.table_name, Select="COUNT", ConsistentRead=True)["Count"]


def body_text(response: requests.Response) -> str:
    return json.dumps(response.json(), ensure_ascii=False)
