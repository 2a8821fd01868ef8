from __future__ import annotations

import uuid

from pydantic import EmailStr, Field, field_validator

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.crm.schemas.common import ActorOut, EntityVersion, Name, ShortText
from ticaret.models import ContactStatus


def _lower(value: str | None) -> str | None:
    return value.lower() if value else value


class ContactCreate(ApiModel):
    display_name: Name
    phone: str | None = Field(
        default=None, max_length=40, description="Any format; stored as E.164."
    )
    email: EmailStr | None = None
    title: ShortText | None = Field(default=None, description="Role or title at the customer.")
    status: ContactStatus = ContactStatus.active
    notes: str | None = Field(default=None, max_length=20000)

    _email = field_validator("email")(_lower)


class ContactUpdate(ApiModel):
    display_name: Name | None = None
    phone: str | None = Field(default=None, max_length=40)
    email: EmailStr | None = None
    title: ShortText | None = None
    status: ContactStatus | None = None
    notes: str | None = Field(default=None, max_length=20000)
    customer_id: uuid.UUID | None = Field(
        default=None, description="Move the contact (and its identities) to this customer."
    )
    entity_version: EntityVersion

    _email = field_validator("email")(_lower)


class ContactOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    customer_id: uuid.UUID
    display_name: str
    phone: str | None
    email: str | None
    title: str | None
    status: ContactStatus
    notes: str | None
    created_by: ActorOut
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str
