from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from ticaret.core.envelope import ResponseModel, Timestamp
from ticaret.crm.schemas.common import ActorOut
from ticaret.models import AuditAction, AuditEntity


class AuditEntryOut(ResponseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    entity_type: AuditEntity
    entity_id: uuid.UUID
    action: AuditAction
    changes: dict[str, Any] = Field(description="{field: {before, after}} of every changed field.")
    actor: ActorOut
    created_at: Timestamp
