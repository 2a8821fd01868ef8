"""`/crm/groups`: teams of users (admins manage them; everyone reads them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ticaret.core.db import DbSession
from ticaret.core.deps import Admin, Paging, Viewer
from ticaret.core.envelope import Envelope, Page, ok
from ticaret.core.openapi import error_responses
from ticaret.core.versioning import IfMatch, expected_version
from ticaret.crm.router.deps import GroupId, UserId
from ticaret.crm.schemas.customers import Deleted
from ticaret.crm.schemas.groups import (
    GroupCreate,
    GroupOut,
    GroupUpdate,
    MemberAdd,
    MembersOut,
    MembersSet,
)
from ticaret.crm.service import groups as service

router = APIRouter(tags=["CRM groups"])


@router.get(
    "/crm/groups",
    summary="List CRM groups",
    description="CRM gruplarını listeler.",
    response_model=Envelope[Page[GroupOut]],
    responses=error_responses(400, 401, 403, 422),
)
async def list_groups(
    ctx: Viewer,
    session: DbSession,
    page: Paging,
    q: Annotated[str | None, Query(max_length=100, description="Name contains")] = None,
) -> Envelope[Page[GroupOut]]:
    return ok(await service.list_groups(session, ctx, page, q))


@router.post(
    "/crm/groups",
    summary="Create a CRM group (admin)",
    description="CRM grubu oluşturur.",
    status_code=status.HTTP_201_CREATED,
    response_model=Envelope[GroupOut],
    responses=error_responses(401, 403, 409, 422),
)
async def create_group(body: GroupCreate, ctx: Admin, session: DbSession) -> Envelope[GroupOut]:
    return ok(await service.create_group(session, ctx, body))


@router.get(
    "/crm/groups/{groupId}",
    summary="Get a CRM group",
    description="CRM grup detayını getirir.",
    response_model=Envelope[GroupOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_group(group_id: GroupId, ctx: Viewer, session: DbSession) -> Envelope[GroupOut]:
    return ok(await service.get_group(session, ctx, group_id))


@router.patch(
    "/crm/groups/{groupId}",
    summary="Rename or describe a CRM group (admin)",
    description="CRM grubunu günceller.",
    response_model=Envelope[GroupOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def update_group(
    group_id: GroupId, body: GroupUpdate, ctx: Admin, session: DbSession, if_match: IfMatch = None
) -> Envelope[GroupOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.update_group(session, ctx, group_id, body, version))


@router.delete(
    "/crm/groups/{groupId}",
    summary="Delete a CRM group (admin)",
    description="CRM grubunu siler. Its chats and messages become unassigned (with history "
    "and events) and it leaves customers' teams.",
    response_model=Envelope[Deleted],
    responses=error_responses(401, 403, 404, 422),
)
async def delete_group(group_id: GroupId, ctx: Admin, session: DbSession) -> Envelope[Deleted]:
    await service.delete_group(session, ctx, group_id)
    return ok(Deleted(deleted=True))


@router.get(
    "/crm/groups/{groupId}/members",
    summary="List a group's members",
    description="Grup üyelerini listeler.",
    response_model=Envelope[MembersOut],
    responses=error_responses(401, 403, 404, 422),
)
async def list_members(group_id: GroupId, ctx: Viewer, session: DbSession) -> Envelope[MembersOut]:
    return ok(await service.list_members(session, ctx, group_id))


@router.post(
    "/crm/groups/{groupId}/members",
    summary="Add a user of the account to a group (admin)",
    description="Gruba kullanıcı ekler.",
    response_model=Envelope[MembersOut],
    responses=error_responses(401, 403, 404, 422),
)
async def add_member(
    group_id: GroupId, body: MemberAdd, ctx: Admin, session: DbSession
) -> Envelope[MembersOut]:
    return ok(await service.add_member(session, ctx, group_id, body))


@router.put(
    "/crm/groups/{groupId}/members",
    summary="Set a group's members (admin)",
    description="Grup üyelerini toplu set eder. `entityVersion` is the group's.",
    response_model=Envelope[MembersOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def set_members(
    group_id: GroupId, body: MembersSet, ctx: Admin, session: DbSession, if_match: IfMatch = None
) -> Envelope[MembersOut]:
    version = expected_version(body.entity_version, if_match)
    return ok(await service.set_members(session, ctx, group_id, body, version))


@router.delete(
    "/crm/groups/{groupId}/members/{userId}",
    summary="Remove a user from a group (admin)",
    description="Gruptan kullanıcı çıkarır.",
    response_model=Envelope[MembersOut],
    responses=error_responses(401, 403, 404, 422),
)
async def remove_member(
    group_id: GroupId, user_id: UserId, ctx: Admin, session: DbSession
) -> Envelope[MembersOut]:
    return ok(await service.remove_member(session, ctx, group_id, user_id))


@router.get(
    "/crm/users/{userId}/groups",
    summary="The CRM groups a user of the account is in",
    description="Kullanıcının CRM gruplarını listeler.",
    response_model=Envelope[Page[GroupOut]],
    responses=error_responses(400, 401, 403, 404, 422),
)
async def user_groups(
    user_id: UserId, ctx: Viewer, session: DbSession, page: Paging
) -> Envelope[Page[GroupOut]]:
    return ok(await service.list_user_groups(session, ctx, user_id, page))
