"""`/compat/whattalk`: WhatTalk's conversation list and history, so a WhatTalk client works
by changing only its base URL. Errors answer in WhatTalk's shape (`{status: false, error}`),
not in Ticaret's envelope."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ticaret.compat.whattalk import service
from ticaret.compat.whattalk.schemas import ConversationPage, ErrorBody, HistoryBody
from ticaret.conversations.errors import ConversationNotFound
from ticaret.core.auth import AccountContext, api_account_context
from ticaret.core.db import DbSession
from ticaret.core.errors import Unauthorized
from ticaret.models import ConversationType
from ticaret.settings import get_settings

whattalk_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="WhatTalkBearer",
    description="WhatTalk's API key: an API account's key and secret joined by a colon, "
    "`Authorization: Bearer <apiKey>:<apiSecret>` (create one with "
    "POST /accounts/{accountId}/api-accounts). Only the `/compat/whattalk` routes take it.",
)

router = APIRouter(prefix="/compat/whattalk", tags=["WhatTalk compatible"])

LIST_PATH = "/compat/whattalk/user/conversations"
NOT_FOUND = "Conversation not found"
UNAUTHENTICATED = "Unauthenticated."
DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No API key, or a wrong one"},
    422: {"model": ErrorBody, "description": "A query parameter is not valid"},
}


def _error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"status": False, "error": message}, status_code=code)


async def whattalk_account(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(whattalk_bearer)],
) -> AccountContext | None:
    """The API account named by the Bearer token, or None (the route answers 401)."""
    if credentials is None or ":" not in credentials.credentials:
        return None
    key, _, secret = credentials.credentials.partition(":")
    if not key or not secret:
        return None
    try:
        return await api_account_context(key, secret)
    except Unauthorized:
        return None


WhatTalkAccount = Annotated[AccountContext | None, Depends(whattalk_account)]


def _whole(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@router.get(
    "/user/conversations",
    summary="WhatTalk: the conversations, newest first (Laravel paginator)",
    description="WhatTalk'un `GET /user/conversations` uç noktası: `type`, `assistant_id`, "
    "`date_from` / `date_to` (YYYY-MM-DD, whole UTC days), `per_page` (1-100, default 15), "
    "`page`. Answers Laravel's paginator (`current_page`, `data`, `links`, ...) exactly.",
    response_model=ConversationPage,
    responses=_ERRORS,
)
async def list_conversations(
    ctx: WhatTalkAccount,
    session: DbSession,
    conversation_type: Annotated[str | None, Query(alias="type")] = None,
    assistant_id: Annotated[str | None, Query()] = None,
    date_from: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    per_page: Annotated[str | None, Query(description="1-100, default 15")] = None,
    page: Annotated[str | None, Query(description="From 1, default 1")] = None,
) -> JSONResponse:
    if ctx is None:
        return _error(status.HTTP_401_UNAUTHORIZED, UNAUTHENTICATED)
    size = _whole(per_page, DEFAULT_PER_PAGE)
    if size is None or not 1 <= size <= MAX_PER_PAGE:
        return _error(422, "The per page field must be between 1 and 100.")
    if conversation_type and conversation_type not in set(ConversationType):
        return _error(422, "The selected type is invalid.")
    agent_id: uuid.UUID | None = None
    if assistant_id:
        try:
            agent_id = uuid.UUID(assistant_id)
        except ValueError:
            return _error(422, "The selected assistant id is invalid.")
    try:
        day_from, day_to = _day(date_from), _day(date_to)
    except ValueError:
        return _error(422, "The date must be a valid date in the format YYYY-MM-DD.")
    # Laravel reads a page that is not a whole number from 1 up as the first one.
    number = _whole(page, 1)
    number = number if number is not None and number >= 1 else 1
    body = await service.conversation_page(
        session,
        ctx.account_id,
        url=get_settings().public_base_url.rstrip("/") + LIST_PATH,
        page=number,
        per_page=size,
        conversation_type=conversation_type or None,
        assistant_id=agent_id,
        date_from=day_from,
        date_to=day_to,
    )
    return JSONResponse(body.model_dump(by_alias=True))


@router.get(
    "/conversations/{uuid}",
    summary="WhatTalk: a conversation's history, oldest first",
    description="WhatTalk'un `GET /conversations/{uuid}` uç noktası: `{status, history: "
    "[{role, content, function_calls?}]}`; an unknown id (or another account's) answers "
    '`{"status": false, "error": "Conversation not found"}` with 404.',
    response_model=HistoryBody,
    response_model_exclude_none=True,
    responses={**_ERRORS, 404: {"model": ErrorBody, "description": NOT_FOUND}},
)
async def conversation_history(
    conversation_id: Annotated[str, Path(alias="uuid", max_length=100)],
    ctx: WhatTalkAccount,
    session: DbSession,
) -> JSONResponse:
    if ctx is None:
        return _error(status.HTTP_401_UNAUTHORIZED, UNAUTHENTICATED)
    try:
        parsed = uuid.UUID(conversation_id)
    except ValueError:
        return _error(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    try:
        body = await service.history(session, ctx.account_id, parsed)
    except ConversationNotFound:
        return _error(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    # `function_calls` is absent, not null, on a message that made none (a call's own null
    # `result` stays).
    history = [
        item.model_dump(exclude={"function_calls"} if item.function_calls is None else None)
        for item in body.history
    ]
    return JSONResponse({"status": body.status, "history": history})
