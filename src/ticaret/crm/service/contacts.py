"""Contacts: the people under a customer; a contact may move to another customer, and its
identities move with it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, encode_cursor
from ticaret.core.events import emit
from ticaret.core.versioning import check_version
from ticaret.crm.errors import ContactNotFound, ContactOfAnotherCustomer, field_error
from ticaret.crm.events import (
    CONTACT_CREATED,
    CONTACT_DELETED,
    CONTACT_UPDATED,
    ContactChanged,
    ContactDeleted,
)
from ticaret.crm.repository import contacts as repository
from ticaret.crm.repository import identities as identities_repo
from ticaret.crm.repository.contacts import ContactFilter
from ticaret.crm.schemas.common import ContactBrief
from ticaret.crm.schemas.contacts import ContactCreate, ContactOut, ContactUpdate
from ticaret.crm.service import mappings
from ticaret.crm.service.common import (
    after_score_id,
    changes_between,
    phone_or_422,
    record,
    region,
    search_terms,
)
from ticaret.crm.service.customers import customer_or_404
from ticaret.crm.service.views import contact_audit_view, contact_brief, contact_out
from ticaret.crm.tasks import link_customer_chats
from ticaret.models import AuditAction, AuditEntity, ContactStatus, CrmContact

_NULLABLE = ("email", "title", "notes")


async def contact_or_404(
    session: AsyncSession,
    account_id: uuid.UUID,
    contact_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> CrmContact:
    contact = await repository.contact(session, account_id, contact_id, for_update=for_update)
    if contact is None:
        raise ContactNotFound()
    return contact


async def list_contacts(
    session: AsyncSession,
    ctx: AccountContext,
    page: PageParams,
    *,
    q: str | None,
    customer_id: uuid.UUID | None,
    status: ContactStatus | None,
    of_customer: bool = False,
) -> Page[ContactOut]:
    """`of_customer`: the customer's own list (404 for a customer the account lacks)."""
    if of_customer and customer_id is not None:
        await customer_or_404(session, ctx.account_id, customer_id)
    terms = search_terms(q)
    filters = ContactFilter(
        tokens=terms.tokens,
        rank_text=terms.rank_text,
        customer_id=customer_id,
        status=status,
    )
    after = after_score_id(page.cursor) if terms.rank_text is not None else page.after_id()
    rows = await repository.contacts_page(
        session, ctx.account_id, filters, after=after, limit=page.limit
    )
    more = len(rows) > page.limit
    kept = rows[: page.limit]
    cursor = None
    if more and kept:
        last, score = kept[-1]
        cursor = encode_cursor([last.id] if score is None else [repr(score), last.id])
    return Page[ContactOut](
        rows=[contact_out(c) for c, _ in kept], next_cursor=cursor, has_more=more
    )


async def get_contact(
    session: AsyncSession, ctx: AccountContext, contact_id: uuid.UUID
) -> ContactOut:
    return contact_out(await contact_or_404(session, ctx.account_id, contact_id))


async def create_contact(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID, body: ContactCreate
) -> ContactOut:
    customer = await customer_or_404(session, ctx.account_id, customer_id)
    phone = (
        phone_or_422(body.phone, await region(session, ctx.account_id), "phone")
        if body.phone
        else None
    )
    contact = CrmContact(
        account_id=ctx.account_id,
        customer_id=customer.id,
        display_name=body.display_name,
        phone=phone,
        email=str(body.email) if body.email else None,
        title=body.title,
        status=body.status,
        notes=body.notes,
        created_by_type=ctx.actor.type,
        created_by_id=ctx.actor.id,
    )
    session.add(contact)
    await session.flush()
    record(
        session,
        account_id=ctx.account_id,
        customer_id=customer.id,
        entity=AuditEntity.contact,
        entity_id=contact.id,
        action=AuditAction.created,
        changes=changes_between({}, {k: v for k, v in contact_audit_view(contact).items() if v}),
        actor=ctx.actor,
    )
    out = contact_out(contact)
    emit(
        session,
        CONTACT_CREATED,
        ContactChanged(contact=out, changed_fields=[]),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    if phone:
        link_customer_chats.after_commit(session, str(ctx.account_id), str(customer.id))
    return out


async def update_contact(
    session: AsyncSession,
    ctx: AccountContext,
    contact_id: uuid.UUID,
    body: ContactUpdate,
    expected_version: str | None,
) -> ContactOut:
    contact = await contact_or_404(session, ctx.account_id, contact_id, for_update=True)
    check_version(contact, expected_version)
    given = body.model_fields_set
    before = contact_audit_view(contact)
    previous_customer = contact.customer_id
    if body.display_name is not None:
        contact.display_name = body.display_name
    if body.status is not None:
        contact.status = body.status
    if "phone" in given:
        contact.phone = (
            phone_or_422(body.phone, await region(session, ctx.account_id), "phone")
            if body.phone
            else None
        )
    for name in _NULLABLE:
        if name in given:
            value = getattr(body, name)
            setattr(contact, name, str(value) if value is not None else None)
    if body.customer_id is not None and body.customer_id != contact.customer_id:
        target = await customer_or_404(session, ctx.account_id, body.customer_id)
        contact.customer_id = target.id
    changes = changes_between(before, contact_audit_view(contact))
    if not changes:
        return contact_out(contact)
    await session.flush()
    moved = contact.customer_id != previous_customer
    if moved:
        for identity in await identities_repo.identities_of(
            session, ctx.account_id, contact_id=contact.id
        ):
            await mappings.change(
                session,
                identity,
                ctx.actor,
                customer_id=contact.customer_id,
                contact_id=contact.id,
                display_name=identity.display_name,
            )
        for customer_id, action in (
            (previous_customer, AuditAction.moved_out),
            (contact.customer_id, AuditAction.moved_in),
        ):
            record(
                session,
                account_id=ctx.account_id,
                customer_id=customer_id,
                entity=AuditEntity.contact,
                entity_id=contact.id,
                action=action,
                changes=changes,
                actor=ctx.actor,
            )
    else:
        record(
            session,
            account_id=ctx.account_id,
            customer_id=contact.customer_id,
            entity=AuditEntity.contact,
            entity_id=contact.id,
            action=AuditAction.updated,
            changes=changes,
            actor=ctx.actor,
        )
    out = contact_out(contact)
    emit(
        session,
        CONTACT_UPDATED,
        ContactChanged(
            contact=out,
            changed_fields=sorted(changes),
            previous_customer_id=previous_customer if moved else None,
        ),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    if "phone" in changes and contact.phone:
        link_customer_chats.after_commit(session, str(ctx.account_id), str(contact.customer_id))
    return out


async def delete_contact(session: AsyncSession, ctx: AccountContext, contact_id: uuid.UUID) -> None:
    """Soft delete; identities that named the contact stay on its customer."""
    contact = await contact_or_404(session, ctx.account_id, contact_id, for_update=True)
    for identity in await identities_repo.identities_of(
        session, ctx.account_id, contact_id=contact.id
    ):
        await mappings.change(
            session,
            identity,
            ctx.actor,
            customer_id=identity.customer_id,
            contact_id=None,
            display_name=identity.display_name,
        )
    now = datetime.now(UTC)
    record(
        session,
        account_id=ctx.account_id,
        customer_id=contact.customer_id,
        entity=AuditEntity.contact,
        entity_id=contact.id,
        action=AuditAction.deleted,
        changes=changes_between(contact_audit_view(contact), {}),
        actor=ctx.actor,
    )
    contact.deleted_at = now
    await session.flush()
    emit(
        session,
        CONTACT_DELETED,
        ContactDeleted(
            contact_id=contact.id,
            customer_id=contact.customer_id,
            display_name=contact.display_name,
        ),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )


async def contact_summary(
    session: AsyncSession,
    account_id: uuid.UUID,
    contact_id: uuid.UUID,
    customer_id: uuid.UUID | None = None,
) -> ContactBrief:
    """For other domains (orders): the live contact, of `customer_id` when given; 404, or 422
    for a contact of another customer."""
    contact = await contact_or_404(session, account_id, contact_id)
    if customer_id is not None and contact.customer_id != customer_id:
        raise ContactOfAnotherCustomer(
            details=field_error("contactId", "a contact of another customer")
        )
    return contact_brief(contact)
