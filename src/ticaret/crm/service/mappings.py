"""Identity rows written with their audit entry and event: the one place that does it, for
the mapping routes, chat links, automatic links, contact moves and customer deletion."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.events import Actor, emit
from ticaret.crm.events import (
    IDENTITY_LINKED,
    IDENTITY_UNLINKED,
    IdentityLinked,
    IdentityUnlinked,
)
from ticaret.crm.repository import identities as repository
from ticaret.crm.service.common import changes_between, record
from ticaret.crm.service.views import mapping_audit_view, mapping_out
from ticaret.models import AuditAction, AuditEntity, CrmIdentity, IdentitySource


async def link(
    session: AsyncSession,
    account_id: uuid.UUID,
    actor: Actor,
    *,
    channel: str,
    scope: str,
    value: str,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
    source: IdentitySource,
    display_name: str | None = None,
) -> CrmIdentity:
    identity = CrmIdentity(
        account_id=account_id,
        channel=channel,
        scope=scope,
        value=value,
        customer_id=customer_id,
        contact_id=contact_id,
        source=source,
        display_name=display_name,
        created_by_type=actor.type,
        created_by_id=actor.id,
    )
    session.add(identity)
    await session.flush()
    record(
        session,
        account_id=account_id,
        customer_id=customer_id,
        entity=AuditEntity.mapping,
        entity_id=identity.id,
        action=AuditAction.created,
        changes=changes_between({}, mapping_audit_view(identity)),
        actor=actor,
    )
    emit(
        session,
        IDENTITY_LINKED,
        IdentityLinked(mapping=mapping_out(identity)),
        account_id=account_id,
        actor=actor,
    )
    return identity


async def change(
    session: AsyncSession,
    identity: CrmIdentity,
    actor: Actor,
    *,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
    display_name: str | None,
    source: IdentitySource | None = None,
) -> bool:
    """Point the identity elsewhere (or rename it); False when nothing changed."""
    before = mapping_audit_view(identity)
    previous_customer = identity.customer_id
    identity.customer_id = customer_id
    identity.contact_id = contact_id
    identity.display_name = display_name
    if source is not None:
        identity.source = source
    changes = changes_between(before, mapping_audit_view(identity))
    if not changes:
        return False
    await session.flush()
    moved = previous_customer != customer_id
    for audited_customer in {previous_customer, customer_id}:
        record(
            session,
            account_id=identity.account_id,
            customer_id=audited_customer,
            entity=AuditEntity.mapping,
            entity_id=identity.id,
            action=AuditAction.updated,
            changes=changes,
            actor=actor,
        )
    if moved or "contactId" in changes:
        emit(
            session,
            IDENTITY_LINKED,
            IdentityLinked(
                mapping=mapping_out(identity),
                previous_customer_id=previous_customer if moved else None,
            ),
            account_id=identity.account_id,
            actor=actor,
        )
    return True


async def unlink(session: AsyncSession, identity: CrmIdentity, actor: Actor) -> None:
    record(
        session,
        account_id=identity.account_id,
        customer_id=identity.customer_id,
        entity=AuditEntity.mapping,
        entity_id=identity.id,
        action=AuditAction.deleted,
        changes=changes_between(mapping_audit_view(identity), {}),
        actor=actor,
    )
    emit(
        session,
        IDENTITY_UNLINKED,
        IdentityUnlinked(
            mapping_id=identity.id,
            channel=identity.channel,
            scope=identity.scope,
            value=identity.value,
            customer_id=identity.customer_id,
            contact_id=identity.contact_id,
        ),
        account_id=identity.account_id,
        actor=actor,
    )
    await repository.delete_identity(session, identity)
    await session.flush()
