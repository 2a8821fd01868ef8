"""Our signatures checked by the independent ``standardwebhooks`` reference implementation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from ticaret.webhooks.signing import (
    build_headers,
    generate_secret,
    sign,
    signature_header,
)

BODY = json.dumps(
    {"id": "evt_1", "type": "webhook.test", "data": {"text": "merhaba ğüşiöç"}}
).encode()


def test_generated_secret_shape_and_uniqueness() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    assert 24 <= len(key) <= 64
    assert generate_secret() != secret


def test_sign_matches_hand_computed_hmac() -> None:
    key = bytes(range(32))
    secret = "whsec_" + base64.b64encode(key).decode()
    expected = hmac.new(key, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    assert sign(secret, "msg_1", 1_700_000_000, BODY) == "v1," + base64.b64encode(expected).decode()


def test_reference_library_accepts_our_headers() -> None:
    secret = generate_secret()
    headers = build_headers("evt_abc", int(time.time()), BODY, [secret])
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Ticaret-Webhooks/1.0"
    assert headers["webhook-id"] == "evt_abc"


def test_reference_library_rejects_tampered_body() -> None:
    secret = generate_secret()
    headers = build_headers("evt_abc", int(time.time()), BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"evt_1", b"evt_2"), headers)


def test_reference_library_rejects_wrong_secret() -> None:
    headers = build_headers("evt_abc", int(time.time()), BODY, [generate_secret()])
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_reference_library_rejects_old_timestamp() -> None:
    secret = generate_secret()
    headers = build_headers("evt_abc", int(time.time()) - 600, BODY, [secret])
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


def test_reference_library_rejects_changed_id() -> None:
    secret = generate_secret()
    headers = build_headers("evt_abc", int(time.time()), BODY, [secret])
    headers["webhook-id"] = "evt_other"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers)


def test_rotation_header_verifies_with_old_and_new_secret() -> None:
    old, new = generate_secret(), generate_secret()
    ts = int(time.time())
    header = signature_header([new, old], "evt_rot", ts, BODY)
    assert len(header.split(" ")) == 2
    assert all(part.startswith("v1,") for part in header.split(" "))
    headers = build_headers("evt_rot", ts, BODY, [new, old])
    assert headers["webhook-signature"] == header
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_secret_without_prefix_is_the_same_key() -> None:
    secret = generate_secret()
    assert sign(secret, "m", 1, BODY) == sign(secret.removeprefix("whsec_"), "m", 1, BODY)


@pytest.mark.parametrize("bad", ["whsec_", "whsec_not base64!", ""])
def test_malformed_secret_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        sign(bad, "m", 1, BODY)


def test_no_secrets_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        signature_header([], "m", 1, BODY)


def test_dotted_id_is_refused() -> None:
    with pytest.raises(ValueError, match="must not contain"):
        sign(generate_secret(), "a.b", 1, BODY)
