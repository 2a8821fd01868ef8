"""Who the customer of a send or a new conversation is: a CRM customer named by id, or one
found by the integrator's `externalId`, then e-mail, then phone, and created when none
matches. The `externalId` becomes an `external` identity of the customer, so the next send
naming it finds the same customer without a lookup by address."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.conversations.schemas.messages import CustomerInput
from ticaret.core.auth import AccountContext
from ticaret.crm.repository import identities as identities_repo
from ticaret.crm.schemas.customers import CustomerCreate
from ticaret.crm.service import customers as crm_customers
from ticaret.crm.service import identities as crm_identities
from ticaret.crm.service.identities import IdentityMatch
from ticaret.models import CustomerType, IdentityChannel

# The system an `externalId` belongs to: the conversations API's integrators, one namespace
# per account.
EXTERNAL_SCOPE = "conversations"


async def resolve_customer(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID | None,
    customer: CustomerInput | None,
) -> IdentityMatch | None:
    if customer is not None and customer.id is not None and customer_id is None:
        customer_id = customer.id
    if customer_id is not None:
        found = await crm_customers.customer_or_404(session, ctx.account_id, customer_id)
        if customer is not None and customer.external_id:
            return await _link_external(session, ctx, customer, found.id, None)
        return IdentityMatch(found.id, None, None)
    if customer is None:
        return None
    return await upsert_customer(session, ctx, customer)


async def upsert_customer(
    session: AsyncSession, ctx: AccountContext, customer: CustomerInput
) -> IdentityMatch:
    external_id = customer.external_id.strip() if customer.external_id else None
    if external_id:
        # Two sends naming a new externalId at once create one customer, not two.
        await identities_repo.lock_person(session, ctx.account_id, f"external:{external_id}")
        match = await crm_identities.find_customer_by_identity(
            session, ctx.account_id, IdentityChannel.external, external_id, scope=EXTERNAL_SCOPE
        )
        if match is not None:
            return match
    match = await _by_address(session, ctx, customer)
    if match is None:
        created = await crm_customers.create_customer(session, ctx, _new_customer(customer))
        match = IdentityMatch(created.id, None, None)
    if external_id:
        return await _link_external(session, ctx, customer, match.customer_id, match.contact_id)
    return match


async def _by_address(
    session: AsyncSession, ctx: AccountContext, customer: CustomerInput
) -> IdentityMatch | None:
    if customer.email:
        found = await crm_identities.find_customers_by_email(
            session, ctx.account_id, str(customer.email)
        )
        if found:
            return found[0]
    if customer.phone:
        found = await crm_identities.find_customers_by_phone(
            session, ctx.account_id, customer.phone
        )
        if found:
            return found[0]
    return None


def _new_customer(customer: CustomerInput) -> CustomerCreate:
    title = (
        customer.name
        or (str(customer.email) if customer.email else None)
        or customer.phone
        or customer.external_id
        or "Customer"
    )
    extra: dict[str, object] = dict(customer.metadata or {})
    if customer.image:
        extra["image"] = customer.image
    return CustomerCreate(
        title=title.strip()[:300] or "Customer",
        type=CustomerType.person,
        phones=[customer.phone] if customer.phone else None,
        emails=[customer.email] if customer.email else None,
        custom_fields=extra or None,
    )


async def _link_external(
    session: AsyncSession,
    ctx: AccountContext,
    customer: CustomerInput,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID | None,
) -> IdentityMatch:
    assert customer.external_id is not None
    return await crm_identities.link_identity(
        session,
        ctx.account_id,
        IdentityChannel.external,
        customer.external_id.strip(),
        customer_id=customer_id,
        contact_id=contact_id,
        scope=EXTERNAL_SCOPE,
        display_name=customer.name,
        actor=ctx.actor,
    )
