"""The live console page: self-contained (works offline) and wired to the console endpoints."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import ticaret.console

PAGE = Path(ticaret.console.__file__).with_name("page.html")


@pytest.fixture(scope="module")
def html() -> str:
    return PAGE.read_text(encoding="utf-8")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)


def _parse(html: str) -> _Collector:
    parser = _Collector()
    parser.feed(html)
    parser.close()
    return parser


def test_no_external_resources(html: str) -> None:
    external = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
    for tag, attrs in _parse(html).tags:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name)
            assert value is None or not external.match(value), f"<{tag} {name}={value!r}>"
    # Same check on the raw text, which also covers CSS and JS string literals.
    patterns = [
        r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""",
        r"""@import""",
        r"""url\(\s*["']?\s*(?:https?:)?//""",
    ]
    for pattern in patterns:
        assert not re.search(pattern, html, re.IGNORECASE), pattern
    assert not re.search(r"https?://", html, re.IGNORECASE), "no absolute URL anywhere"


def test_css_and_js_are_inline(html: str) -> None:
    parsed = _parse(html)
    assert all(tag != "link" for tag, _ in parsed.tags)
    scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
    assert scripts, "the page needs its inline script"
    assert all("src" not in attrs for attrs in scripts)
    assert any("EventSource" in s for s in parsed.scripts)
    assert parsed.styles
    assert "--bg" in "".join(parsed.styles)
    assert "font-face" not in html


def test_token_then_event_source_wiring(html: str) -> None:
    script = "".join(_parse(html).scripts)
    assert '"/console/token"' in script
    assert re.search(r'fetch\(TOKEN_URL,\s*\{\s*method:\s*"POST"', script)
    assert '"/console/events"' in script
    assert "new EventSource(EVENTS_URL" in script
    assert "new URLSearchParams({ token })" in script
    assert 'params.set("types", prefixes.join(","))' in script
    assert 'params.set("providerSessionId", sessionFilter())' in script
    assert 'params.set("lastEventId", lastEventId)' in script
    # Both credential styles and the tenant header.
    for header in ('"Authorization"', '"x-api-key"', '"x-api-secret"', '"x-account-id"'):
        assert header in script, header
    assert '"Bearer "' in script
    assert "sessionStorage" in script
    assert "localStorage" not in script
    # Unnamed and named events are both handled; the token response shape is read as documented.
    assert "es.onmessage" in script
    assert "es.addEventListener(type, onEvent)" in script
    assert "body.data.token" in script
    assert "es.onerror" in script


def test_catalogue_types_are_listened_for(html: str) -> None:
    catalogue = [
        "wa.session.status_changed",
        "wa.message.received",
        "wa.message.sent",
        "wa.message.updated",
        "wa.message.deleted",
        "wa.chat.updated",
        "wa.label.changed",
        "crm.assignment.changed",
        "crm.customer.created",
        "crm.customer.updated",
        "crm.customer.deleted",
        "crm.identity.linked",
        "crm.identity.unlinked",
        "ai.analysis.completed",
        "ai.analysis.failed",
        "order.created",
        "order.updated",
        "order.status_changed",
        "order.deleted",
        "catalog.import.completed",
        "meta.message.received",
        "meta.comment.received",
        "instagram.message.received",
        "instagram.comment.received",
        "webhook.test",
    ]
    match = re.search(r"const KNOWN_TYPES = \[(.*?)\];", html, re.S)
    assert match
    listed = set(re.findall(r'"([a-z0-9_.]+)"', match.group(1)))
    assert not set(catalogue) - listed


def test_untrusted_content_never_goes_through_innerhtml(html: str) -> None:
    script = "".join(_parse(html).scripts)
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert "document.write" not in script
    assert "eval(" not in script


def test_server_contract_documented_at_the_top(html: str) -> None:
    head = html[: html.index("<html")]
    for needle in (
        "POST /console/token",
        "GET /console/events?token=",
        "lastEventId",
        "providerSessionId",
        "types",
        '"expiresIn": 60',
        "event:",
        "data:",
    ):
        assert needle in head, needle


def test_row_limit_and_controls_present(html: str) -> None:
    assert re.search(r"const MAX_ROWS = 2000;", html)
    ids = {attrs.get("id") for _, attrs in _parse(html).tags}
    assert {"status", "f-types", "f-session", "pause", "clear", "log", "login-form"} <= ids


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_inline_script_is_valid_javascript(html: str, tmp_path: Path) -> None:
    script = tmp_path / "page.js"
    script.write_text("".join(_parse(html).scripts), encoding="utf-8")
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "--check", str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def test_every_event_type_the_server_emits_is_listened_for(html: str) -> None:
    # The stream names each event by its type (`event:`), and EventSource only delivers named
    # events to a listener for that exact name: a type missing here never shows in the console.
    from ticaret import wiring
    from ticaret.core.events import event_catalogue

    wiring.load()
    # Types the tests themselves declare (a `testing.` domain) are not the server's.
    emitted = {t.name for t in event_catalogue() if not t.name.startswith("testing.")}
    assert {"webhook.disabled", "api_account.created"} <= emitted
    match = re.search(r"const KNOWN_TYPES = \[(.*?)\];", html, re.S)
    assert match
    listed = set(re.findall(r'"([a-z0-9_.]+)"', match.group(1)))
    assert not emitted - listed, sorted(emitted - listed)
