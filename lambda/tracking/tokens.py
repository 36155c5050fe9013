"""Opaque, signed ``next_token`` values for GET /status history pages.

A token carries the tracking id and the sort key to continue after, with an
HMAC-SHA256 over both. The key comes from a SecureString parameter, so a caller can
neither forge a token nor move one to another shipment.
"""

import base64
import binascii
import hashlib
import hmac
import json

from tracking.errors import RequestInvalid


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(text: str) -> bytes:
    """Decode unpadded base64url strictly: any other character, or any other spelling, is rejected."""
    raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    if _encode(raw) != text:
        raise ValueError("not the canonical base64url form")
    return raw


def _signature(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def issue(key: bytes, tracking_id: str, after: str) -> str:
    payload = json.dumps({"id": tracking_id, "after": after}, separators=(",", ":")).encode("utf-8")
    return f"{_encode(payload)}.{_encode(_signature(key, payload))}"


def _invalid(reason: str) -> RequestInvalid:
    return RequestInvalid(
        "invalid next_token",
        [
            {
                "field": "next_token",
                "rule": "signature",
                "message": f"next_token {reason}; pass the value of the previous page unchanged",
            }
        ],
    )


def verify(key: bytes, token: str, tracking_id: str) -> str:
    """Return the sort key a token continues after, or raise ``RequestInvalid``."""
    try:
        encoded_payload, encoded_signature = token.split(".")
        payload, signature = _decode(encoded_payload), _decode(encoded_signature)
    except (ValueError, binascii.Error):
        raise _invalid("is malformed") from None
    if not hmac.compare_digest(signature, _signature(key, payload)):
        raise _invalid("was altered or not issued by this API")
    content = json.loads(payload)
    if content.get("id") != tracking_id:
        raise _invalid("belongs to another tracking_id")
    return content["after"]
