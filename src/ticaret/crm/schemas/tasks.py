from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, field_validator

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.crm.schemas.common import ActorOut, EntityVersion, UserBrief
from ticaret.models import TaskPriority, TaskStatus


def _unique(value: list[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(value))


class TaskCreate(ApiModel):
    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    status: TaskStatus = TaskStatus.todo
    priority: TaskPriority = TaskPriority.normal
    due_at: datetime | None = None
    assignee_user_id: uuid.UUID | None = Field(default=None, description="A user of the account.")
    contact_id: uuid.UUID | None = Field(default=None, description="A contact of the customer.")
    watcher_user_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    checklist: list[str] = Field(
        default_factory=list, max_length=100, description="Titles of checklist items, in order."
    )

    _watchers = field_validator("watcher_user_ids")(_unique)

    @field_validator("checklist")
    @classmethod
    def _titles(cls, value: list[str]) -> list[str]:
        if any(not title.strip() or len(title) > 500 for title in value):
            raise ValueError("each title has 1 to 500 characters")
        return value


class TaskUpdate(ApiModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_at: datetime | None = None
    assignee_user_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    entity_version: EntityVersion


class TaskOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None
    title: str
    description: str | None
    status: TaskStatus
    priority: TaskPriority
    due_at: Timestamp | None
    assignee_user_id: uuid.UUID | None
    completed_at: Timestamp | None = Field(description="Set when the status becomes done.")
    watcher_user_ids: list[uuid.UUID]
    checklist_total: int
    checklist_done: int
    created_by: ActorOut
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class WatchersSet(ApiModel):
    user_ids: list[uuid.UUID] = Field(max_length=50)
    entity_version: EntityVersion = Field(default=None, description="The task's.")

    _ids = field_validator("user_ids")(_unique)


class WatcherOut(ResponseModel):
    user: UserBrief
    added_at: Timestamp


class WatchersOut(ResponseModel):
    task_id: uuid.UUID
    rows: list[WatcherOut]
    entity_version: str = Field(description="The task's entityVersion.")


class ChecklistItemCreate(ApiModel):
    title: str = Field(min_length=1, max_length=500)
    done: bool = False
    position: int | None = Field(
        default=None, ge=0, le=100000, description="Default: after the last item."
    )


class ChecklistItemUpdate(ApiModel):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    done: bool | None = None
    position: int | None = Field(default=None, ge=0, le=100000)
    entity_version: EntityVersion


class ChecklistItemOut(ResponseModel):
    id: uuid.UUID
    task_id: uuid.UUID
    title: str
    done: bool
    position: int
    done_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str
