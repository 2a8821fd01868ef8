"""The CRM's HTTP surface: one router, one module per area. Routes whose path starts with
`/wa/` (assignments, customer links of chats) live here too: they are the CRM's."""

from __future__ import annotations

from fastapi import APIRouter

from ticaret.crm.router import contacts, customers

router = APIRouter()
for area in (customers, contacts):
    router.include_router(area.router)
