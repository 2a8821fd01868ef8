"""SSRF guard for webhook target URLs.

A tenant chooses where we POST, so without this check a webhook could make our servers call the
cloud metadata service (169.254.169.254), an admin port on localhost or anything else on the
private network, and the delivery history would hand the response back to them.

Two moments need the check:

* when the endpoint is created or its URL changed (:func:`check_target_url`), to refuse it early
  with a readable reason;
* before **every** delivery attempt (:func:`resolve_and_check`), because DNS answers change: a name
  that resolved to a public address at registration can later point at 127.0.0.1 (DNS rebinding).
  The sender must call it right before each attempt.

There is still a window between our lookup and the HTTP client's own lookup. Closing it completely
needs connecting to the address we checked (pinning); until the transport does that, the per-attempt
re-check plus the refusal to follow redirects (the sender sets ``follow_redirects=False``) keeps the
window to a deliberate rebinding race.

URLs are parsed with ``httpx.URL``, the same parser the sender's client uses, so the host we check
is the host that gets connected to (different parsers disagree on inputs like ``http://a\\@b/``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_RESOLVE_TIMEOUT_S = 5.0

# Ranges that ``is_global`` already excludes are listed anyway: the refusal must not depend on the
# Python version's idea of "global", and this list documents what we refuse.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network", includes the unspecified address
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, includes cloud metadata 169.254.169.254
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes broadcast 255.255.255.255
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::/96",  # deprecated IPv4-compatible addresses (::127.0.0.1)
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local (ULA)
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)
# IPv6 forms that carry an IPv4 address the packets end up at; the embedded address is what counts.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# httpx lets percent-escapes and other oddities through in the host; a DNS name is only labels
# of letters, digits, "-" and "_" (IDNs arrive here punycode-encoded), optionally dot-terminated.
_HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*\.?$")


# The name is part of the agreed interface, hence no "Error" suffix.
class UnsafeWebhookUrl(ValueError):
    """The URL may not be used as a webhook target; ``str(exc)`` is a reason fit for the user."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        # Teredo carries the server and the (obfuscated) client address; the client is the target.
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress | str) -> bool:
    """True when ``ip`` is a globally routable unicast address we may deliver to."""
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:
            # A zone index ("fe80::1%eth0") only makes sense for local addresses.
            return False
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            return is_public_address(embedded)
        if any(addr in net for net in _BLOCKED_V6):
            return False
    elif any(addr in net for net in _BLOCKED_V4):
        return False
    return addr.is_global and not (
        addr.is_multicast
        or addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_unspecified
    )


def _describe(ip: IPAddress) -> str:
    """Name the class of a refused address so the user knows why."""
    target: IPAddress = ip
    if isinstance(ip, ipaddress.IPv6Address):
        target = _embedded_ipv4(ip) or ip
    if target.is_loopback:
        kind = "a loopback address"
    elif target.is_unspecified:
        kind = "the unspecified address"
    elif target.is_link_local:
        kind = "a link-local address (this includes cloud metadata services)"
    elif target.is_multicast:
        kind = "a multicast address"
    elif target in ipaddress.IPv4Network("100.64.0.0/10"):
        kind = "a carrier-grade NAT address"
    elif target.is_private:
        kind = "a private network address"
    else:
        kind = "a reserved or non-public address"
    return f"{ip} is {kind}"


def _parse(url: str) -> tuple[str, int]:
    """Validate the URL's shape; return the ASCII host and the port that will be connected to."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeWebhookUrl(f"the URL is not valid: {exc}") from exc
    scheme = parsed.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeWebhookUrl(
            f"only http and https URLs are allowed, not {scheme or 'a URL without a scheme'}"
        )
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise UnsafeWebhookUrl("the URL has no host")
    if parsed.userinfo:
        # Credentials in the URL would be stored and shown in delivery history in clear text.
        raise UnsafeWebhookUrl("the URL must not contain a user name or password")
    if _literal_ip(host) is None and not _HOSTNAME.match(host):
        raise UnsafeWebhookUrl(f"the URL is not valid: {host!r} is not a host name")
    port = parsed.port or (443 if scheme == "https" else 80)
    return host, port


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _resolve(host: str, port: int, timeout_s: float) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise UnsafeWebhookUrl(f"resolving {host} took longer than {timeout_s:g}s") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeWebhookUrl(f"{host} does not resolve to an address") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]
        addr = ipaddress.ip_address(text)
        # getaddrinfo reports the zone separately; keep it so a scoped address is refused.
        if isinstance(addr, ipaddress.IPv6Address) and len(sockaddr) >= 4 and sockaddr[3]:
            addr = ipaddress.IPv6Address(f"{text}%{sockaddr[3]}")
        addresses.append(addr)
    if not addresses:
        raise UnsafeWebhookUrl(f"{host} does not resolve to an address")
    return addresses


async def resolve_and_check(
    url: str,
    allow_private: bool,
    *,
    resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S,
) -> None:
    """Check ``url`` against what its host resolves to right now; raise :class:`UnsafeWebhookUrl`.

    Every address of the name must be public: the HTTP client may connect to any of them.
    """
    host, port = _parse(url)
    if allow_private:
        # Self-hosted installs deliver to services on their own network; shape checks still apply.
        return
    literal = _literal_ip(host)
    # Literal IPs are checked directly; anything else (including odd spellings such as "127.1" or
    # "2130706433" that the C resolver turns into 127.0.0.1) goes through getaddrinfo.
    if literal is not None:
        addresses = [literal]
    else:
        # "localhost." is the absolute form of "localhost"; some resolvers only know the bare name.
        addresses = await _resolve(host.rstrip("."), port, resolve_timeout_s)
    for addr in addresses:
        if not is_public_address(addr):
            if literal is not None:
                raise UnsafeWebhookUrl(f"webhooks cannot target {_describe(addr)}")
            raise UnsafeWebhookUrl(f"{host} resolves to {_describe(addr)}")


async def check_target_url(
    url: str,
    *,
    allow_private: bool,
    resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S,
) -> None:
    """Validate a webhook URL when it is created or changed (see the module docstring)."""
    await resolve_and_check(url, allow_private, resolve_timeout_s=resolve_timeout_s)
