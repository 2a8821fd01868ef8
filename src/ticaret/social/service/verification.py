"""Meta's webhook verification request (`GET ?hub.mode=subscribe&hub.verify_token=...
&hub.challenge=...`): answer the challenge when the token is ours."""

from __future__ import annotations

import hmac

from ticaret.settings import Settings
from ticaret.social.config import app_for
from ticaret.social.errors import MetaNotConfigured, VerificationRefused


def verify_subscription(
    settings: Settings,
    platform: str,
    mode: str | None,
    verify_token: str | None,
    challenge: str | None,
) -> str:
    expected = app_for(platform, settings).verify_token
    if expected is None:
        raise MetaNotConfigured("No webhook verify token is configured (…__VERIFY_TOKEN).")
    if (
        mode != "subscribe"
        or verify_token is None
        or challenge is None
        or not hmac.compare_digest(verify_token.encode(), expected.encode())
    ):
        raise VerificationRefused()
    return challenge
