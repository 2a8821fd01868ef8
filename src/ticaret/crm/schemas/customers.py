from __future__ import annotations

import uuid
from typing import Any

from pydantic import EmailStr, Field, field_validator

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.crm.schemas.common import ActorOut, EntityVersion, ShortText, Tag, UserBrief
from ticaret.models import CustomerStatus, CustomerType

MAX_CUSTOM_FIELDS = 100


def _unique(values: list[Any] | None) -> list[Any] | None:
    return None if values is None else list(dict.fromkeys(values))


def _lower_unique(values: list[str] | None) -> list[str] | None:
    return None if values is None else list(dict.fromkeys(v.lower() for v in values))


class _CustomerFields(ApiModel):
    short_name: ShortText | None = None
    sector: ShortText | None = None
    city: ShortText | None = None
    address: str | None = Field(default=None, max_length=1000)
    tax_office: ShortText | None = None
    tax_number: str | None = Field(default=None, max_length=32)
    phones: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Any format (`+90 555 111 22 33`, `0555 111 22 33`, a WhatsApp JID); "
        "stored as E.164. Numbers without a country code are read in the account's default "
        "phone region (TR when unset).",
    )
    emails: list[EmailStr] | None = Field(default=None, max_length=20)
    tags: list[Tag] | None = Field(default=None, max_length=50)
    status: CustomerStatus | None = None
    notes: str | None = Field(default=None, max_length=20000)
    custom_fields: dict[str, Any] | None = Field(
        default=None, description=f"Free JSON object (up to {MAX_CUSTOM_FIELDS} keys)."
    )
    primary_representative_id: uuid.UUID | None = Field(
        default=None, description="A user of the account; becomes the primary representative."
    )
    primary_team_id: uuid.UUID | None = Field(
        default=None, description="A CRM group; becomes the primary team."
    )

    _phones = field_validator("phones")(_unique)
    _emails = field_validator("emails")(_lower_unique)
    _tags = field_validator("tags")(_unique)

    @field_validator("custom_fields")
    @classmethod
    def _few_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(value) > MAX_CUSTOM_FIELDS:
            raise ValueError(f"at most {MAX_CUSTOM_FIELDS} keys")
        return value


class CustomerCreate(_CustomerFields):
    title: str = Field(min_length=1, max_length=300, description="Company or person name.")
    type: CustomerType = CustomerType.company


class CustomerUpdate(_CustomerFields):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    type: CustomerType | None = None
    entity_version: EntityVersion


class CustomerOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    title: str
    short_name: str | None
    type: CustomerType
    sector: str | None
    city: str | None
    address: str | None
    tax_office: str | None
    tax_number: str | None
    phones: list[str]
    emails: list[str]
    tags: list[str]
    status: CustomerStatus
    notes: str | None
    custom_fields: dict[str, Any]
    primary_representative_id: uuid.UUID | None
    primary_team_id: uuid.UUID | None
    open_task_count: int = Field(description="Tasks still todo or in progress.")
    created_by: ActorOut
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class RepresentativesSet(ApiModel):
    user_ids: list[uuid.UUID] = Field(max_length=50, description="Users of the account.")
    primary_user_id: uuid.UUID | None = Field(
        default=None, description="One of userIds; the first one when omitted."
    )
    entity_version: EntityVersion = Field(default=None, description="The customer's.")

    _ids = field_validator("user_ids")(_unique)


class RepresentativeOut(ResponseModel):
    user: UserBrief
    is_primary: bool
    added_at: Timestamp


class RepresentativesOut(ResponseModel):
    customer_id: uuid.UUID
    primary_user_id: uuid.UUID | None
    rows: list[RepresentativeOut]
    entity_version: str = Field(description="The customer's entityVersion.")


class TeamsSet(ApiModel):
    group_ids: list[uuid.UUID] = Field(max_length=50, description="CRM groups of the account.")
    primary_group_id: uuid.UUID | None = Field(
        default=None, description="One of groupIds; the first one when omitted."
    )
    entity_version: EntityVersion = Field(default=None, description="The customer's.")

    _ids = field_validator("group_ids")(_unique)


class TeamOut(ResponseModel):
    group_id: uuid.UUID
    name: str
    is_primary: bool
    added_at: Timestamp


class TeamsOut(ResponseModel):
    customer_id: uuid.UUID
    primary_group_id: uuid.UUID | None
    rows: list[TeamOut]
    entity_version: str = Field(description="The customer's entityVersion.")


class Deleted(ResponseModel):
    deleted: bool
