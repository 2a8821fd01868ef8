from __future__ import annotations

import uuid

from pydantic import Field

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.crm.schemas.common import ActorOut, Body, EntityVersion

MENTIONS_DESCRIPTION = (
    "Users mentioned, by id. A `<@userId>` token in the body mentions that user too. Each "
    "mentioned user gets a `crm.comment.mentioned` event."
)


class CommentCreate(ApiModel):
    body: Body
    mentions: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description=MENTIONS_DESCRIPTION
    )


class CommentUpdate(ApiModel):
    body: Body | None = None
    mentions: list[uuid.UUID] | None = Field(
        default=None, max_length=50, description=MENTIONS_DESCRIPTION
    )
    entity_version: EntityVersion


class CommentOut(ResponseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    task_id: uuid.UUID | None = Field(description="Set on a task's comments.")
    body: str
    mentions: list[uuid.UUID]
    author: ActorOut
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str
