"""Users and groups named in requests: they must be this account's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.crm.errors import GroupNotFound, UserNotFound, field_error
from ticaret.crm.repository import groups as groups_repo
from ticaret.crm.repository import members as members_repo
from ticaret.models import CrmGroup, User


async def require_members(
    session: AsyncSession, account_id: uuid.UUID, user_ids: Sequence[uuid.UUID], path: str
) -> dict[uuid.UUID, User]:
    """The users, all active members of the account; 404 names the first one that is not."""
    found = await members_repo.members(session, account_id, user_ids)
    for index, user_id in enumerate(user_ids):
        if user_id not in found:
            where = f"{path}.{index}" if len(user_ids) > 1 or path.endswith("s") else path
            raise UserNotFound(
                f"User {user_id} is not a member of this account.",
                details=field_error(where, "not a member of this account"),
            )
    return found


async def require_groups(
    session: AsyncSession, account_id: uuid.UUID, group_ids: Sequence[uuid.UUID], path: str
) -> dict[uuid.UUID, CrmGroup]:
    found = await groups_repo.groups_by_id(session, account_id, group_ids)
    for index, group_id in enumerate(group_ids):
        if group_id not in found:
            where = f"{path}.{index}" if path.endswith("s") else path
            raise GroupNotFound(
                f"CRM group {group_id} not found.", details=field_error(where, "no such group")
            )
    return found
