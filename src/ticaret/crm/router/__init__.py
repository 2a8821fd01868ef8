"""The CRM's HTTP surface: one router, one module per area. Routes whose path starts with
`/wa/` (a chat's assignment and customer link), `/meta/` or `/instagram/` (a thread's customer
link) live here too: they are the CRM's."""

from __future__ import annotations

from fastapi import APIRouter

from ticaret.crm.router import (
    assignments,
    audit,
    chats,
    comments,
    contacts,
    customers,
    groups,
    identities,
    inbox_links,
    notes,
    tasks,
    threads,
    timeline,
)

router = APIRouter()
for area in (
    groups,
    customers,
    contacts,
    identities,
    assignments,
    notes,
    comments,
    tasks,
    timeline,
    inbox_links,
    audit,
    chats,
    threads,
):
    router.include_router(area.router)
