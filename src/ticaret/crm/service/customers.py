"""Customers: create, read, search, change, soft-delete; their representatives and teams."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, encode_cursor
from ticaret.core.events import Actor, emit
from ticaret.core.versioning import check_version
from ticaret.crm.errors import CustomerNotFound, InvalidPrimary, field_error
from ticaret.crm.events import (
    CONTACT_DELETED,
    CUSTOMER_CREATED,
    CUSTOMER_DELETED,
    CUSTOMER_UPDATED,
    ContactDeleted,
    CustomerChanged,
    CustomerDeleted,
)
from ticaret.crm.repository import contacts as contacts_repo
from ticaret.crm.repository import customers as repository
from ticaret.crm.repository import identities as identities_repo
from ticaret.crm.repository import inbox_links as inbox_links_repo
from ticaret.crm.repository import members as members_repo
from ticaret.crm.repository.customers import CustomerFilter
from ticaret.crm.schemas.common import CustomerBrief
from ticaret.crm.schemas.customers import (
    CustomerCreate,
    CustomerOut,
    CustomerUpdate,
    RepresentativeOut,
    RepresentativesOut,
    RepresentativesSet,
    TeamOut,
    TeamsOut,
    TeamsSet,
)
from ticaret.crm.service import mappings
from ticaret.crm.service.common import (
    after_score_id,
    changes_between,
    phone_or_422,
    record,
    region,
    search_terms,
)
from ticaret.crm.service.people import require_groups, require_members
from ticaret.crm.service.views import (
    audit_view,
    contact_audit_view,
    customer_brief,
    customer_out,
    customer_outs,
    user_brief,
)
from ticaret.crm.tasks import link_customer_chats
from ticaret.models import (
    AuditAction,
    AuditEntity,
    CrmCustomer,
    CustomerStatus,
    CustomerType,
)

# PATCH fields stored as they come (None clears the nullable ones).
_NULLABLE = ("short_name", "sector", "city", "address", "tax_office", "tax_number", "notes")


async def customer_or_404(
    session: AsyncSession,
    account_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> CrmCustomer:
    customer = await repository.customer(session, account_id, customer_id, for_update=for_update)
    if customer is None:
        raise CustomerNotFound()
    return customer


async def customer_summary(
    session: AsyncSession, account_id: uuid.UUID, customer_id: uuid.UUID
) -> CustomerBrief:
    """For other domains (orders): the live customer's id and names, or 404."""
    return customer_brief(await customer_or_404(session, account_id, customer_id))


async def _phones(session: AsyncSession, account_id: uuid.UUID, raw: list[str]) -> list[str]:
    region_code = await region(session, account_id)
    normalized = [phone_or_422(value, region_code, f"phones.{i}") for i, value in enumerate(raw)]
    return list(dict.fromkeys(normalized))


async def _primaries(session: AsyncSession, customer: CrmCustomer) -> dict[str, Any]:
    reps, teams = await repository.primaries(session, [customer.id])
    rep, team = reps.get(customer.id), teams.get(customer.id)
    return {
        "primaryRepresentativeId": str(rep) if rep else None,
        "primaryTeamId": str(team) if team else None,
    }


def _touch(customer: CrmCustomer) -> None:
    """A change only in a side table still makes a new version of the customer."""
    customer.updated_at = datetime.now(UTC)


# Reads ---------------------------------------------------------------------------------------


async def list_customers(
    session: AsyncSession,
    ctx: AccountContext,
    page: PageParams,
    *,
    q: str | None,
    status: CustomerStatus | None,
    customer_type: CustomerType | None,
    tags: list[str],
    city: str | None,
    representative_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    has_open_tasks: bool | None,
) -> Page[CustomerOut]:
    terms = search_terms(q)
    filters = CustomerFilter(
        tokens=terms.tokens,
        rank_text=terms.rank_text,
        status=status,
        type=customer_type,
        tags=tags,
        city=city,
        representative_id=representative_id,
        team_id=team_id,
        has_open_tasks=has_open_tasks,
    )
    after = after_score_id(page.cursor) if terms.rank_text is not None else page.after_id()
    rows = await repository.customers_page(
        session, ctx.account_id, filters, after=after, limit=page.limit
    )
    more = len(rows) > page.limit
    kept = rows[: page.limit]
    cursor = None
    if more and kept:
        last, score = kept[-1]
        cursor = encode_cursor([last.id] if score is None else [repr(score), last.id])
    outs = await customer_outs(session, ctx.account_id, [row for row, _ in kept])
    return Page[CustomerOut](rows=outs, next_cursor=cursor, has_more=more)


async def get_customer(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID
) -> CustomerOut:
    return await customer_out(session, await customer_or_404(session, ctx.account_id, customer_id))


# Writes --------------------------------------------------------------------------------------


async def _emit_changed(
    session: AsyncSession,
    ctx: AccountContext,
    customer: CrmCustomer,
    changes: dict[str, Any],
) -> CustomerOut:
    out = await customer_out(session, customer)
    record(
        session,
        account_id=ctx.account_id,
        customer_id=customer.id,
        entity=AuditEntity.customer,
        entity_id=customer.id,
        action=AuditAction.updated,
        changes=changes,
        actor=ctx.actor,
    )
    emit(
        session,
        CUSTOMER_UPDATED,
        CustomerChanged(customer=out, changed_fields=sorted(changes)),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    return out


async def create_customer(
    session: AsyncSession, ctx: AccountContext, body: CustomerCreate
) -> CustomerOut:
    phones = await _phones(session, ctx.account_id, body.phones or [])
    if body.primary_representative_id is not None:
        await require_members(
            session, ctx.account_id, [body.primary_representative_id], "primaryRepresentativeId"
        )
    if body.primary_team_id is not None:
        await require_groups(session, ctx.account_id, [body.primary_team_id], "primaryTeamId")
    customer = CrmCustomer(
        account_id=ctx.account_id,
        title=body.title.strip(),
        short_name=body.short_name,
        type=body.type,
        sector=body.sector,
        city=body.city,
        address=body.address,
        tax_office=body.tax_office,
        tax_number=body.tax_number,
        phones=phones,
        emails=[str(e) for e in body.emails or []],
        tags=body.tags or [],
        status=body.status or CustomerStatus.active,
        notes=body.notes,
        custom_fields=body.custom_fields or {},
        created_by_type=ctx.actor.type,
        created_by_id=ctx.actor.id,
    )
    session.add(customer)
    await session.flush()
    if body.primary_representative_id is not None:
        await repository.set_representatives(
            session,
            ctx.account_id,
            customer.id,
            [body.primary_representative_id],
            body.primary_representative_id,
        )
    if body.primary_team_id is not None:
        await repository.set_teams(
            session, ctx.account_id, customer.id, [body.primary_team_id], body.primary_team_id
        )
    out = await customer_out(session, customer)
    record(
        session,
        account_id=ctx.account_id,
        customer_id=customer.id,
        entity=AuditEntity.customer,
        entity_id=customer.id,
        action=AuditAction.created,
        changes=changes_between(
            {},
            {
                k: v
                for k, v in audit_view(customer, await _primaries(session, customer)).items()
                if v
            },
        ),
        actor=ctx.actor,
    )
    emit(
        session,
        CUSTOMER_CREATED,
        CustomerChanged(customer=out, changed_fields=[]),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )
    if phones:
        link_customer_chats.after_commit(session, str(ctx.account_id), str(customer.id))
    return out


async def update_customer(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    body: CustomerUpdate,
    expected_version: str | None,
) -> CustomerOut:
    customer = await customer_or_404(session, ctx.account_id, customer_id, for_update=True)
    check_version(customer, expected_version)
    given = body.model_fields_set
    before = audit_view(customer, await _primaries(session, customer))
    if body.title is not None:
        customer.title = body.title.strip()
    if body.type is not None:
        customer.type = body.type
    if body.status is not None:
        customer.status = body.status
    for name in _NULLABLE:
        if name in given:
            setattr(customer, name, getattr(body, name))
    if body.phones is not None:
        customer.phones = await _phones(session, ctx.account_id, body.phones)
    if body.emails is not None:
        customer.emails = [str(e) for e in body.emails]
    if body.tags is not None:
        customer.tags = body.tags
    if body.custom_fields is not None:
        customer.custom_fields = body.custom_fields
    if "primary_representative_id" in given:
        await _set_primary_representative(session, ctx, customer, body.primary_representative_id)
    if "primary_team_id" in given:
        await _set_primary_team(session, ctx, customer, body.primary_team_id)
    after = audit_view(customer, await _primaries(session, customer))
    changes = changes_between(before, after)
    if not changes:
        return await customer_out(session, customer)
    _touch(customer)
    await session.flush()
    if "phones" in changes and customer.phones:
        link_customer_chats.after_commit(session, str(ctx.account_id), str(customer.id))
    return await _emit_changed(session, ctx, customer, changes)


async def _set_primary_representative(
    session: AsyncSession, ctx: AccountContext, customer: CrmCustomer, user_id: uuid.UUID | None
) -> None:
    current = [
        row.user_id
        for row in await repository.representatives(session, ctx.account_id, customer.id)
    ]
    if user_id is not None:
        await require_members(session, ctx.account_id, [user_id], "primaryRepresentativeId")
        if user_id not in current:
            current.append(user_id)
    await repository.set_representatives(session, ctx.account_id, customer.id, current, user_id)


async def _set_primary_team(
    session: AsyncSession, ctx: AccountContext, customer: CrmCustomer, group_id: uuid.UUID | None
) -> None:
    current = [
        team.group_id for team, _ in await repository.teams(session, ctx.account_id, customer.id)
    ]
    if group_id is not None:
        await require_groups(session, ctx.account_id, [group_id], "primaryTeamId")
        if group_id not in current:
            current.append(group_id)
    await repository.set_teams(session, ctx.account_id, customer.id, current, group_id)


async def delete_customer(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID
) -> None:
    """Soft delete: gone from lists and links (its contacts, identities and inbox links go
    too); its tasks, notes and comments stay in the database."""
    customer = await customer_or_404(session, ctx.account_id, customer_id, for_update=True)
    now = datetime.now(UTC)
    for contact in await contacts_repo.live_contacts_of(session, ctx.account_id, customer.id):
        contact.deleted_at = now
        record(
            session,
            account_id=ctx.account_id,
            customer_id=customer.id,
            entity=AuditEntity.contact,
            entity_id=contact.id,
            action=AuditAction.deleted,
            changes=changes_between(contact_audit_view(contact), {}),
            actor=ctx.actor,
        )
        emit(
            session,
            CONTACT_DELETED,
            ContactDeleted(
                contact_id=contact.id, customer_id=customer.id, display_name=contact.display_name
            ),
            account_id=ctx.account_id,
            actor=ctx.actor,
        )
    for identity in await identities_repo.identities_of(
        session, ctx.account_id, customer_id=customer.id
    ):
        await mappings.unlink(session, identity, ctx.actor)
    for link in await inbox_links_repo.links_of_customer(
        session, ctx.account_id, customer.id, for_update=True
    ):
        await unlink_inbox(session, ctx.actor, link.channel, link.source_id, link, customer.id)
    customer.deleted_at = now
    await session.flush()
    record(
        session,
        account_id=ctx.account_id,
        customer_id=customer.id,
        entity=AuditEntity.customer,
        entity_id=customer.id,
        action=AuditAction.deleted,
        changes={"deletedAt": {"before": None, "after": now.isoformat()}},
        actor=ctx.actor,
    )
    emit(
        session,
        CUSTOMER_DELETED,
        CustomerDeleted(customer_id=customer.id, title=customer.title),
        account_id=ctx.account_id,
        actor=ctx.actor,
    )


async def unlink_inbox(
    session: AsyncSession,
    actor: Actor,
    channel: str,
    source_id: str,
    link: Any,
    customer_id: uuid.UUID,
) -> None:
    record(
        session,
        account_id=link.account_id,
        customer_id=customer_id,
        entity=AuditEntity.inbox_link,
        entity_id=link.id,
        action=AuditAction.deleted,
        changes={
            "channel": {"before": channel, "after": None},
            "sourceId": {"before": source_id, "after": None},
        },
        actor=actor,
    )
    await inbox_links_repo.delete_link(session, link)
    await session.flush()


# Representatives and teams -------------------------------------------------------------------


async def get_representatives(
    session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID
) -> RepresentativesOut:
    customer = await customer_or_404(session, ctx.account_id, customer_id)
    return await _representatives_out(session, ctx, customer)


async def _representatives_out(
    session: AsyncSession, ctx: AccountContext, customer: CrmCustomer
) -> RepresentativesOut:
    rows = await repository.representatives(session, ctx.account_id, customer.id)
    users = await members_repo.members(session, ctx.account_id, [r.user_id for r in rows])
    kept = [r for r in rows if r.user_id in users]
    return RepresentativesOut(
        customer_id=customer.id,
        primary_user_id=next((r.user_id for r in kept if r.is_primary), None),
        rows=[
            RepresentativeOut(
                user=user_brief(users[r.user_id]), is_primary=r.is_primary, added_at=r.created_at
            )
            for r in kept
        ],
        entity_version=customer.entity_version,
    )


def _primary_of(ids: list[uuid.UUID], primary: uuid.UUID | None, path: str) -> uuid.UUID | None:
    if primary is None:
        return ids[0] if ids else None
    if primary not in ids:
        raise InvalidPrimary(details=field_error(path, "must be one of the list"))
    return primary


async def set_representatives(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    body: RepresentativesSet,
    expected_version: str | None,
) -> RepresentativesOut:
    customer = await customer_or_404(session, ctx.account_id, customer_id, for_update=True)
    check_version(customer, expected_version)
    primary = _primary_of(body.user_ids, body.primary_user_id, "primaryUserId")
    await require_members(session, ctx.account_id, body.user_ids, "userIds")
    before_ids = [
        str(r.user_id)
        for r in await repository.representatives(session, ctx.account_id, customer.id)
    ]
    before = {"representativeIds": sorted(before_ids), **await _primaries(session, customer)}
    await repository.set_representatives(
        session, ctx.account_id, customer.id, body.user_ids, primary
    )
    after = {
        "representativeIds": sorted(str(u) for u in body.user_ids),
        **await _primaries(session, customer),
    }
    changes = changes_between(before, after)
    if changes:
        _touch(customer)
        await session.flush()
        await _emit_changed(session, ctx, customer, changes)
    return await _representatives_out(session, ctx, customer)


async def get_teams(session: AsyncSession, ctx: AccountContext, customer_id: uuid.UUID) -> TeamsOut:
    customer = await customer_or_404(session, ctx.account_id, customer_id)
    return await _teams_out(session, ctx, customer)


async def _teams_out(session: AsyncSession, ctx: AccountContext, customer: CrmCustomer) -> TeamsOut:
    rows = await repository.teams(session, ctx.account_id, customer.id)
    return TeamsOut(
        customer_id=customer.id,
        primary_group_id=next((team.group_id for team, _ in rows if team.is_primary), None),
        rows=[
            TeamOut(
                group_id=group.id,
                name=group.name,
                is_primary=team.is_primary,
                added_at=team.created_at,
            )
            for team, group in rows
        ],
        entity_version=customer.entity_version,
    )


async def set_teams(
    session: AsyncSession,
    ctx: AccountContext,
    customer_id: uuid.UUID,
    body: TeamsSet,
    expected_version: str | None,
) -> TeamsOut:
    customer = await customer_or_404(session, ctx.account_id, customer_id, for_update=True)
    check_version(customer, expected_version)
    primary = _primary_of(body.group_ids, body.primary_group_id, "primaryGroupId")
    await require_groups(session, ctx.account_id, body.group_ids, "groupIds")
    before_ids = [
        str(t.group_id) for t, _ in await repository.teams(session, ctx.account_id, customer.id)
    ]
    before = {"teamIds": sorted(before_ids), **await _primaries(session, customer)}
    await repository.set_teams(session, ctx.account_id, customer.id, body.group_ids, primary)
    after = {
        "teamIds": sorted(str(g) for g in body.group_ids),
        **await _primaries(session, customer),
    }
    changes = changes_between(before, after)
    if changes:
        _touch(customer)
        await session.flush()
        await _emit_changed(session, ctx, customer, changes)
    return await _teams_out(session, ctx, customer)
