"""The console's SSE stream over a real HTTP connection (uvicorn on a free local port)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import ConfigDict

from tests.helpers import Caller, Servers, add_member, assert_error, register
from tests.local_server import LocalServer, serve
from ticaret.console import router as console_router
from ticaret.console.broker import QUEUE_SIZE, LiveEvent, Subscription, get_broker
from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, EventPayload, emit, event_type
from ticaret.core.queue import get_redis
from ticaret.core.security import issue_scoped_token
from ticaret.settings import get_settings


@pytest.fixture
async def base_url(app: Any) -> AsyncIterator[str]:
    # The session's app, already started: uvicorn only adds the real socket.
    async with serve(app) as url:
        yield url


class SseStream:
    """Parses the stream in a background task; a timed-out wait leaves the connection intact."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.comments: list[str] = []
        self._events: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if fields:
                        await self._events.put(fields)
                    fields = {}
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass
        finally:
            await self._events.put(None)

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def next_event(self, timeout: float = 5.0) -> dict[str, str]:
        event = await asyncio.wait_for(self._events.get(), timeout)
        if event is None:
            raise AssertionError("the stream ended")
        return event

    async def no_event(self, wait: float = 0.5) -> None:
        try:
            event = await self.next_event(timeout=wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event {event}")


@asynccontextmanager
async def open_stream(
    base_url: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[SseStream]:
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=10) as http,
        http.stream("GET", "/console/events", params=params, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = SseStream(response)
        try:
            yield stream
        finally:
            await stream.close()


async def stream_token(client: httpx.AsyncClient, caller: Caller) -> str:
    response = await client.post(
        "/console/token", headers={**caller.headers, "x-account-id": caller.account_id}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["expiresIn"] == 60 and data["accountId"] == caller.account_id
    return str(data["token"])


class Anything(EventPayload):
    """The console streams whatever it is given; these tests only look at types and ids."""

    model_config = ConfigDict(extra="allow")


# Types of a `testing` domain: the stream's filters see the same dotted names as real ones.
TESTING_TYPES = {
    name: event_type(name, "Emitted by the console tests only.", Anything)
    for name in (
        "testing.order.created",
        "testing.order.updated",
        "testing.order.deleted",
        "testing.wa.message.sent",
        "testing.wa.message.received",
        "testing.wa.chat.updated",
        "testing.crm.customer.created",
    )
}


async def emit_event(
    account_id: str, type_: str, data: dict[str, Any], provider_session_id: str | None = None
) -> str:
    """Emit as a worker job would: its own transaction, relayed through Redis after commit."""
    async with unit_of_work() as session:
        event = emit(
            session,
            TESTING_TYPES[type_],
            Anything(**data),
            account_id=uuid.UUID(account_id),
            actor=Actor.system(),
            provider_session_id=provider_session_id,
        )
    return event.id


async def wait_for_streams(count: int) -> None:
    for _ in range(200):
        if get_broker().stream_count == count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{get_broker().stream_count} streams open, expected {count}")


async def test_live_events_arrive_with_id_type_and_json(
    client: httpx.AsyncClient, base_url: str
) -> None:
    owner = await register(client)
    token = await stream_token(client, owner)
    async with (
        open_stream(base_url, params={"token": token}) as first,
        open_stream(base_url, params={"token": token}) as second,
    ):
        await wait_for_streams(2)
        event_id = await emit_event(
            owner.account_id,
            "testing.wa.message.received",
            {"text": "merhaba", "providerSessionId": "s1"},
        )
        for stream in (first, second):
            received = await stream.next_event()
            assert received["id"] == event_id
            assert received["event"] == "testing.wa.message.received"
            payload = json.loads(received["data"])
            assert payload["id"] == event_id and payload["type"] == "testing.wa.message.received"
            assert payload["accountId"] == owner.account_id
            assert payload["data"] == {"text": "merhaba", "providerSessionId": "s1"}
            assert payload["actor"] == {"type": "system", "id": None}
        # An event made through the API (committed by the request) arrives as well.
        created = await client.post(
            f"/accounts/{owner.account_id}/api-accounts",
            json={"name": "bot", "role": "viewer"},
            headers=owner.headers,
        )
        assert created.status_code == 201
        received = await first.next_event()
        assert received["event"] == "api_account.created"
    # Closing the connections ends the streams and frees their subscriptions.
    await wait_for_streams(0)


async def test_last_event_id_replays_what_was_missed_then_goes_live(
    client: httpx.AsyncClient, base_url: str
) -> None:
    owner = await register(client)
    seen = [await emit_event(owner.account_id, "testing.order.created", {"n": n}) for n in range(4)]
    token = await stream_token(client, owner)
    async with open_stream(
        base_url, params={"token": token}, headers={"Last-Event-ID": seen[1]}
    ) as stream:
        assert [(await stream.next_event())["id"] for _ in range(2)] == seen[2:]
        live = await emit_event(owner.account_id, "testing.order.updated", {"n": 4})
        assert (await stream.next_event())["id"] == live
        await stream.no_event()  # no duplicate of the replayed or live ones

    # The query parameter (what the page sends after reopening) wins over the header.
    token = await stream_token(client, owner)
    async with open_stream(
        base_url,
        params={"token": token, "lastEventId": seen[2]},
        headers={"Last-Event-ID": seen[0]},
    ) as stream:
        assert [(await stream.next_event())["id"] for _ in range(2)] == [seen[3], live]
        await stream.no_event()

    # An unknown id replays nothing: the stream starts from now.
    token = await stream_token(client, owner)
    async with open_stream(
        base_url, params={"token": token, "lastEventId": "evt_unknown"}
    ) as stream:
        await stream.no_event()
        fresh = await emit_event(owner.account_id, "testing.order.deleted", {})
        assert (await stream.next_event())["id"] == fresh


async def test_another_accounts_events_never_appear(
    client: httpx.AsyncClient, base_url: str
) -> None:
    owner = await register(client)
    stranger = await register(client)
    theirs = await emit_event(stranger.account_id, "testing.order.created", {"secret": "theirs"})
    token = await stream_token(client, owner)
    # Not even as a replay: their event id is unknown in this account.
    async with open_stream(base_url, params={"token": token, "lastEventId": theirs}) as stream:
        await wait_for_streams(1)
        await emit_event(stranger.account_id, "testing.order.created", {"secret": "theirs"})
        mine = await emit_event(owner.account_id, "testing.order.created", {"n": 1})
        received = await stream.next_event()
        assert received["id"] == mine
        await stream.no_event()


async def test_filters_by_type_prefix_and_provider_session(
    client: httpx.AsyncClient, base_url: str
) -> None:
    owner = await register(client)
    start = await emit_event(owner.account_id, "testing.order.created", {})
    token = await stream_token(client, owner)
    params = {
        "token": token,
        "types": "testing.wa.message.*,testing.crm.",
        "providerSessionId": "s1",
    }
    async with open_stream(base_url, params={**params, "lastEventId": start}) as stream:
        await wait_for_streams(1)
        wanted = [
            await emit_event(
                owner.account_id, "testing.wa.message.sent", {"providerSessionId": "s1"}
            ),
            await emit_event(
                owner.account_id, "testing.crm.customer.created", {"providerSessionId": "s1"}
            ),
        ]
        await emit_event(owner.account_id, "testing.wa.message.sent", {"providerSessionId": "s2"})
        await emit_event(owner.account_id, "testing.order.created", {"providerSessionId": "s1"})
        await emit_event(owner.account_id, "testing.wa.chat.updated", {"providerSessionId": "s1"})
        assert [(await stream.next_event())["id"] for _ in range(2)] == wanted
        await stream.no_event()
    # The same filters apply to the replay.
    token = await stream_token(client, owner)
    async with open_stream(
        base_url, params={**params, "token": token, "lastEventId": start}
    ) as stream:
        assert [(await stream.next_event())["id"] for _ in range(2)] == wanted
        await stream.no_event()


async def test_stream_tokens_that_are_expired_or_wrong_are_refused(
    client: httpx.AsyncClient, base_url: str
) -> None:
    owner = await register(client)
    expired = issue_scoped_token(
        get_settings(),
        {"sub": owner.user_id, "pty": "user", "ver": "0", "acc": owner.account_id},
        -1,
        console_router.STREAM_TOKEN_TYPE,
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        for token in (expired, owner.token, "garbage"):
            response = await http.get("/console/events", params={"token": token})
            assert_error(response, 401, "invalid_stream_token")
        # No token and no credentials.
        assert_error(await http.get("/console/events"), 401)
        # A stream token is not an access token either.
        good = await stream_token(client, owner)
        assert_error(await http.get("/auth/me", headers={"Authorization": f"Bearer {good}"}), 401)
        # A member removed after getting a token cannot open the stream with it.
        member = await add_member(client, owner, "agent")
        member_token = await stream_token(client, member)
        removed = await client.delete(
            f"/accounts/{owner.account_id}/users/{member.user_id}", headers=owner.headers
        )
        assert removed.status_code == 200
        assert_error(
            await http.get("/console/events", params={"token": member_token}),
            401,
            "invalid_stream_token",
        )
    assert_error(await client.post("/console/token"), 401)


async def test_viewer_and_api_key_may_watch(client: httpx.AsyncClient, base_url: str) -> None:
    owner = await register(client)
    viewer = await add_member(client, owner, "viewer")
    created = await client.post(
        f"/accounts/{owner.account_id}/api-accounts",
        json={"name": "watcher", "role": "viewer"},
        headers=owner.headers,
    )
    key = created.json()["data"]
    api_headers = {"x-api-key": key["key"], "x-api-secret": key["secret"]}
    api_token = (await client.post("/console/token", headers=api_headers)).json()["data"]["token"]
    async with (
        open_stream(base_url, params={"token": await stream_token(client, viewer)}) as by_viewer,
        open_stream(base_url, params={"token": api_token}) as by_key_token,
        open_stream(base_url, headers=api_headers) as by_key_headers,
        open_stream(base_url, headers=owner.headers) as by_bearer,
    ):
        await wait_for_streams(4)
        event_id = await emit_event(owner.account_id, "testing.order.created", {})
        for stream in (by_viewer, by_key_token, by_key_headers, by_bearer):
            assert (await stream.next_event())["id"] == event_id
    # Another account in x-account-id is refused for the token too.
    stranger = await register(client)
    assert_error(
        await client.post(
            "/console/token", headers={**owner.headers, "x-account-id": stranger.account_id}
        ),
        403,
    )
    assert_error(
        await client.post("/console/token", headers={**owner.headers, "x-account-id": "nope"}),
        400,
    )


async def test_heartbeat_comments_keep_the_connection_alive(
    client: httpx.AsyncClient, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_router, "HEARTBEAT_SECONDS", 0.2)
    owner = await register(client)
    async with open_stream(base_url, params={"token": await stream_token(client, owner)}) as s:
        await s.no_event(wait=0.7)
        assert "ping" in " ".join(s.comments)


async def test_console_page_is_self_contained_with_a_strict_policy(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/console")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "new EventSource" in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "'unsafe-inline'" not in policy and policy.count("'sha256-") >= 2
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_open_streams_end_when_the_server_shuts_down(
    client: httpx.AsyncClient, app: Any
) -> None:
    owner = await register(client)
    token = await stream_token(client, owner)
    server = LocalServer(app)
    await server.start()
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as http,
        http.stream("GET", "/console/events", params={"token": token}) as response,
    ):
        stream = SseStream(response)
        await wait_for_streams(1)
        started = time.monotonic()
        stopping = asyncio.create_task(server.stop())
        with pytest.raises(AssertionError, match="the stream ended"):
            await stream.next_event(timeout=5)
        await stopping
        await stream.close()
    # Well inside uvicorn's 5 s graceful timeout: the stream did not hold the shutdown.
    assert time.monotonic() - started < 3
    await wait_for_streams(0)


async def test_a_redis_outage_ends_streams_and_resuming_loses_nothing(
    client: httpx.AsyncClient, base_url: str, servers: Servers
) -> None:
    if servers.redis is None:
        pytest.skip("needs the embedded Redis to stop and start it")
    owner = await register(client)
    token = await stream_token(client, owner)
    async with open_stream(base_url, params={"token": token}) as stream:
        await wait_for_streams(1)
        seen = await emit_event(owner.account_id, "testing.order.created", {"n": 1})
        assert (await stream.next_event())["id"] == seen
        servers.redis.stop()
        try:
            # The stream cannot know what it misses while Redis is away: it ends.
            with pytest.raises(AssertionError, match="the stream ended"):
                await stream.next_event(timeout=5)
            # Committed during the outage; its relay failed.
            missed = await emit_event(owner.account_id, "testing.order.updated", {"n": 2})
        finally:
            servers.redis.start()
    for _ in range(50):  # the pool reconnects on its next command
        try:
            await get_redis().ping()
            break
        except Exception:
            await asyncio.sleep(0.1)
    await wait_for_streams(0)
    token = await stream_token(client, owner)
    async with open_stream(base_url, params={"token": token, "lastEventId": seen}) as stream:
        assert (await stream.next_event())["id"] == missed
        after = await emit_event(owner.account_id, "testing.order.deleted", {"n": 3})
        assert (await stream.next_event())["id"] == after


def test_a_reader_that_falls_behind_is_ended_not_skipped() -> None:
    subscription = Subscription("ticaret:events:x")
    for n in range(QUEUE_SIZE + 5):
        subscription.offer(LiveEvent(str(n), {"id": str(n)}))
    assert subscription.ended
    drained: list[str | None] = []
    while not subscription._queue.empty():
        item = subscription._queue.get_nowait()
        drained.append(None if item is None else item.raw)
    # What was queued is still delivered, then the end marker; nothing after a gap.
    assert drained[:-1] == [str(n) for n in range(QUEUE_SIZE)] and drained[-1] is None


async def test_replay_is_capped_to_the_newest_events(
    client: httpx.AsyncClient, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticaret.console import stream as console_stream

    monkeypatch.setattr(console_stream, "REPLAY_LIMIT", 2)
    owner = await register(client)
    start = await emit_event(owner.account_id, "testing.order.created", {})
    missed = [
        await emit_event(owner.account_id, "testing.order.updated", {"n": n}) for n in range(4)
    ]
    token = await stream_token(client, owner)
    async with open_stream(base_url, params={"token": token, "lastEventId": start}) as stream:
        assert [(await stream.next_event())["id"] for _ in range(2)] == missed[2:]
        await stream.no_event()
        assert any("replay limited" in c for c in stream.comments)


async def _collect(stream: SseStream, wait: float) -> list[str]:
    """Every event id the stream gives within `wait` seconds of quiet."""
    ids: list[str] = []
    while True:
        try:
            ids.append((await stream.next_event(timeout=wait))["id"])
        except TimeoutError:
            return ids


async def test_an_event_committed_after_a_later_numbered_one_is_not_missed_on_resume(
    client: httpx.AsyncClient, base_url: str
) -> None:
    owner = await register(client)
    account = uuid.UUID(owner.account_id)
    before = await emit_event(owner.account_id, "testing.order.created", {"n": 0})
    async with unit_of_work() as slow:
        # A transaction writes its event first (the lower seq) but commits last.
        late = emit(
            slow,
            TESTING_TYPES["testing.order.updated"],
            Anything(n=1),
            account_id=account,
            actor=Actor.system(),
        )
        await slow.flush()
        early = await emit_event(owner.account_id, "testing.order.deleted", {"n": 2})
        # A client resumes in that window, takes what it is given, and drops off again.
        token = await stream_token(client, owner)
        async with open_stream(base_url, params={"token": token, "lastEventId": before}) as stream:
            first_visit = await _collect(stream, 0.7)
    # `slow` committed now, and its event was published while the client was away.
    resume_from = first_visit[-1] if first_visit else before
    token = await stream_token(client, owner)
    async with open_stream(base_url, params={"token": token, "lastEventId": resume_from}) as stream:
        second_visit = await _collect(stream, 0.7)
    seen = first_visit + second_visit
    assert sorted(seen) == sorted([late.id, early]), (first_visit, second_visit)


async def test_a_live_stream_waits_for_an_older_transaction_then_gives_both_in_order(
    client: httpx.AsyncClient, base_url: str
) -> None:
    owner = await register(client)
    account = uuid.UUID(owner.account_id)
    token = await stream_token(client, owner)
    async with open_stream(base_url, params={"token": token}) as stream:
        await wait_for_streams(1)
        async with unit_of_work() as slow:
            late = emit(
                slow,
                TESTING_TYPES["testing.order.updated"],
                Anything(n=1),
                account_id=account,
                actor=Actor.system(),
            )
            await slow.flush()
            early = await emit_event(owner.account_id, "testing.order.deleted", {"n": 2})
            # Held back while the older transaction runs: handing it out now could leave a
            # gap behind a client that resumes from it.
            await stream.no_event(wait=0.5)
        assert [(await stream.next_event())["id"] for _ in range(2)] == [late.id, early]
        await stream.no_event()
