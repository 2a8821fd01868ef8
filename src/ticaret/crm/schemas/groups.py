from __future__ import annotations

import uuid

from pydantic import Field, field_validator

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.crm.schemas.common import EntityVersion, UserBrief


class GroupCreate(ApiModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)


class GroupUpdate(ApiModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    entity_version: EntityVersion


class GroupOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    description: str | None
    member_count: int
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class MemberAdd(ApiModel):
    user_id: uuid.UUID


class MembersSet(ApiModel):
    user_ids: list[uuid.UUID] = Field(max_length=500)
    entity_version: EntityVersion = Field(default=None, description="The group's.")

    @field_validator("user_ids")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))


class MemberOut(ResponseModel):
    user: UserBrief
    added_at: Timestamp


class MembersOut(ResponseModel):
    group_id: uuid.UUID
    rows: list[MemberOut]
    entity_version: str = Field(description="The group's entityVersion.")
