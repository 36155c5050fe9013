"""A small SigV4-signed HTTP client for the tracking API, local or deployed.

Requests are signed with botocore's ``SigV4Auth`` for service ``execute-api`` and sent
with ``requests`` byte for byte as signed. The URL is built once in the canonical
encoding, which leaves RFC 3986 unreserved characters literal and percent-encodes every
other byte, and the prepared request keeps it unchanged.
"""

import json
from typing import Any, Iterable, Mapping, Optional, Tuple
from urllib.parse import quote

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from shared import naming
from shared.contract import function_contract as contract

SERVICE = "execute-api"
DEFAULT_TIMEOUT_SECONDS = 10.0

# Characters SigV4 leaves unencoded in the canonical query string.
_UNRESERVED = "-_.~"


class TrackingClient:
    """Signed calls to ``POST /track`` and ``GET /status`` under one base URL.

    ``base_url`` includes the stage, for example ``http://127.0.0.1:8080/dev`` or a
    deployed stage's invoke URL. Environment proxy settings are ignored unless
    ``trust_env`` is true, so loopback traffic never goes through a proxy.
    """

    def __init__(
        self,
        base_url: str,
        access_key_id: str,
        secret_access_key: str,
        session_token: Optional[str] = None,
        region: str = naming.REGION,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        trust_env: bool = False,
    ):
        self.base_url = base_url.rstrip("/")
        self.region = region
        self.timeout = timeout
        self._credentials = Credentials(access_key_id, secret_access_key, session_token)
        self._session = requests.Session()
        self._session.trust_env = trust_env

    def post_track(self, body: Any) -> Tuple[int, Any]:
        """POST one update or a batch to ``/track``; return the status code and the decoded JSON."""
        payload = json.dumps(body).encode("utf-8")
        return self.request("POST", contract.TRACK_PATH, body=payload)

    def get_status(
        self,
        tracking_id: str,
        history: Optional[bool] = None,
        limit: Optional[int] = None,
        next_token: Optional[str] = None,
    ) -> Tuple[int, Any]:
        """GET ``/status`` for one tracking id; optional parameters are sent only when given."""
        query = [("tracking_id", tracking_id)]
        if history is not None:
            query.append(("history", "true" if history else "false"))
        if limit is not None:
            query.append(("limit", str(limit)))
        if next_token is not None:
            query.append(("next_token", next_token))
        return self.request("GET", contract.STATUS_PATH, query=query)

    def request(
        self,
        method: str,
        path: str,
        query: Iterable[Tuple[str, str]] = (),
        body: bytes = b"",
        headers: Optional[Mapping[str, str]] = None,
    ) -> Tuple[int, Any]:
        """Send a signed request to ``base_url + path``; return the status code and the decoded body.

        The body is decoded as JSON; a body that is not JSON is returned as text.
        """
        url = self.url(path, query)
        signed = self.sign(method, url, body, headers)
        response = self.send(method, url, signed, body)
        return response.status_code, decode_body(response)

    def url(self, path: str, query: Iterable[Tuple[str, str]] = ()) -> str:
        query_string = encode_query(query)
        return f"{self.base_url}{path}" + (f"?{query_string}" if query_string else "")

    def sign(
        self, method: str, url: str, body: bytes = b"", headers: Optional[Mapping[str, str]] = None
    ) -> dict:
        """Return the headers of a request to ``url`` signed now, including Authorization."""
        all_headers = {"Content-Type": "application/json"} if body else {}
        all_headers.update(headers or {})
        aws_request = AWSRequest(method=method, url=url, data=body, headers=all_headers)
        SigV4Auth(self._credentials, SERVICE, self.region).add_auth(aws_request)
        return dict(aws_request.headers.items())

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes = b"") -> requests.Response:
        """Send a request with ``url`` exactly as given; ``requests`` would otherwise re-quote it."""
        prepared = self._session.prepare_request(
            requests.Request(method, url, headers=dict(headers), data=body or None)
        )
        prepared.url = url
        return self._session.send(prepared, timeout=self.timeout, allow_redirects=False)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "TrackingClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def encode_query(query: Iterable[Tuple[str, str]]) -> str:
    """Encode query parameters in SigV4's canonical form, in the order given."""
    return "&".join(
        f"{quote(name, safe=_UNRESERVED)}={quote(value, safe=_UNRESERVED)}" for name, value in query
    )


def decode_body(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
