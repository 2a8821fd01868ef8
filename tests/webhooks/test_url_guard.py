"""SSRF guard: every class of non-public address is refused, literally and after resolution."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest

from ticaret.webhooks.url_guard import (
    UnsafeWebhookUrl,
    check_target_url,
    is_public_address,
    resolve_and_check,
)

BLOCKED = {
    "loopback v4": "127.0.0.1",
    "loopback v4 other": "127.3.4.5",
    "loopback v6": "::1",
    "rfc1918 10": "10.1.2.3",
    "rfc1918 172": "172.16.0.1",
    "rfc1918 192": "192.168.1.1",
    "link-local": "169.254.1.1",
    "cloud metadata": "169.254.169.254",
    "link-local v6": "fe80::1",
    "ula": "fc00::1",
    "ula fd": "fd12:3456::1",
    "unspecified v4": "0.0.0.0",
    "this network": "0.1.2.3",
    "unspecified v6": "::",
    "multicast v4": "224.0.0.1",
    "multicast v6": "ff02::1",
    "reserved": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "cgnat": "100.64.0.1",
    "cgnat top": "100.127.255.254",
    "documentation": "192.0.2.10",
    "documentation v6": "2001:db8::1",
    "benchmark": "198.18.0.1",
    "mapped loopback": "::ffff:127.0.0.1",
    "mapped private": "::ffff:10.0.0.1",
    "mapped metadata": "::ffff:169.254.169.254",
    "v4-compatible loopback": "::127.0.0.1",
    "6to4 loopback": "2002:7f00:1::1",
    "nat64 metadata": "64:ff9b::a9fe:a9fe",
    "site-local": "fec0::1",
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("ip", BLOCKED.values(), ids=BLOCKED.keys())
def test_is_public_address_refuses(ip: str) -> None:
    assert is_public_address(ip) is False
    assert is_public_address(ipaddress.ip_address(ip)) is False


@pytest.mark.parametrize("ip", PUBLIC)
def test_is_public_address_accepts(ip: str) -> None:
    assert is_public_address(ip) is True


def _url(ip: str) -> str:
    host = f"[{ip}]" if ":" in ip else ip
    return f"https://{host}:8443/hook"


@pytest.mark.parametrize("ip", BLOCKED.values(), ids=BLOCKED.keys())
async def test_literal_ip_urls_refused(ip: str) -> None:
    with pytest.raises(UnsafeWebhookUrl, match="webhooks cannot target"):
        await check_target_url(_url(ip), allow_private=False)


@pytest.mark.parametrize("ip", PUBLIC)
async def test_literal_public_ip_urls_accepted(ip: str) -> None:
    await check_target_url(_url(ip), allow_private=False)


async def test_reason_names_the_address_class() -> None:
    with pytest.raises(UnsafeWebhookUrl, match="cloud metadata"):
        await check_target_url("http://169.254.169.254/latest/meta-data", allow_private=False)
    with pytest.raises(UnsafeWebhookUrl, match="loopback"):
        await check_target_url("http://[::ffff:127.0.0.1]/", allow_private=False)
    with pytest.raises(UnsafeWebhookUrl, match="carrier-grade NAT"):
        await check_target_url("http://100.100.1.1/", allow_private=False)


@pytest.mark.parametrize(
    "url", ["http://localhost/hook", "http://LOCALHOST:8080/x", "http://localhost./x"]
)
async def test_localhost_name_refused_after_resolution(url: str) -> None:
    with pytest.raises(
        UnsafeWebhookUrl, match=r"localhost.* resolves to 127\.0\.0\.1 is a loopback"
    ):
        await check_target_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["http://127.1/", "http://2130706433/", "http://0x7f.0.0.1/"])
async def test_odd_loopback_spellings_refused(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        await check_target_url(url, allow_private=False)


async def test_unresolvable_name_refused() -> None:
    with pytest.raises(UnsafeWebhookUrl, match=r"does not resolve|took longer"):
        await check_target_url(
            "https://no-such-host.invalid/hook", allow_private=False, resolve_timeout_s=3
        )


def _fake_getaddrinfo(answers: dict[str, list[str]]) -> Any:
    async def getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out: list[Any] = []
        for ip in answers[host]:
            if ":" in ip:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)))
        return out

    return getaddrinfo


async def test_name_resolving_to_public_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(
        loop, "getaddrinfo", _fake_getaddrinfo({"hooks.example.com": ["93.184.215.14"]})
    )
    await check_target_url("https://hooks.example.com/in", allow_private=False)


async def test_name_with_any_private_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client may connect to any of the answers, so one bad address is enough to refuse.
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(
        loop,
        "getaddrinfo",
        _fake_getaddrinfo({"mixed.example.com": ["93.184.215.14", "fd00::5"]}),
    )
    with pytest.raises(UnsafeWebhookUrl, match=r"mixed\.example\.com resolves to fd00::5"):
        await check_target_url("https://mixed.example.com/in", allow_private=False)


async def test_rebinding_is_caught_at_delivery_time(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _fake_getaddrinfo({"rebind.example": ["8.8.4.4"]}))
    await check_target_url("http://rebind.example/", allow_private=False)
    monkeypatch.setattr(loop, "getaddrinfo", _fake_getaddrinfo({"rebind.example": ["127.0.0.1"]}))
    with pytest.raises(UnsafeWebhookUrl, match="loopback"):
        await resolve_and_check("http://rebind.example/", allow_private=False)


async def test_slow_resolver_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def hang(*_: Any, **__: Any) -> list[Any]:
        await asyncio.sleep(10)
        return []

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", hang)
    with pytest.raises(UnsafeWebhookUrl, match=r"took longer than 0\.2s"):
        await check_target_url("http://slow.example/", allow_private=False, resolve_timeout_s=0.2)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("example.com/hook", "only http and https"),
        ("http:///path-only", "no host"),
        ("https://user:pass@example.com/", "user name or password"),
        ("https://token@example.com/", "user name or password"),
        ("http://exa mple.com/", "not valid"),
        ("http://evil.com%2f@x/", "user name or password"),
        ("http://a%2fb.example/", "not a host name"),
    ],
)
async def test_malformed_urls_refused(url: str, reason: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(UnsafeWebhookUrl, match=reason):
            await check_target_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "url", ["http://localhost:9000/hook", "http://127.0.0.1/", "http://[::1]/", "http://10.0.0.5/"]
)
async def test_allow_private_lets_internal_targets_through(url: str) -> None:
    await check_target_url(url, allow_private=True)
    await resolve_and_check(url, allow_private=True)


def test_unsafe_url_is_a_value_error() -> None:
    assert issubclass(UnsafeWebhookUrl, ValueError)
