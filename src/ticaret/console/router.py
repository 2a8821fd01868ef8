"""The live console: its page, short-lived stream tokens and the server-sent event stream."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from sse_starlette import EventSourceResponse

from ticaret.console import repository
from ticaret.console.broker import get_broker
from ticaret.console.errors import InvalidAccountHeader, InvalidStreamToken
from ticaret.console.stream import StreamFilter, account_events
from ticaret.core.auth import account_from
from ticaret.core.db import unit_of_work
from ticaret.core.deps import Viewer
from ticaret.core.envelope import Envelope, ResponseModel, ok
from ticaret.core.openapi import error_responses
from ticaret.core.security import decode_scoped_token, issue_scoped_token
from ticaret.settings import get_settings

router = APIRouter(prefix="/console", tags=["Console"])

STREAM_TOKEN_TYPE = "console_stream"  # noqa: S105 - a token type name
STREAM_TOKEN_TTL_SECONDS = 60
HEARTBEAT_SECONDS = 15
# A client that accepts nothing for this long is dropped (it resumes with Last-Event-ID).
SEND_TIMEOUT_SECONDS = 30

PAGE = Path(__file__).with_name("page.html")


class StreamTokenOut(ResponseModel):
    token: str
    expires_in: int
    account_id: uuid.UUID


def _inline_hashes(html: str, tag: str) -> str:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    )


@cache
def _page() -> tuple[str, str]:
    html = PAGE.read_text(encoding="utf-8")
    # Only this page's own inline script and style may run: hashes, not 'unsafe-inline'.
    policy = (
        "default-src 'none'; "
        f"script-src {_inline_hashes(html, 'script')}; "
        f"style-src {_inline_hashes(html, 'style')}; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    return html, policy


@router.get(
    "",
    summary="Live event console (HTML page)",
    description="Canli izleme paneli. A self-contained page (works offline): paste an access "
    "token or API key once and watch the account's events arrive.",
    response_class=HTMLResponse,
)
async def console_page() -> HTMLResponse:
    html, policy = _page()
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/token",
    summary="Issue a 60-second token that can only open the event stream",
    description="EventSource cannot send headers, so the page puts this token in `?token=` "
    "instead of a credential. It can only open `/console/events` of this account, within 60 s; "
    "a stream it opened is not cut when it expires.",
    response_model=Envelope[StreamTokenOut],
    responses=error_responses(400, 401, 403),
)
async def issue_stream_token(ctx: Viewer) -> Envelope[StreamTokenOut]:
    principal = ctx.principal
    if principal.api_account is not None:
        subject = {"sub": str(principal.api_account.id), "pty": "api_account"}
    else:
        assert principal.user is not None
        subject = {
            "sub": str(principal.user.id),
            "pty": "user",
            "ver": str(principal.user.token_version),
        }
    token = issue_scoped_token(
        get_settings(),
        {**subject, "acc": str(ctx.account_id)},
        STREAM_TOKEN_TTL_SECONDS,
        STREAM_TOKEN_TYPE,
    )
    return ok(
        StreamTokenOut(token=token, expires_in=STREAM_TOKEN_TTL_SECONDS, account_id=ctx.account_id)
    )


async def _account_from_stream_token(token: str) -> uuid.UUID:
    claims = decode_scoped_token(get_settings(), token, STREAM_TOKEN_TYPE)
    if claims is None:
        raise InvalidStreamToken()
    try:
        account_id = uuid.UUID(str(claims["acc"]))
        subject_id = uuid.UUID(str(claims["sub"]))
    except (KeyError, ValueError) as exc:
        raise InvalidStreamToken() from exc
    # Still allowed? A revoked key or a removed member loses access at the next (re)connect.
    async with unit_of_work() as session:
        if claims.get("pty") == "api_account":
            api_account = await repository.api_account(session, subject_id)
            allowed = (
                api_account is not None
                and api_account.revoked_at is None
                and api_account.account_id == account_id
            )
        else:
            user = await repository.user(session, subject_id)
            role = await repository.member_role(session, account_id, subject_id)
            allowed = (
                user is not None
                and str(user.token_version) == str(claims.get("ver"))
                and role is not None
            )
    if not allowed:
        raise InvalidStreamToken()
    return account_id


def _account_header(request: Request) -> uuid.UUID | None:
    value = request.headers.get("x-account-id")
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidAccountHeader() from exc


async def _account_from_headers(request: Request) -> uuid.UUID:
    """curl and server clients may skip the token and send their usual credentials."""
    return (await account_from(request)).account_id


@router.get(
    "/events",
    summary="Live server-sent event stream of the account's events",
    description="Canli SSE event stream. `text/event-stream`: `id:` is the event id, `event:` its "
    "type, `data:` the event JSON; a `: ping` comment every 15 s. Authenticate with "
    "`?token=` from `POST /console/token` (or the usual headers). `Last-Event-ID` (header) or "
    "`lastEventId` (query, wins) replays up to the last 1,000 missed events of the account "
    "from the outbox, then the stream goes live with no gap and no duplicate; an unknown id "
    "replays nothing and starts from now. Filters: `types` (comma-separated type prefixes, "
    "`wa.*` = `wa.`) and `providerSessionId`.",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The event stream"},
        **error_responses(400, 401, 403, 422),
    },
)
async def stream_events(
    request: Request,
    token: Annotated[str | None, Query(max_length=2000)] = None,
    types: Annotated[str | None, Query(max_length=2000)] = None,
    provider_session_id: Annotated[
        str | None, Query(alias="providerSessionId", max_length=100)
    ] = None,
    last_event_id_query: Annotated[str | None, Query(alias="lastEventId", max_length=40)] = None,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=40)
    ] = None,
) -> EventSourceResponse:
    if token:
        account_id = await _account_from_stream_token(token)
    else:
        account_id = await _account_from_headers(request)
    events = account_events(
        get_broker(),
        account_id,
        last_event_id=last_event_id_query or last_event_id_header,
        stream_filter=StreamFilter.parse(types, provider_session_id),
    )
    return EventSourceResponse(
        events,
        ping=HEARTBEAT_SECONDS,
        send_timeout=SEND_TIMEOUT_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
