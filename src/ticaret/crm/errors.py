"""The errors of the CRM domain, each with its fixed code."""

from __future__ import annotations

from typing import Any

from ticaret.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


def field_error(path: str, message: str) -> dict[str, Any]:
    """`details` in the shape of a request validation error, for rules pydantic cannot see."""
    return {"fields": [{"path": path, "message": message}]}


# Not found (also another account's object) --------------------------------------------------


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    default_message = "Customer not found."


class ContactNotFound(NotFound):
    code = "contact_not_found"
    default_message = "Contact not found."


class GroupNotFound(NotFound):
    code = "group_not_found"
    default_message = "CRM group not found."


class UserNotFound(NotFound):
    code = "user_not_found"
    default_message = "No such user in this account."


class MappingNotFound(NotFound):
    code = "mapping_not_found"
    default_message = "Identity mapping not found."


class NoteNotFound(NotFound):
    code = "note_not_found"
    default_message = "Note not found."


class CommentNotFound(NotFound):
    code = "comment_not_found"
    default_message = "Comment not found."


class TaskNotFound(NotFound):
    code = "task_not_found"
    default_message = "Task not found."


class ChecklistItemNotFound(NotFound):
    code = "checklist_item_not_found"
    default_message = "Checklist item not found."


class InboxSourceNotFound(NotFound):
    code = "inbox_source_not_found"
    default_message = "Inbox not found."


# Invalid -------------------------------------------------------------------------------------


class InvalidPhone(ValidationFailed):
    code = "invalid_phone"
    default_message = "Not a phone number."


class InvalidAssignee(ValidationFailed):
    code = "invalid_assignee"
    default_message = "Chats and messages can be assigned to a member or a group of this account."


class InvalidMention(ValidationFailed):
    code = "invalid_mention"
    default_message = "Mentions must name members of this account."


class ContactOfAnotherCustomer(ValidationFailed):
    code = "contact_of_another_customer"
    default_message = "The contact belongs to another customer."


class InvalidIdentity(ValidationFailed):
    code = "invalid_identity"
    default_message = "Not an identity of this channel."


class InvalidPrimary(ValidationFailed):
    code = "invalid_primary"
    default_message = "The primary one must be in the list."


# Conflicts -----------------------------------------------------------------------------------


class GroupNameTaken(Conflict):
    code = "group_name_taken"
    default_message = "A CRM group with this name exists already."


class IdentityTaken(Conflict):
    code = "identity_already_linked"
    default_message = "This identity is linked already; change that mapping instead."


class ChatAlreadyLinked(Conflict):
    code = "chat_already_linked"
    default_message = "This chat is linked to a customer already; PUT changes the link."


class NotTheAuthor(Forbidden):
    code = "not_the_author"
    default_message = "Only the author (or an admin) can change or delete this comment."
