"""The SSRF-guarded outbound client: real HTTP to local servers, with a scripted DNS.

Only the name service is replaced (the event loop's getaddrinfo, which both the guard and any
other resolver in the process use), so a rebinding name can answer differently per lookup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.local_server import LocalServer
from ticaret.core.http import RefusedTarget, describe_transport_error, guarded_client
from ticaret.core.ssrf import OutboundPolicy


@dataclass
class Target:
    """An HTTP server that must (or must not) be reached; answers with its own name."""

    name: str
    redirect_to: str | None = None
    requests: list[dict[str, str]] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"path": scope["path"], "host": headers.get("host", "")})
        status, extra = 200, []
        if self.redirect_to:
            status, extra = 302, [(b"location", self.redirect_to.encode())]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": f"{self.name} answered".encode()})


@pytest.fixture
async def internal() -> AsyncIterator[tuple[Target, LocalServer]]:
    """A service on loopback that a tenant must never reach."""
    target = Target("internal")
    server = LocalServer(target)
    await server.start()
    yield target, server
    await server.stop()


async def test_loopback_target_is_refused_unless_the_operator_allows_private_addresses(
    internal: tuple[Target, LocalServer],
) -> None:
    target, server = internal
    url = f"{server.url}/admin"

    with pytest.raises(RefusedTarget, match=r"127\.0\.0\.1: it is a loopback address") as refused:
        await guarded_client(OutboundPolicy()).get(url)
    assert describe_transport_error(refused.value).startswith("refused target:")
    assert target.requests == []

    # The operator's switch for self-hosted installs, or an allow-list of networks or names.
    for policy in (
        OutboundPolicy(allow_private=True),
        OutboundPolicy.from_entries(["127.0.0.0/8"]),
    ):
        response = await guarded_client(policy).get(url)
        assert response.status_code == 200 and response.text == "internal answered"
    by_name = OutboundPolicy.from_entries(["localhost"])
    assert (
        await guarded_client(by_name).get(f"http://localhost:{server.port}/")
    ).status_code == 200
    # Allowing a name does not allow its address under another spelling.
    with pytest.raises(RefusedTarget):
        await guarded_client(by_name).get(url)
    assert len(target.requests) == 3


async def test_a_rebinding_name_is_connected_to_at_the_address_that_was_checked(
    internal: tuple[Target, LocalServer], dns: Any
) -> None:
    target, server = internal
    # The operator allows the gateway's address; the same port on 127.0.0.1 is internal.
    gateway = Target("gateway")
    gateway_server = LocalServer(gateway, host="127.0.0.2", port=server.port)
    await gateway_server.start()
    try:
        scripted = dns({"gw.rebind.test": [["127.0.0.2"], ["127.0.0.1"]]})
        client = guarded_client(OutboundPolicy.from_entries(["127.0.0.2"]))
        url = f"http://gw.rebind.test:{server.port}/instance"

        first = await client.get(url, headers={"connection": "close"})
        assert first.text == "gateway answered"
        # TLS and virtual hosts see the name, not the address we pinned.
        assert gateway.requests == [{"path": "/instance", "host": f"gw.rebind.test:{server.port}"}]

        # The name now points at loopback: the next connection is refused, not redirected.
        with pytest.raises(RefusedTarget, match=r"gw\.rebind\.test resolves to 127\.0\.0\.1"):
            await client.get(url)
        assert target.requests == []
        # One lookup per connection: the address checked is the address connected to.
        assert scripted.lookups == ["gw.rebind.test", "gw.rebind.test"]
    finally:
        await gateway_server.stop()


@pytest.mark.parametrize(
    ("path_and_host", "reason"),
    [
        ("http://user:secret@{hostport}/", "user name or password"),
        ("http://{hostport}/base#", "fragment"),
        ("http://{hostport}/base#/admin", "fragment"),
    ],
)
async def test_credentials_and_fragments_are_refused_even_with_private_addresses_allowed(
    internal: tuple[Target, LocalServer], path_and_host: str, reason: str
) -> None:
    target, server = internal
    url = path_and_host.format(hostport=f"127.0.0.1:{server.port}")
    with pytest.raises(RefusedTarget, match=reason):
        await guarded_client(OutboundPolicy(allow_private=True)).get(url)
    assert target.requests == []


@pytest.mark.parametrize(
    "host",
    ["2130706433", "0x7f.0.0.1", "127.1", "[::ffff:127.0.0.1]", "localhost.", "LOCALHOST"],
)
async def test_odd_spellings_of_loopback_are_refused(
    internal: tuple[Target, LocalServer], host: str
) -> None:
    target, server = internal
    with pytest.raises(RefusedTarget):
        await guarded_client(OutboundPolicy()).get(f"http://{host}:{server.port}/")
    assert target.requests == []


async def test_redirects_are_answers_never_followed(internal: tuple[Target, LocalServer]) -> None:
    target, server = internal
    bouncer = Target("bouncer", redirect_to=f"{server.url}/admin")
    bouncer_server = LocalServer(bouncer, host="127.0.0.2")
    await bouncer_server.start()
    try:
        client = guarded_client(OutboundPolicy.from_entries(["127.0.0.2"]))
        response = await client.get(f"{bouncer_server.url}/media", follow_redirects=True)
        assert response.status_code == 302
        assert target.requests == []
    finally:
        await bouncer_server.stop()
