"""WhatTalk's shapes, field for field: snake_case keys in WhatTalk's order, Laravel's paginator
around the list, `YYYY-MM-DD HH:MM:SS` dates (UTC), costs as JSON numbers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConversationItem(_Shape):
    id: str
    assistant_id: str | None
    assistant_name: str | None
    type: str
    message_count: int
    total_cost: float
    ai_enabled: bool
    created_at: str
    updated_at: str


class PageLink(_Shape):
    url: str | None
    label: str
    active: bool


class ConversationPage(_Shape):
    """Laravel's LengthAwarePaginator, as `->paginate()` serializes it."""

    current_page: int
    data: list[ConversationItem]
    first_page_url: str
    # `from` is a Python keyword; the wire key is WhatTalk's.
    from_: int | None = Field(alias="from")
    last_page: int
    last_page_url: str
    links: list[PageLink]
    next_page_url: str | None
    path: str
    per_page: int
    prev_page_url: str | None
    to: int | None
    total: int

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FunctionCallShape(_Shape):
    name: str
    arguments: Any
    result: Any


class HistoryItem(_Shape):
    role: str
    content: str
    function_calls: list[FunctionCallShape] | None = None


class HistoryBody(_Shape):
    status: bool
    history: list[HistoryItem]


class ErrorBody(_Shape):
    status: bool
    error: str
