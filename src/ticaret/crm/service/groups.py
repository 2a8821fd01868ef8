"""CRM groups (teams) and their members. Deleting a group hands its chats and messages back
(unassigned, with history) and drops it from customers' teams."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.envelope import Page, PageParams, build_page, from_row
from ticaret.core.versioning import check_version
from ticaret.crm.errors import GroupNameTaken, GroupNotFound, UserNotFound
from ticaret.crm.repository import groups as repository
from ticaret.crm.repository import members as members_repo
from ticaret.crm.schemas.groups import (
    GroupCreate,
    GroupOut,
    GroupUpdate,
    MemberAdd,
    MemberOut,
    MembersOut,
    MembersSet,
)
from ticaret.crm.service import assignments
from ticaret.crm.service.people import require_members
from ticaret.crm.service.views import user_brief
from ticaret.models import CrmGroup


async def group_or_404(
    session: AsyncSession, account_id: uuid.UUID, group_id: uuid.UUID, *, for_update: bool = False
) -> CrmGroup:
    group = await repository.group(session, account_id, group_id, for_update=for_update)
    if group is None:
        raise GroupNotFound()
    return group


async def _outs(
    session: AsyncSession, account_id: uuid.UUID, groups: list[CrmGroup]
) -> list[GroupOut]:
    counts = await repository.member_counts(session, account_id, [g.id for g in groups])
    return [from_row(GroupOut, g, member_count=counts.get(g.id, 0)) for g in groups]


async def _out(session: AsyncSession, group: CrmGroup) -> GroupOut:
    return (await _outs(session, group.account_id, [group]))[0]


async def _name_free(
    session: AsyncSession, account_id: uuid.UUID, name: str, group_id: uuid.UUID | None = None
) -> None:
    existing = await repository.group_named(session, account_id, name)
    if existing is not None and existing.id != group_id:
        raise GroupNameTaken(details={"groupId": str(existing.id)})


async def list_groups(
    session: AsyncSession, ctx: AccountContext, page: PageParams, q: str | None
) -> Page[GroupOut]:
    rows = await repository.groups_page(
        session, ctx.account_id, after=page.after_id(), limit=page.limit, q=q
    )
    kept, cursor, more = build_page(rows, page.limit, lambda g: [g.id])
    return Page[GroupOut](
        rows=await _outs(session, ctx.account_id, kept), next_cursor=cursor, has_more=more
    )


async def list_user_groups(
    session: AsyncSession, ctx: AccountContext, user_id: uuid.UUID, page: PageParams
) -> Page[GroupOut]:
    if not await members_repo.members(session, ctx.account_id, [user_id]):
        raise UserNotFound()
    rows = await repository.groups_page(
        session, ctx.account_id, after=page.after_id(), limit=page.limit, user_id=user_id
    )
    kept, cursor, more = build_page(rows, page.limit, lambda g: [g.id])
    return Page[GroupOut](
        rows=await _outs(session, ctx.account_id, kept), next_cursor=cursor, has_more=more
    )


async def create_group(session: AsyncSession, ctx: AccountContext, body: GroupCreate) -> GroupOut:
    name = body.name.strip()
    await _name_free(session, ctx.account_id, name)
    group = CrmGroup(account_id=ctx.account_id, name=name, description=body.description)
    session.add(group)
    await session.flush()
    return await _out(session, group)


async def get_group(session: AsyncSession, ctx: AccountContext, group_id: uuid.UUID) -> GroupOut:
    return await _out(session, await group_or_404(session, ctx.account_id, group_id))


async def update_group(
    session: AsyncSession,
    ctx: AccountContext,
    group_id: uuid.UUID,
    body: GroupUpdate,
    expected_version: str | None,
) -> GroupOut:
    group = await group_or_404(session, ctx.account_id, group_id, for_update=True)
    check_version(group, expected_version)
    if body.name is not None and body.name.strip() != group.name:
        await _name_free(session, ctx.account_id, body.name.strip(), group.id)
        group.name = body.name.strip()
    if "description" in body.model_fields_set and body.description != group.description:
        group.description = body.description
    await session.flush()
    return await _out(session, group)


async def delete_group(session: AsyncSession, ctx: AccountContext, group_id: uuid.UUID) -> None:
    group = await group_or_404(session, ctx.account_id, group_id, for_update=True)
    await assignments.release_group(session, ctx, group)
    await repository.delete_group(session, group)
    await session.flush()


# Members -------------------------------------------------------------------------------------


async def _members_out(session: AsyncSession, group: CrmGroup) -> MembersOut:
    rows = await repository.members(session, group.account_id, group.id)
    return MembersOut(
        group_id=group.id,
        rows=[MemberOut(user=user_brief(user), added_at=m.created_at) for m, user in rows],
        entity_version=group.entity_version,
    )


def _touch(group: CrmGroup) -> None:
    """Members live in their own table; a new version of the group still tells of a change."""
    group.updated_at = datetime.now(UTC)


async def list_members(
    session: AsyncSession, ctx: AccountContext, group_id: uuid.UUID
) -> MembersOut:
    return await _members_out(session, await group_or_404(session, ctx.account_id, group_id))


async def add_member(
    session: AsyncSession, ctx: AccountContext, group_id: uuid.UUID, body: MemberAdd
) -> MembersOut:
    group = await group_or_404(session, ctx.account_id, group_id, for_update=True)
    await require_members(session, ctx.account_id, [body.user_id], "userId")
    if body.user_id not in await repository.member_ids(session, ctx.account_id, group.id):
        repository.add_member(session, ctx.account_id, group.id, body.user_id)
        _touch(group)
        await session.flush()
    return await _members_out(session, group)


async def set_members(
    session: AsyncSession,
    ctx: AccountContext,
    group_id: uuid.UUID,
    body: MembersSet,
    expected_version: str | None,
) -> MembersOut:
    group = await group_or_404(session, ctx.account_id, group_id, for_update=True)
    check_version(group, expected_version)
    await require_members(session, ctx.account_id, body.user_ids, "userIds")
    current = await repository.member_ids(session, ctx.account_id, group.id)
    wanted = set(body.user_ids)
    await repository.remove_members(session, ctx.account_id, group.id, list(current - wanted))
    for user_id in body.user_ids:
        if user_id not in current:
            repository.add_member(session, ctx.account_id, group.id, user_id)
    if current != wanted:
        _touch(group)
    await session.flush()
    return await _members_out(session, group)


async def remove_member(
    session: AsyncSession, ctx: AccountContext, group_id: uuid.UUID, user_id: uuid.UUID
) -> MembersOut:
    group = await group_or_404(session, ctx.account_id, group_id, for_update=True)
    if not await repository.remove_members(session, ctx.account_id, group.id, [user_id]):
        raise UserNotFound("This user is not a member of the group.")
    _touch(group)
    await session.flush()
    return await _members_out(session, group)
