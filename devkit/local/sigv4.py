"""Verification of AWS Signature Version 4 on requests to the local API.

API Gateway checks every request to an ``AWS_IAM`` method before anything else
runs; this module does the same for service ``execute-api``. The canonical request
is rebuilt from the path and query string exactly as they arrived. The query string
in particular is never decoded and re-encoded, because a client that signs one
encoding and sends another must fail here as it fails against API Gateway.

Algorithm: AWS Signature Version 4, as published in the AWS Identity and Access
Management User Guide ("Create a signed AWS API request").
"""

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Mapping, Optional, Sequence, Tuple
from urllib.parse import quote

from shared import naming

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "execute-api"
REGION = naming.REGION
SCOPE_TERMINATOR = "aws4_request"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

# API Gateway rejects a request whose date is more than 5 minutes from its own clock.
MAX_CLOCK_SKEW = timedelta(minutes=5)

# Credentials the local API accepts when AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are unset.
DEFAULT_ACCESS_KEY_ID = "local-access-key"
DEFAULT_SECRET_ACCESS_KEY = "local-secret-key"  # noqa: S105 - the documented local default

MISSING_AUTHENTICATION_TOKEN = "MISSING_AUTHENTICATION_TOKEN"  # noqa: S105 - a gateway response type
INVALID_SIGNATURE = "INVALID_SIGNATURE"

_AUTHORIZATION_PARTS = ("Credential", "SignedHeaders", "Signature")


class SignatureError(Exception):
    """A request is unsigned or badly signed; ``response_type`` is the API Gateway gateway response."""

    def __init__(self, response_type: str, message: str):
        super().__init__(message)
        self.response_type = response_type
        self.message = message


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class SignedRequest:
    """An HTTP request as received: the raw path and query string, headers in arrival order."""

    method: str
    raw_path: str
    raw_query: str
    headers: Sequence[Tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Caller:
    """The identity a valid signature proves."""

    access_key_id: str
    session_token: Optional[str]
    signed_headers: Tuple[str, ...]


def credentials_from_environment(environ: Optional[Mapping[str, str]] = None) -> Credentials:
    """Return the credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the local defaults.

    Both variables must be set for either to count, so a half-set environment falls back
    to the documented pair instead of mixing a real key with a default secret.
    """
    environ = os.environ if environ is None else environ
    access_key_id = environ.get("AWS_ACCESS_KEY_ID", "").strip()
    secret_access_key = environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
    if access_key_id and secret_access_key:
        return Credentials(access_key_id, secret_access_key)
    return Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY)


def verify(
    request: SignedRequest,
    credentials: Credentials,
    now: Optional[datetime] = None,
    region: str = REGION,
    service: str = SERVICE,
) -> Caller:
    """Check the request's SigV4 signature and return the caller, or raise ``SignatureError``."""
    now = datetime.now(timezone.utc) if now is None else now
    headers = _merge_headers(request.headers)
    authorization = headers.get("authorization")
    if authorization is None:
        if "x-amz-date" in headers:
            raise _invalid("the request has an X-Amz-Date header but no Authorization header")
        raise SignatureError(MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token")

    parts = _parse_authorization(authorization)
    request_time, amz_date, date_header = _request_time(headers)
    access_key_id, scope = _check_credential_scope(
        parts["Credential"], amz_date, credentials, region, service
    )
    _check_clock_skew(request_time, now)

    signed_headers = tuple(parts["SignedHeaders"].split(";"))
    _check_signed_headers(signed_headers, headers, date_header)
    payload_hash = _payload_hash(request.body, headers)

    canonical = canonical_request(
        request.method, request.raw_path, request.raw_query, headers, signed_headers, payload_hash
    )
    to_sign = string_to_sign(amz_date, scope, canonical)
    expected = signature(credentials.secret_access_key, amz_date[:8], region, service, to_sign)
    if not hmac.compare_digest(expected, parts["Signature"]):
        raise _invalid(
            "the signature does not match the canonical request rebuilt from the request as received. "
            "Check the secret access key, and send the path and query string exactly as they were "
            "signed, without re-encoding them.\n\n"
            f"Canonical request:\n{canonical}\n\nString to sign:\n{to_sign}"
        )
    return Caller(access_key_id, headers.get("x-amz-security-token"), signed_headers)


def canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """Return the SigV4 canonical request; ``headers`` maps lower-case names to merged values."""
    canonical_headers = "".join(f"{name}:{_trim(headers[name])}\n" for name in signed_headers)
    return "\n".join(
        (
            method.upper(),
            canonical_uri(raw_path),
            canonical_query_string(raw_query),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        )
    )


def canonical_uri(raw_path: str) -> str:
    """Return the canonical URI of a raw (percent-encoded) path.

    Services other than S3 normalize the path (dot segments and empty segments removed)
    and then URI-encode it once more, so ``%20`` in the path is signed as ``%2520``.
    """
    return quote(_normalize_path(raw_path), safe="/~")


def canonical_query_string(raw_query: str) -> str:
    """Return the canonical query string from the raw one, sorting its pairs but keeping each as sent.

    A parameter without ``=`` gets an empty value. Names and values are compared and
    joined byte for byte as they arrived, so a value signed as ``a%20b`` and sent as
    ``a+b`` no longer matches its signature.
    """
    # NOTE: a client that signs the canonical form but sends another valid encoding of the same
    # value (``%7E`` for ``~``, lower-case hex) fails here; whether API Gateway accepts it is untested.
    if not raw_query:
        return ""
    pairs = []
    for item in raw_query.split("&"):
        name, _, value = item.partition("=")
        pairs.append((name, value))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "\n".join((ALGORITHM, amz_date, scope, digest))


def signature(secret_access_key: str, date: str, region: str, service: str, to_sign: str) -> str:
    """Return the hex signature of ``to_sign`` with the key derived for one day, region and service."""
    key = f"AWS4{secret_access_key}".encode()
    for component in (date, region, service, SCOPE_TERMINATOR):
        key = _hmac(key, component)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _invalid(reason: str) -> SignatureError:
    return SignatureError(INVALID_SIGNATURE, f"Invalid signature: {reason}")


def _merge_headers(headers: Sequence[Tuple[str, str]]) -> dict:
    """Map lower-case header names to their values, joining repeated headers with commas."""
    merged: dict = {}
    for name, value in headers:
        key = name.strip().lower()
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    return merged


def _trim(value: str) -> str:
    """Strip a header value and collapse runs of spaces, as SigV4 canonical headers require."""
    return " ".join(value.split())


def _parse_authorization(authorization: str) -> dict:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _invalid(f"the Authorization header uses algorithm {algorithm!r}; only {ALGORITHM} is accepted")
    parts = {}
    for item in rest.split(","):
        name, separator, value = item.strip().partition("=")
        if separator:
            parts[name] = value.strip()
    missing = [name for name in _AUTHORIZATION_PARTS if not parts.get(name)]
    if missing:
        raise _invalid(f"the Authorization header is missing {', '.join(missing)}")
    return parts


def _request_time(headers: Mapping[str, str]) -> Tuple[datetime, str, str]:
    """Return the request time, its SigV4 form and the name of the header that carried it."""
    if "x-amz-date" in headers:
        raw = headers["x-amz-date"].strip()
        try:
            parsed = datetime.strptime(raw, AMZ_DATE_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            raise _invalid(f"X-Amz-Date {raw!r} is not in the form YYYYMMDDTHHMMSSZ") from None
        return parsed, raw, "x-amz-date"
    if "date" in headers:
        raw = headers["date"].strip()
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            raise _invalid(f"Date {raw!r} is not an HTTP date") from None
        # The zone "-0000" parses without a zone; it still means UTC, never this machine's zone.
        parsed = parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
        return parsed, parsed.strftime(AMZ_DATE_FORMAT), "date"
    raise _invalid("the request has an Authorization header but neither an X-Amz-Date nor a Date header")


def _check_credential_scope(
    credential: str, amz_date: str, credentials: Credentials, region: str, service: str
) -> Tuple[str, str]:
    """Return the access key and the scope string, or raise naming the wrong part."""
    fields = credential.split("/")
    if len(fields) != 5:
        raise _invalid(
            f"Credential {credential!r} is not <access key>/<date>/<region>/<service>/{SCOPE_TERMINATOR}"
        )
    access_key_id, date, scope_region, scope_service, terminator = fields
    if terminator != SCOPE_TERMINATOR:
        raise _invalid(f"the credential scope ends in {terminator!r} instead of {SCOPE_TERMINATOR!r}")
    if scope_service != service:
        raise _invalid(f"the credential scope names service {scope_service!r}; sign for {service!r}")
    if scope_region != region:
        raise _invalid(f"the credential scope names region {scope_region!r}; sign for {region!r}")
    if not hmac.compare_digest(access_key_id.encode("utf-8"), credentials.access_key_id.encode("utf-8")):
        raise _invalid(f"access key {access_key_id!r} is not the one this local API accepts")
    if date != amz_date[:8]:
        raise _invalid(f"the credential scope date {date} differs from the request date {amz_date[:8]}")
    return access_key_id, "/".join(fields[1:])


def _check_clock_skew(request_time: datetime, now: datetime) -> None:
    # Reported as INVALID_SIGNATURE, the error AWS services give for "Signature expired".
    # EXPIRED_TOKEN is for expired session credentials, which the local API cannot check.
    if abs(now - request_time) <= MAX_CLOCK_SKEW:
        return
    minutes = int(MAX_CLOCK_SKEW.total_seconds() // 60)
    raise SignatureError(
        INVALID_SIGNATURE,
        f"Signature expired: the request date {request_time.strftime(AMZ_DATE_FORMAT)} is more than "
        f"{minutes} minutes from the server time {now.strftime(AMZ_DATE_FORMAT)}; sign the request again",
    )


def _check_signed_headers(
    signed_headers: Sequence[str], headers: Mapping[str, str], date_header: str
) -> None:
    """Require host, the date header and every X-Amz-* header to be signed, and every signed one sent."""
    if list(signed_headers) != sorted(set(signed_headers)) or any(n != n.lower() for n in signed_headers):
        raise _invalid(f"SignedHeaders {';'.join(signed_headers)!r} is not a sorted list of lower-case names")
    required = {"host", date_header} | {name for name in headers if name.startswith("x-amz-")}
    unsigned = sorted(required - set(signed_headers))
    if unsigned:
        raise _invalid(f"header(s) {', '.join(unsigned)} must be signed but are not in SignedHeaders")
    absent = [name for name in signed_headers if name not in headers]
    if absent:
        raise _invalid(f"signed header(s) {', '.join(absent)} are missing from the request")


def _payload_hash(body: bytes, headers: Mapping[str, str]) -> str:
    """Return the hex SHA-256 of the body, checking an X-Amz-Content-SHA256 header against it."""
    actual = hashlib.sha256(body).hexdigest()
    declared = headers.get("x-amz-content-sha256")
    if declared is not None and declared.strip().lower() != actual:
        raise _invalid(f"X-Amz-Content-SHA256 {declared.strip()!r} is not the SHA-256 of the request body")
    return actual


def _normalize_path(raw_path: str) -> str:
    """Remove empty, ``.`` and ``..`` segments, keeping a leading and a trailing slash."""
    if not raw_path:
        return "/"
    segments: list = []
    for segment in raw_path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if raw_path.endswith("/") and segments else ""
    return "/" + "/".join(segments) + trailing
