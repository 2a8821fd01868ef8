"""What several CRM services share: cursors, actors, phones read in the account's region."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core import phones
from ticaret.core.envelope import decode_cursor
from ticaret.core.errors import InvalidCursor
from ticaret.core.events import Actor
from ticaret.crm.errors import InvalidPhone, field_error
from ticaret.crm.repository import audit as audit_repo
from ticaret.crm.repository import members as members_repo
from ticaret.crm.schemas.common import ActorOut
from ticaret.models import AuditAction, AuditEntity, CrmAuditEntry


def actor_out(actor_type: str, actor_id: str | None) -> ActorOut:
    return ActorOut(type=actor_type, id=actor_id)


def actor_columns(actor: Actor) -> tuple[str, str | None]:
    return actor.type, actor.id


def after_score_id(cursor: str | None) -> tuple[float, uuid.UUID] | None:
    if cursor is None:
        return None
    raw_score, raw_id = decode_cursor(cursor, 2)
    try:
        return float(raw_score), uuid.UUID(raw_id)
    except ValueError as exc:
        raise InvalidCursor() from exc


@dataclass(frozen=True)
class SearchTerms:
    tokens: list[str]  # each must appear
    rank_text: str | None  # what the best match is closest to


def search_terms(q: str | None) -> SearchTerms:
    """A search box's text: words, or a phone number in any format, whole or partial (one
    token of its digits)."""
    if q is None or not q.strip():
        return SearchTerms([], None)
    digits = phones.search_digits(q)
    if digits is not None:
        return SearchTerms([digits], digits)
    tokens = q.split()[:8]
    return SearchTerms(tokens, " ".join(tokens))


async def region(session: AsyncSession, account_id: uuid.UUID) -> str:
    return phones.region_or_default(await members_repo.phone_region(session, account_id))


def phone_or_422(raw: str, region_code: str, path: str) -> str:
    e164 = phones.normalize_phone(raw, region_code)
    if e164 is None:
        raise InvalidPhone(
            f"{raw!r} is not a phone number.", details=field_error(path, "not a phone number")
        )
    return e164


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: {before, after}} for every field whose value differs."""
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    entity: AuditEntity,
    entity_id: uuid.UUID,
    action: AuditAction,
    changes: dict[str, Any],
    actor: Actor,
) -> None:
    audit_repo.add(
        session,
        CrmAuditEntry(
            account_id=account_id,
            customer_id=customer_id,
            entity_type=entity,
            entity_id=entity_id,
            action=action,
            changes=changes,
            actor_type=actor.type,
            actor_id=actor.id,
        ),
    )
