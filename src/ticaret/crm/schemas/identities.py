from __future__ import annotations

import uuid
from typing import Literal

from pydantic import EmailStr, Field

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.crm.schemas.common import (
    ActorOut,
    ContactBrief,
    CustomerBrief,
    EntityVersion,
    Name,
    Tag,
)
from ticaret.models import ChatType, CustomerStatus, CustomerType, IdentityChannel, IdentitySource

ProviderSessionField = Field(
    default=None, max_length=100, description="The WhatsApp session; may be a query parameter."
)


class MappingCreate(ApiModel):
    channel: IdentityChannel = IdentityChannel.whatsapp
    value: str = Field(
        min_length=1,
        max_length=300,
        description="WhatsApp: a JID (phone, `@lid` or group) or a phone number in any format. "
        "Other channels: their own id (Page- or Instagram-scoped id, external id).",
    )
    scope: str = Field(
        default="",
        max_length=200,
        description="What the value is unique within: empty for WhatsApp, the Page, Instagram "
        "account or external system otherwise.",
    )
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None = Field(default=None, description="A contact of that customer.")
    display_name: str | None = Field(default=None, max_length=200)


class MappingUpdate(ApiModel):
    customer_id: uuid.UUID | None = Field(
        default=None, description="Move the identity to another customer."
    )
    contact_id: uuid.UUID | None = Field(
        default=None, description="A contact of the (new) customer; null detaches it."
    )
    display_name: str | None = Field(default=None, max_length=200)
    entity_version: EntityVersion


class MappingOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    channel: IdentityChannel
    scope: str
    value: str
    phone: str | None = Field(description="E.164, when the identity is a phone JID.")
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None
    source: IdentitySource
    display_name: str | None
    created_by: ActorOut
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class Candidate(ResponseModel):
    customer: CustomerBrief
    contact: ContactBrief | None


class UnmatchedChatOut(ResponseModel):
    """A WhatsApp chat, or a Page / Instagram DM thread, no customer is linked to."""

    channel: IdentityChannel = Field(
        description="`whatsapp` (a chat), `messenger` (a Page's thread) or `instagram`."
    )
    scope: str = Field(
        description="What `value` is unique within: empty for WhatsApp, the Page or Instagram "
        "account id otherwise (the `scope` of a mapping)."
    )
    value: str = Field(
        description="The identity to map: the chat's JID, or the person's PSID / IGSID."
    )
    provider_session_id: str | None = Field(description="WhatsApp: the session.")
    remote_jid: str | None = Field(description="WhatsApp: the chat.")
    alt_jid: str | None
    asset_id: uuid.UUID | None = Field(
        description="Pages and Instagram: the asset (`assetId` / `igAccountId`)."
    )
    thread_id: uuid.UUID | None = Field(description="Pages and Instagram: the thread.")
    type: ChatType
    name: str | None
    phone: str | None = Field(description="E.164 of the chat's phone JID, when known.")
    last_message_at: Timestamp | None
    last_message_preview: str | None
    unread_count: int
    candidates: list[Candidate] = Field(
        description="Customers or contacts with this phone (several: the link is ambiguous)."
    )


class ChatLink(ResponseModel):
    """Which customer (and contact) a chat or message belongs to in this account."""

    customer: CustomerBrief
    contact: ContactBrief | None
    source: Literal["identity", "inbox"] = Field(
        description="`identity`: one of the chat's JIDs (the thread's PSID / IGSID) is mapped; "
        "`inbox`: its whole session (Page, Instagram account) is bound to the customer."
    )


class CustomerLinkOut(ResponseModel):
    provider_session_id: str
    remote_jid: str
    alt_jid: str | None
    status: Literal["matched", "unmatched"]
    link: ChatLink | None
    mappings: list[MappingOut] = Field(description="This account's mappings of the chat's JIDs.")


class CustomerLinkSet(ApiModel):
    provider_session_id: str | None = ProviderSessionField
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None = None


class ContactFromChat(ApiModel):
    display_name: Name | None = Field(default=None, description="Default: the chat's name.")
    title: str | None = Field(default=None, max_length=100)
    email: EmailStr | None = None


class CustomerFromChat(ApiModel):
    provider_session_id: str | None = ProviderSessionField
    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="Default: the chat's name, or its phone number.",
    )
    type: CustomerType = CustomerType.person
    status: CustomerStatus = CustomerStatus.active
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    create_contact: bool = Field(
        default=True, description="Also create a contact for the person behind the chat."
    )
    contact: ContactFromChat | None = None


class CustomerFromChatOut(ResponseModel):
    link: CustomerLinkOut
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None


# Page and Instagram threads ------------------------------------------------------------------


class ThreadLinkOut(ResponseModel):
    """Which customer a Page or Instagram DM thread belongs to in this account."""

    asset_id: uuid.UUID
    thread_id: uuid.UUID
    channel: IdentityChannel = Field(description="`messenger` or `instagram`.")
    scope: str = Field(description="The Page id or the Instagram account id.")
    participant_id: str = Field(description="The person's PSID or IGSID (the identity's value).")
    status: Literal["matched", "unmatched"]
    link: ChatLink | None
    mapping: MappingOut | None = Field(description="This account's mapping of the person.")


class ThreadLinkSet(ApiModel):
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None = None


class CustomerFromThread(ApiModel):
    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="Default: the person's name (or @username, as a sync learnt it), else "
        "their PSID / IGSID.",
    )
    type: CustomerType = CustomerType.person
    status: CustomerStatus = CustomerStatus.active
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    create_contact: bool = Field(
        default=True, description="Also create a contact for the person behind the thread."
    )
    contact: ContactFromChat | None = None


class CustomerFromThreadOut(ResponseModel):
    link: ThreadLinkOut
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None
