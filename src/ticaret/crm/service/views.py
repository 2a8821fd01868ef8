"""Rows to response and event shapes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core import phones
from ticaret.core.envelope import from_row
from ticaret.crm.repository import customers as customers_repo
from ticaret.crm.schemas.common import ContactBrief, CustomerBrief, UserBrief
from ticaret.crm.schemas.contacts import ContactOut
from ticaret.crm.schemas.customers import CustomerOut
from ticaret.crm.schemas.identities import MappingOut
from ticaret.crm.service.common import actor_out
from ticaret.models import (
    CrmContact,
    CrmCustomer,
    CrmIdentity,
    IdentityChannel,
    User,
)


async def customer_outs(
    session: AsyncSession, account_id: uuid.UUID, customers: Sequence[CrmCustomer]
) -> list[CustomerOut]:
    ids = [c.id for c in customers]
    reps, teams = await customers_repo.primaries(session, ids)
    counts = await customers_repo.open_task_counts(session, account_id, ids)
    return [
        from_row(
            CustomerOut,
            c,
            primary_representative_id=reps.get(c.id),
            primary_team_id=teams.get(c.id),
            open_task_count=counts.get(c.id, 0),
            created_by=actor_out(c.created_by_type, c.created_by_id),
        )
        for c in customers
    ]


async def customer_out(session: AsyncSession, customer: CrmCustomer) -> CustomerOut:
    return (await customer_outs(session, customer.account_id, [customer]))[0]


def customer_brief(customer: CrmCustomer) -> CustomerBrief:
    return CustomerBrief.model_validate(customer)


def contact_brief(contact: CrmContact) -> ContactBrief:
    return ContactBrief.model_validate(contact)


def contact_out(contact: CrmContact) -> ContactOut:
    return from_row(
        ContactOut, contact, created_by=actor_out(contact.created_by_type, contact.created_by_id)
    )


def mapping_out(identity: CrmIdentity) -> MappingOut:
    phone = (
        phones.phone_of_jid(identity.value)
        if identity.channel == IdentityChannel.whatsapp
        else None
    )
    return from_row(
        MappingOut,
        identity,
        phone=phone,
        created_by=actor_out(identity.created_by_type, identity.created_by_id),
    )


def user_brief(user: User) -> UserBrief:
    return UserBrief.model_validate(user)


def audit_view(customer: CrmCustomer, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The audited fields of a customer, as the API names them."""
    return {
        "title": customer.title,
        "shortName": customer.short_name,
        "type": customer.type,
        "sector": customer.sector,
        "city": customer.city,
        "address": customer.address,
        "taxOffice": customer.tax_office,
        "taxNumber": customer.tax_number,
        "phones": list(customer.phones),
        "emails": list(customer.emails),
        "tags": list(customer.tags),
        "status": customer.status,
        "notes": customer.notes,
        "customFields": dict(customer.custom_fields),
        **(extra or {}),
    }


def contact_audit_view(contact: CrmContact) -> dict[str, Any]:
    return {
        "customerId": str(contact.customer_id),
        "displayName": contact.display_name,
        "phone": contact.phone,
        "email": contact.email,
        "title": contact.title,
        "status": contact.status,
        "notes": contact.notes,
    }


def mapping_audit_view(identity: CrmIdentity) -> dict[str, Any]:
    return {
        "channel": identity.channel,
        "scope": identity.scope,
        "value": identity.value,
        "customerId": str(identity.customer_id),
        "contactId": str(identity.contact_id) if identity.contact_id else None,
        "displayName": identity.display_name,
        "source": identity.source,
    }
