"""The errors of conversations, their messages and attachments, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import AppError, Conflict, NotFound, ValidationFailed


class ConversationNotFound(NotFound):
    default_message = "Conversation not found."


class MessageNotFound(NotFound):
    default_message = "Message not found."


class AgentNotFound(NotFound):
    code = "agent_not_found"
    default_message = "AI agent not found."


class AttachmentNotFound(NotFound):
    default_message = "Attachment not found."


class ParentInOtherConversation(ValidationFailed):
    code = "parent_in_other_conversation"
    default_message = "The parent message belongs to another conversation."


class NoContent(ValidationFailed):
    code = "empty_message"
    default_message = "Send content in at least one language, or an attachment."


class ChannelConversationNotCreatable(ValidationFailed):
    code = "channel_conversation_not_creatable"
    default_message = (
        "WhatsApp, Messenger and Instagram conversations start when their first message "
        "arrives; create api or widget conversations here."
    )


class ConversationClosed(Conflict):
    code = "conversation_closed"
    default_message = "The conversation is closed; reopen it to send."


class ChannelUnavailable(Conflict):
    code = "channel_unavailable"
    default_message = "The conversation's channel is gone (its session or thread was deleted)."


class AttachmentTooLarge(AppError):
    status_code = 413
    code = "attachment_too_large"
    default_message = "The file is larger than the attachment limit."


class AttachmentRejected(ValidationFailed):
    code = "attachment_rejected"
    default_message = "This file type cannot be attached."


class ChannelMismatch(ValidationFailed):
    code = "channel_mismatch"
    default_message = "channelId names another channel than the conversation's."


class AttachmentNotDeliverable(ValidationFailed):
    code = "attachment_not_deliverable"
    default_message = "This conversation's channel cannot send these attachments."
