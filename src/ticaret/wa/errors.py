"""The errors of the WhatsApp domain, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UpstreamUnavailable,
    ValidationFailed,
)

# Sessions -----------------------------------------------------------------------------------


class SessionNotFound(NotFound):
    code = "session_not_found"
    default_message = "WhatsApp session not found."


class ProviderSessionRequired(BadRequest):
    code = "provider_session_required"
    default_message = "Name the WhatsApp session with providerSessionId."


class NotSessionOwner(Forbidden):
    code = "not_session_owner"
    default_message = "Only the account that owns this session can do this."


class SandboxDisabled(BadRequest):
    code = "sandbox_disabled"
    default_message = "The sandbox gateway is turned off here."


class BaseUrlRequired(BadRequest):
    code = "base_url_required"
    default_message = "This session needs config.baseUrl (the gateway's address)."


class GatewayUrlNotAllowed(ValidationFailed):
    code = "gateway_url_not_allowed"
    default_message = (
        "config.baseUrl must be a public address, or a private host the operator allows "
        "(TICARET_WA__PRIVATE_GATEWAY_HOSTS)."
    )


class ShareWithSelf(BadRequest):
    code = "share_with_self"
    default_message = "The session already belongs to this account."


class ShareNotFound(NotFound):
    code = "share_not_found"
    default_message = "The session is not shared with that account."


class ShareOfferNotFound(NotFound):
    code = "share_not_found"
    default_message = "Share offer not found."


class ShareAlreadyAccepted(Conflict):
    code = "share_already_accepted"
    default_message = (
        "The share was accepted; drop the session's access instead "
        "(DELETE /accounts/{accountId}/wa-sessions/{providerSessionId})."
    )


class GatewayRefused(UpstreamUnavailable):
    code = "gateway_rejected"
    default_message = "The gateway refused the request."


class GatewayUnreachable(UpstreamUnavailable):
    code = "gateway_unavailable"
    default_message = "The gateway did not answer."


# Chats, contacts and messages ---------------------------------------------------------------


class ChatNotFound(NotFound):
    code = "chat_not_found"
    default_message = "Chat not found."


class ContactNotFound(NotFound):
    code = "contact_not_found"
    default_message = "Contact not found."


class MessageNotFound(NotFound):
    code = "message_not_found"
    default_message = "Message not found in this chat."


class OperationNotFound(NotFound):
    code = "operation_not_found"
    default_message = "Operation not found."


class OperationNotRetryable(Conflict):
    code = "operation_not_retryable"
    default_message = "Only an operation whose outcome is unknown, or that failed, is retried."


class MediaNotFound(NotFound):
    code = "media_not_found"
    default_message = "This message has no media."


class InvalidJid(BadRequest):
    code = "invalid_jid"
    default_message = "remoteJid must be a WhatsApp JID or a phone number."


class UnsupportedByProvider(BadRequest):
    code = "unsupported_by_provider"
    default_message = "The session's gateway cannot do this."


class InvalidMedia(BadRequest):
    code = "invalid_media"
    default_message = "Give exactly one of media.url and media.data."


class InvalidMediaData(BadRequest):
    code = "invalid_media_data"
    default_message = "media.data must be base64."


class FileTooLarge(PayloadTooLarge):
    code = "file_too_large"
    default_message = "The file is too large."


class NotOwnMessage(BadRequest):
    code = "not_own_message"
    default_message = "Only our own messages can be edited."


# Labels -------------------------------------------------------------------------------------


class LabelNotFound(NotFound):
    code = "label_not_found"
    default_message = "Label not found."


class LabelNameTaken(Conflict):
    code = "label_name_taken"
    default_message = "A label with this name exists already."


class LabelNotLinked(NotFound):
    code = "label_not_linked"
    default_message = "The chat or message does not have this label."


class InvalidLabelIds(BadRequest):
    code = "invalid_label_ids"
    default_message = "labelIds must be label ids."


# Provider events and the sandbox ------------------------------------------------------------


class UnknownProviderSession(NotFound):
    code = "session_not_found"
    default_message = "Unknown WhatsApp session."


class InvalidSignature(Unauthorized):
    code = "invalid_signature"
    # Also the answer for a session that does not exist: the receiver never says which.
    default_message = "The webhook secret or signature is wrong for this session."


class EventTooLarge(PayloadTooLarge):
    default_message = "The event is too large."


class SandboxRouteOff(NotFound):
    default_message = "Not found."


class NotASandboxSession(BadRequest):
    code = "not_a_sandbox_session"
    default_message = "This is not a sandbox session."


class EmptyMessage(BadRequest):
    code = "empty_message"
    default_message = "Send text, media or both."
