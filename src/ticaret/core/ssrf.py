"""SSRF guard: which addresses an outbound call may reach, and the per-connection check.

A tenant (a webhook URL, a WhatsApp gateway's base URL) or a third party (a media URL a gateway
names) chooses where our servers connect. Without a guard that address could be the cloud metadata
service (169.254.169.254), an admin port on localhost or anything else on the private network, and
the answer would come back to the tenant.

The guard is enforced **per connection** (:class:`GuardedNetworkBackend`, used by the clients in
:mod:`ticaret.core.http`): the backend resolves the host itself, checks every address against the
policy and connects to an address it checked. There is no second lookup between the check and the
connect, so DNS rebinding (a name that answers a public address to the check and 127.0.0.1 to the
connect) has no window. TLS still verifies the host name (httpcore passes it as SNI) and the
``Host`` header is the URL's host.

:func:`check_url` runs the same rules ahead of time so a form can refuse a URL with a readable
reason (a webhook when it is saved); it is a courtesy, the connection-time check is the guarantee.

URLs are parsed with ``httpx.URL``, the parser the client uses, so the host we check is the host
that gets connected to (different parsers disagree on inputs like ``http://a\\@b/``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_RESOLVE_TIMEOUT_S = 5.0

# Ranges that ``is_global`` already excludes are listed anyway: the refusal must not depend on the
# Python version's idea of "global", and this list documents what we refuse.
BLOCKED_V4 = tuple(
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
BLOCKED_V6 = tuple(
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


class UnsafeUrl(ValueError):
    """The URL may not be called; ``str(exc)`` is a reason fit for the user."""


class BlockedAddress(httpcore.ConnectError):
    """Raised by the network backend instead of connecting; httpx wraps it in a ConnectError."""


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
    """True when ``ip`` is a globally routable unicast address any caller may reach."""
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:
            # A zone index ("fe80::1%eth0") only makes sense for local addresses.
            return False
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            return is_public_address(embedded)
        if any(addr in net for net in BLOCKED_V6):
            return False
    elif any(addr in net for net in BLOCKED_V4):
        return False
    return addr.is_global and not (
        addr.is_multicast
        or addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_unspecified
    )


def address_kind(ip: IPAddress) -> str:
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
    return kind


def describe_address(ip: IPAddress) -> str:
    return f"{ip} is {address_kind(ip)}"


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _unscoped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        return ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    return ip


@dataclass(frozen=True)
class OutboundPolicy:
    """Where one kind of outbound call may connect; hashable, so a client can be shared per policy.

    Public addresses are always allowed. ``allow_private`` lets everything through (an operator
    setting for self-hosted installs, never a tenant's choice). ``private_hosts`` and
    ``private_networks`` are the operator's allow-list: a gateway at ``http://evolution:8080``
    in the same compose file, or ``10.0.0.0/8``.
    """

    allow_private: bool = False
    private_hosts: frozenset[str] = field(default_factory=frozenset)
    private_networks: frozenset[IPNetwork] = field(default_factory=frozenset)

    @classmethod
    def from_entries(cls, entries: Iterable[str], *, allow_private: bool = False) -> OutboundPolicy:
        """A policy from setting entries: host names, IP addresses, CIDR networks or URLs."""
        return cls(allow_private=allow_private).allowing(*entries)

    def allowing(self, *entries: str) -> OutboundPolicy:
        """This policy plus more allowed hosts or networks (e.g. one configured API's host)."""
        hosts = set(self.private_hosts)
        networks = set(self.private_networks)
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            if "://" in entry:
                entry = httpx.URL(entry).host
            try:
                networks.add(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return replace(self, private_hosts=frozenset(hosts), private_networks=frozenset(networks))

    def permits(self, host: str, address: IPAddress) -> bool:
        if self.allow_private or is_public_address(address):
            return True
        if host.rstrip(".").lower() in self.private_hosts:
            return True
        plain = _unscoped(address)
        candidates = [plain]
        if isinstance(plain, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(plain)):
            candidates.append(embedded)
        return any(c in net for c in candidates for net in self.private_networks)


def url_refusal(url: httpx.URL | str) -> str | None:
    """Why the URL's shape is refused (any policy), or None; also validates the host spelling."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"the URL is not valid: {exc}"
    scheme = parsed.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return f"only http and https URLs are allowed, not {scheme or 'a URL without a scheme'}"
    host = parsed.raw_host.decode("ascii")
    if not host:
        return "the URL has no host"
    if parsed.userinfo:
        # Credentials in the URL would be sent as Basic auth and stored in clear text.
        return "the URL must not contain a user name or password"
    if "#" in (url if isinstance(url, str) else str(parsed)):
        # A base URL ending in "#" turns every path appended to it into a fragment, which is never
        # sent: the call would reach the base's own path instead of the one we meant.
        return "the URL must not contain a fragment (#)"
    if _literal_ip(host) is None and not _HOSTNAME.match(host):
        return f"the URL is not valid: {host!r} is not a host name"
    return None


def _host_and_port(url: str) -> tuple[str, int]:
    reason = url_refusal(url)
    if reason is not None:
        raise UnsafeUrl(reason)
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")
    return host, parsed.port or (443 if parsed.scheme.lower() == "https" else 80)


async def resolve(host: str, port: int, timeout_s: float) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal IP is its own answer)."""
    literal = _literal_ip(host)
    if literal is not None:
        return [literal]
    # "localhost." is the absolute form of "localhost"; some resolvers only know the bare name.
    name = host.rstrip(".")
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            infos = await loop.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise UnsafeUrl(f"resolving {host} took longer than {timeout_s:g}s") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"{host} does not resolve to an address") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]
        addr = ipaddress.ip_address(text)
        # getaddrinfo reports the zone separately; keep it so a scoped address is refused.
        if isinstance(addr, ipaddress.IPv6Address) and len(sockaddr) >= 4 and sockaddr[3]:
            addr = ipaddress.IPv6Address(f"{text}%{sockaddr[3]}")
        if addr not in addresses:
            addresses.append(addr)
    if not addresses:
        raise UnsafeUrl(f"{host} does not resolve to an address")
    return addresses


async def checked_addresses(
    host: str,
    port: int,
    policy: OutboundPolicy,
    *,
    resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S,
    subject: str = "outbound calls",
) -> list[IPAddress]:
    """The addresses to connect to; raises :class:`UnsafeUrl` unless the policy permits them all.

    Every address must pass: a client may connect to any of them.
    """
    addresses = await resolve(host, port, resolve_timeout_s)
    literal = _literal_ip(host) is not None
    for addr in addresses:
        if not policy.permits(host, addr):
            if literal:
                raise UnsafeUrl(f"{subject} cannot target {addr}: it is {address_kind(addr)}")
            raise UnsafeUrl(f"{host} resolves to {describe_address(addr)}")
    return addresses


async def check_url(
    url: str,
    policy: OutboundPolicy,
    *,
    resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S,
    subject: str = "outbound calls",
) -> None:
    """Refuse ``url`` now, with a readable reason, if a call to it would be refused."""
    host, port = _host_and_port(url)
    if policy.allow_private:
        # Self-hosted installs call services on their own network; shape checks still apply.
        return
    await checked_addresses(
        host, port, policy, resolve_timeout_s=resolve_timeout_s, subject=subject
    )


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks and connects to the checked address, for every new connection."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self._resolve_timeout_s = resolve_timeout_s
        # What opens the checked connection (anyio's sockets unless the caller brings its own).
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        resolve_timeout = min(timeout or self._resolve_timeout_s, self._resolve_timeout_s)
        try:
            addresses = await checked_addresses(
                host, port, self.policy, resolve_timeout_s=resolve_timeout
            )
        except UnsafeUrl as exc:
            raise BlockedAddress(str(exc)) from None
        failure: Exception | None = None
        for address in addresses:
            try:
                # An IP literal: anyio connects to it without resolving the name again.
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets are never an outbound target")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_pool(
    policy: OutboundPolicy,
    *,
    limits: httpx.Limits,
    ssl_context: ssl.SSLContext,
    sockets: httpcore.AsyncNetworkBackend | None = None,
) -> httpcore.AsyncConnectionPool:
    return httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedNetworkBackend(policy, inner=sockets),
    )
