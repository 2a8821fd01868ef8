from __future__ import annotations

import uuid

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.crm.schemas.common import ActorOut, Body, EntityVersion


class NoteCreate(ApiModel):
    body: Body
    pinned: bool = False


class NoteUpdate(ApiModel):
    body: Body | None = None
    pinned: bool | None = None
    entity_version: EntityVersion


class NoteOut(ResponseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    body: str
    pinned: bool
    author: ActorOut
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str
