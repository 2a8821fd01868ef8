from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.crm.schemas.common import CustomerBrief, EntityVersion
from ticaret.models import InboxChannel


class InboxLinkSet(ApiModel):
    customer_id: uuid.UUID | None = Field(description="null clears the link.")
    entity_version: EntityVersion


Access = Literal["owner", "shared"]


class InboxLinkOut(ResponseModel):
    channel: InboxChannel
    source_id: str = Field(
        description="WhatsApp: the session's providerSessionId; messenger: the Page id; "
        "instagram: the Instagram professional account id."
    )
    name: str = Field(description="The inbox's name.")
    access: Access = Field(description="`shared`: a WhatsApp session shared with the account.")
    asset_id: uuid.UUID | None = Field(
        description="Pages and Instagram accounts: the asset (`assetId` / `igAccountId`)."
    )
    customer: CustomerBrief | None
    linked_at: Timestamp | None
    entity_version: str = Field(description="Of the link (`0` before the first one).")


class InboxLinkCleared(ResponseModel):
    cleared: bool = Field(description="False when there was no link.")
