"""Which addresses a WhatsApp gateway session may use: its base URL and the media it names.

A session's base URL is the tenant's choice and a media URL is the gateway's, so both are
checked here before any call; the connection itself goes through the SSRF-guarded client
(`ticaret.core.http.guarded_client` with `gateway_policy`), which checks the address it
actually connects to.

A base URL is an origin with an optional plain path prefix (`https://gw.example.com/evolution`):
no credentials, query or fragment, and no dot segments or escapes in the path. Every call
appends its own path to it, so anything that could turn that path into something else (a
trailing `#` or `?`, `..`) is refused.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from ticaret.core.ssrf import OutboundPolicy, url_refusal
from ticaret.settings import Settings

# The hosts WhatsApp serves media from (Baileys' `DEF_HOST` `mmg.whatsapp.net`, and the
# `media-*.cdn.whatsapp.net` / `*.fna.whatsapp.net` edge hosts in message `url` fields).
WHATSAPP_MEDIA_DOMAINS = ("whatsapp.net",)
# A plain path segment: RFC 3986 `pchar`s without percent-escapes, never `.` or `..` alone
# (WAHA file names hold `@`, `_` and `:`: `/api/files/shop/true_905...@c.us_3EB0....jpeg`).
_SEGMENT = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@-]+$")


def gateway_policy(settings: Settings) -> OutboundPolicy:
    """Where a session's calls may connect: public addresses, the operator's private gateway
    hosts, and the media hosts the operator listed (a MinIO beside the gateway)."""
    return OutboundPolicy.from_entries(
        [*settings.wa.private_gateway_hosts, *settings.wa.media_hosts]
    )


def base_url_policy(settings: Settings) -> OutboundPolicy:
    """Where a tenant's base URL may point: public, or one of the operator's gateway hosts."""
    return OutboundPolicy.from_entries(settings.wa.private_gateway_hosts)


def safe_path(path: str) -> bool:
    """A path made of plain segments only: no dot segments, escapes or backslashes."""
    if not path or path == "/":
        return True
    segments = path.strip("/").split("/")
    return all(_SEGMENT.match(s) and s not in (".", "..") for s in segments)


def base_url_refusal(url: str) -> str | None:
    """Why `url` cannot be a gateway's base URL (None: it can)."""
    reason = url_refusal(url)
    if reason is not None:
        return reason
    parsed = httpx.URL(url)
    if parsed.query or "?" in url:
        return "the URL must not contain a query (?)"
    if not safe_path(urlsplit(url).path):
        return "the URL's path may only hold plain segments (no '..', '%' escapes or '\\')"
    return None


def normalized_base_url(url: str) -> str:
    """The base URL as stored: scheme and host lower-cased, no trailing slash."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port is not None else ""
    host = parsed.raw_host.decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    return f"{parsed.scheme.lower()}://{host.lower()}{port}{parsed.path.rstrip('/')}"


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, or None for anything else."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    scheme = parsed.scheme.lower()
    if scheme not in ("http", "https") or not parsed.host:
        return None
    port = parsed.port or (443 if scheme == "https" else 80)
    return scheme, parsed.host.lower().rstrip("."), port


def is_whatsapp_media_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in WHATSAPP_MEDIA_DOMAINS)
