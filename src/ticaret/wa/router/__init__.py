"""The WhatsApp domain's HTTP surface: one router, one module per area.

`sessions` (`/accounts/{accountId}/wa-sessions`), `shares` (share offers made to an account),
`chats`, `contacts`, `messages` (the timeline, message actions, media), `labels`, `operations`
and `receiver` (gateway webhooks and the sandbox injector).
"""

from __future__ import annotations

from fastapi import APIRouter

from ticaret.wa.router import (
    chats,
    contacts,
    labels,
    messages,
    operations,
    receiver,
    sessions,
    shares,
)

router = APIRouter()
for area in (sessions, shares, chats, contacts, messages, labels, operations, receiver):
    router.include_router(area.router)
