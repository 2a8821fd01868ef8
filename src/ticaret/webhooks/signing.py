"""Standard Webhooks 1.0 signing for outgoing deliveries.

Scheme (https://www.standardwebhooks.com/): the signed content is ``"{id}.{timestamp}.{body}"``,
HMAC-SHA256 keyed with the base64-decoded part of a ``whsec_<base64>`` secret, sent as
``webhook-signature: v1,<base64>``. The header may carry several space-separated signatures so an
endpoint whose secret was rotated can be signed with both the old and the new secret during a grace
period; receivers accept the message when any one of them verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the public prefix of every secret, not a secret
SIGNATURE_VERSION = "v1"
USER_AGENT = "Ticaret-Webhooks/1.0"

# The spec asks for 24..64 random bytes; 32 bytes matches the HMAC-SHA256 block strength.
_SECRET_BYTES = 32


def generate_secret() -> str:
    """Return a new endpoint secret, ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def _secret_key(secret: str) -> bytes:
    """Decode a ``whsec_`` secret into the raw HMAC key, refusing anything malformed.

    A bare base64 string (without the prefix) is accepted as well, as the reference libraries do.
    """
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret is not valid base64") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return one ``v1,<base64>`` signature of ``body`` sent as ``msg_id`` at ``timestamp``."""
    if "." in msg_id:
        # The id is a field of the dot-joined signed content; a dot in it would make two different
        # (id, timestamp) pairs sign the same bytes.
        raise ValueError("webhook message id must not contain '.'")
    signed = msg_id.encode() + b"." + str(int(timestamp)).encode() + b"." + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Sign with every active secret (newest first by convention) and join with spaces."""
    if not secrets:
        raise ValueError("at least one webhook secret is required")
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def build_headers(
    msg_id: str, timestamp: int, body: bytes, secrets: Sequence[str]
) -> dict[str, str]:
    """Headers of one delivery attempt; the body must be sent byte-for-byte as signed."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
