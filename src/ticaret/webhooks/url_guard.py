"""SSRF guard for webhook target URLs, on top of :mod:`ticaret.core.ssrf`.

A tenant chooses where we POST, so without a guard a webhook could make our servers call the cloud
metadata service (169.254.169.254), an admin port on localhost or anything else on the private
network, and the delivery history would hand the response back to them.

Two moments need the check:

* when the endpoint is created or its URL changed (:func:`check_target_url`), to refuse it early
  with a readable reason;
* every connection a delivery attempt opens: the sender uses the guarded client
  (:func:`ticaret.core.http.guarded_client` with :func:`webhook_policy`), which resolves the name,
  checks every address and connects to the address it checked. DNS answers change (a name that
  resolved to a public address at registration can later point at 127.0.0.1), and checking then
  connecting with a second lookup would leave a rebinding window; pinning the checked address
  closes it. Redirects are never followed.
"""

from __future__ import annotations

from ticaret.core.ssrf import (
    DEFAULT_RESOLVE_TIMEOUT_S,
    OutboundPolicy,
    UnsafeUrl,
    check_url,
    is_public_address,
)
from ticaret.settings import Settings

__all__ = [
    "UnsafeWebhookUrl",
    "check_target_url",
    "is_public_address",
    "resolve_and_check",
    "webhook_policy",
]

# The name is part of the agreed interface, hence no "Error" suffix.
UnsafeWebhookUrl = UnsafeUrl


def webhook_policy(settings: Settings) -> OutboundPolicy:
    return OutboundPolicy(allow_private=settings.webhooks.allow_private_targets)


async def resolve_and_check(
    url: str,
    allow_private: bool,
    *,
    resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S,
) -> None:
    """Check ``url`` against what its host resolves to right now; raise :class:`UnsafeWebhookUrl`.

    Every address of the name must be public: the HTTP client may connect to any of them.
    """
    await check_url(
        url,
        OutboundPolicy(allow_private=allow_private),
        resolve_timeout_s=resolve_timeout_s,
        subject="webhooks",
    )


async def check_target_url(
    url: str,
    *,
    allow_private: bool,
    resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S,
) -> None:
    """Validate a webhook URL when it is created or changed (see the module docstring)."""
    await resolve_and_check(url, allow_private, resolve_timeout_s=resolve_timeout_s)
