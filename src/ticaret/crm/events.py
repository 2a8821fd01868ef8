"""Event types of the CRM. They go to the one account whose record changed; notes are private
and never leave in an event."""

from __future__ import annotations

import uuid

from pydantic import Field

from ticaret.core.events import EventPayload, event_type
from ticaret.crm.schemas.assignments import AssigneeRef
from ticaret.crm.schemas.comments import CommentOut
from ticaret.crm.schemas.common import ActorOut
from ticaret.crm.schemas.contacts import ContactOut
from ticaret.crm.schemas.customers import CustomerOut
from ticaret.crm.schemas.identities import MappingOut
from ticaret.crm.schemas.tasks import TaskOut
from ticaret.models import AssignmentTarget, IdentityChannel


class CustomerChanged(EventPayload):
    customer: CustomerOut
    changed_fields: list[str] = Field(description="camelCase names; empty on creation.")


class CustomerDeleted(EventPayload):
    customer_id: uuid.UUID
    title: str


class ContactChanged(EventPayload):
    contact: ContactOut
    changed_fields: list[str]
    previous_customer_id: uuid.UUID | None = Field(
        default=None, description="Set when the contact moved to another customer."
    )


class ContactDeleted(EventPayload):
    contact_id: uuid.UUID
    customer_id: uuid.UUID
    display_name: str


class TaskChanged(EventPayload):
    task: TaskOut
    changed_fields: list[str]
    notify_user_ids: list[uuid.UUID] = Field(
        description="The assignee and the watchers, without whoever made the change."
    )


class TaskDeleted(EventPayload):
    task_id: uuid.UUID
    customer_id: uuid.UUID
    title: str
    notify_user_ids: list[uuid.UUID]


class CommentChanged(EventPayload):
    comment: CommentOut


class CommentMentioned(EventPayload):
    comment_id: uuid.UUID
    customer_id: uuid.UUID
    task_id: uuid.UUID | None
    mentioned_user_id: uuid.UUID
    author: ActorOut
    body: str


class CommentDeleted(EventPayload):
    comment_id: uuid.UUID
    customer_id: uuid.UUID
    task_id: uuid.UUID | None


class IdentityLinked(EventPayload):
    mapping: MappingOut
    previous_customer_id: uuid.UUID | None = Field(
        default=None, description="Set when the identity moved from another customer."
    )


class IdentityUnlinked(EventPayload):
    mapping_id: uuid.UUID
    channel: IdentityChannel
    scope: str
    value: str
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None


class AssignmentChanged(EventPayload):
    target_type: AssignmentTarget
    provider_session_id: str
    remote_jid: str
    message_id: str | None
    from_assignee: AssigneeRef | None
    to_assignee: AssigneeRef | None
    reason: str | None
    bulk_id: uuid.UUID | None = Field(description="Names the bulk request it was part of.")


CUSTOMER_CREATED = event_type(
    "crm.customer.created", "A CRM customer was created.", CustomerChanged
)
CUSTOMER_UPDATED = event_type(
    "crm.customer.updated",
    "A customer changed (fields, representatives or teams; `changedFields` says which).",
    CustomerChanged,
)
CUSTOMER_DELETED = event_type(
    "crm.customer.deleted",
    "A customer was deleted (soft): gone from lists and links, its tasks and notes kept.",
    CustomerDeleted,
)
CONTACT_CREATED = event_type("crm.contact.created", "A contact was created.", ContactChanged)
CONTACT_UPDATED = event_type(
    "crm.contact.updated",
    "A contact changed or moved to another customer (`previousCustomerId`).",
    ContactChanged,
)
CONTACT_DELETED = event_type("crm.contact.deleted", "A contact was deleted (soft).", ContactDeleted)
TASK_CREATED = event_type("crm.task.created", "A task was created.", TaskChanged)
TASK_UPDATED = event_type(
    "crm.task.updated",
    "A task changed (fields, watchers or checklist; `changedFields` says which).",
    TaskChanged,
)
TASK_COMPLETED = event_type(
    "crm.task.completed", "A task's status became done (`completedAt` is set).", TaskChanged
)
TASK_DELETED = event_type("crm.task.deleted", "A task was deleted (soft).", TaskDeleted)
COMMENT_CREATED = event_type(
    "crm.comment.created",
    "A comment was written on a customer or a task, with its mentions.",
    CommentChanged,
)
COMMENT_UPDATED = event_type("crm.comment.updated", "A comment was edited.", CommentChanged)
COMMENT_DELETED = event_type("crm.comment.deleted", "A comment was deleted (soft).", CommentDeleted)
COMMENT_MENTIONED = event_type(
    "crm.comment.mentioned",
    "A user was mentioned in a comment: one event per mentioned user.",
    CommentMentioned,
)
IDENTITY_LINKED = event_type(
    "crm.identity.linked",
    "A channel identity (a WhatsApp JID, a Page- or Instagram-scoped id, an external id) was "
    "linked to a customer, by a user or automatically (by phone, or as the other JID of the "
    "same person), or moved to another customer.",
    IdentityLinked,
)
IDENTITY_UNLINKED = event_type(
    "crm.identity.unlinked", "A channel identity was unlinked from its customer.", IdentityUnlinked
)
ASSIGNMENT_CHANGED = event_type(
    "crm.assignment.changed",
    "A chat's or message's assignee changed (to a user, a group, or nobody).",
    AssignmentChanged,
)
