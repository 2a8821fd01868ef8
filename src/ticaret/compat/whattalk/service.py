"""WhatTalk's list and history over our conversations.

The list is Laravel's `->paginate()`: pages by number (`page`, `per_page` 1-100, default 15),
newest conversation first, and the paginator's `links` window exactly as Laravel draws it
(3 pages on each side of the current one, `...` between the windows).
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.compat.whattalk.schemas import (
    ConversationItem,
    ConversationPage,
    FunctionCallShape,
    HistoryBody,
    HistoryItem,
    PageLink,
)
from ticaret.conversations.repository import conversations as conversation_repository
from ticaret.conversations.service import messages as message_service
from ticaret.conversations.service.agents import agent_names
from ticaret.conversations.service.conversations import day_range
from ticaret.models import Conversation, ConversationMessage, MessageRole

ON_EACH_SIDE = 3
PREVIOUS_LABEL = "« Previous"
NEXT_LABEL = "Next »"


def laravel_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def cost_number(value: Decimal) -> float:
    # WhatTalk's `total_cost` is a JSON number; costs are kept to 8 decimal places, which a
    # double's shortest form writes back exactly (0.0045 stays 0.0045).
    return float(value)


def _range(url: str, start: int, end: int) -> dict[int, str]:
    return {page: f"{url}?page={page}" for page in range(start, end + 1)}


def _window(url: str, current: int, last: int) -> list[dict[int, str] | str]:
    """Laravel's UrlWindow: the page ranges of `links`, `...` between them."""
    if last < ON_EACH_SIDE * 2 + 8:
        return [_range(url, 1, last)]
    window = ON_EACH_SIDE + 4
    start, finish = _range(url, 1, 2), _range(url, last - 1, last)
    if current <= window:
        return [_range(url, 1, window + ON_EACH_SIDE), "...", finish]
    if current > last - window:
        return [start, "...", _range(url, last - (window + (ON_EACH_SIDE - 1)), last)]
    slider = _range(url, current - ON_EACH_SIDE, current + ON_EACH_SIDE)
    return [start, "...", slider, "...", finish]


def links(url: str, current: int, last: int) -> list[PageLink]:
    previous = f"{url}?page={current - 1}" if current > 1 else None
    following = f"{url}?page={current + 1}" if current < last else None
    out = [PageLink(url=previous, label=PREVIOUS_LABEL, active=False)]
    for element in _window(url, current, last):
        if isinstance(element, str):
            out.append(PageLink(url=None, label=element, active=False))
            continue
        out.extend(
            PageLink(url=link, label=str(page), active=page == current)
            for page, link in element.items()
        )
    out.append(PageLink(url=following, label=NEXT_LABEL, active=False))
    return out


async def conversation_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    url: str,
    page: int,
    per_page: int,
    conversation_type: str | None,
    assistant_id: uuid.UUID | None,
    date_from: date | None,
    date_to: date | None,
) -> ConversationPage:
    start, end = day_range(date_from, date_to)
    query = conversation_repository.filtered(
        account_id,
        type_=conversation_type,
        agent_id=assistant_id,
        created_from=start,
        created_before=end,
    )
    total = await conversation_repository.count(session, query)
    rows = await conversation_repository.page_by_offset(
        session, query, offset=(page - 1) * per_page, limit=per_page
    )
    last = max(math.ceil(total / per_page), 1)
    names = await agent_names(session, account_id, {r.agent_id for r in rows if r.agent_id})
    first_item = (page - 1) * per_page + 1 if rows else None
    return ConversationPage(
        current_page=page,
        data=[_item(row, names) for row in rows],
        first_page_url=f"{url}?page=1",
        from_=first_item,
        last_page=last,
        last_page_url=f"{url}?page={last}",
        links=links(url, page, last),
        next_page_url=f"{url}?page={page + 1}" if page < last else None,
        path=url,
        per_page=per_page,
        prev_page_url=f"{url}?page={page - 1}" if page > 1 else None,
        to=first_item + len(rows) - 1 if first_item is not None else None,
        total=total,
    )


def _item(row: Conversation, names: dict[uuid.UUID, str]) -> ConversationItem:
    return ConversationItem(
        id=str(row.id),
        assistant_id=str(row.agent_id) if row.agent_id else None,
        assistant_name=names.get(row.agent_id) if row.agent_id else None,
        type=row.type,
        message_count=row.message_count,
        total_cost=cost_number(row.total_cost),
        ai_enabled=row.ai_enabled,
        created_at=laravel_datetime(row.created_at),
        updated_at=laravel_datetime(row.updated_at),
    )


async def history(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID
) -> HistoryBody:
    rows = await message_service.history(session, account_id, conversation_id)
    return HistoryBody(status=True, history=[_history_item(row) for row in rows])


def _history_item(row: ConversationMessage) -> HistoryItem:
    # WhatTalk knows two speakers: a person of the workspace speaks for it as the assistant.
    role = MessageRole.user if row.role == MessageRole.user else MessageRole.assistant
    return HistoryItem(
        role=role,
        content=row.text or "",
        function_calls=[FunctionCallShape.model_validate(call) for call in row.function_calls]
        if row.function_calls
        else None,
    )
