"""The CRM's HTTP surface: one router, one module per area. Routes whose path starts with
`/wa/` (a chat's assignment and customer link) live here too: they are the CRM's."""

from __future__ import annotations

from fastapi import APIRouter

from ticaret.crm.router import (
    assignments,
    audit,
    comments,
    contacts,
    customers,
    groups,
    identities,
    inbox_links,
    notes,
    tasks,
    timeline,
)

router = APIRouter()
# `/crm/inbox-links/sources` before `/crm/inbox-links/{channel}/{sourceId}`: no clash, but
# order kept readable; identities' fixed `/crm/identities/unmatched` has no parameter rival.
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
):
    router.include_router(area.router)
