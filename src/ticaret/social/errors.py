"""The errors of the Facebook Pages and Instagram domain, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    UpstreamUnavailable,
    ValidationFailed,
)


class MetaNotConfigured(ServiceUnavailable):
    code = "meta_not_configured"
    default_message = (
        "The Meta app is not configured here (TICARET_META__APP_ID and TICARET_META__APP_SECRET)."
    )


# Onboarding ---------------------------------------------------------------------------------


class RedirectNotAllowed(ValidationFailed):
    code = "redirect_not_allowed"
    default_message = (
        "redirectUrl must be a relative path or start with an allowed origin "
        "(TICARET_META__REDIRECT_ORIGINS)."
    )


class InvalidOAuthState(BadRequest):
    code = "invalid_oauth_state"
    default_message = "The onboarding link is invalid, expired or was already used; start again."


# Assets -------------------------------------------------------------------------------------


class AssetNotFound(NotFound):
    code = "asset_not_found"
    default_message = "Asset not found."


class InstagramAccountNotFound(NotFound):
    code = "instagram_account_not_found"
    default_message = "Instagram account not found."


class AssetNeedsReauth(Conflict):
    code = "asset_needs_reauth"
    default_message = "Meta no longer accepts this asset's token; connect it again."


class FeatureDisabled(Conflict):
    code = "feature_disabled"
    default_message = "This feature is turned off for the asset (enabledFeatures)."


class UnknownAssignee(ValidationFailed):
    code = "unknown_assignee"
    default_message = "defaultAssigneeId must be a member of this account."


class SyncInProgress(Conflict):
    code = "sync_in_progress"
    default_message = "A sync of this asset is already running."


# Webhooks -----------------------------------------------------------------------------------


class MissingSignature(Unauthorized):
    code = "missing_signature"
    default_message = "X-Hub-Signature-256 is missing."


class InvalidSignature(Forbidden):
    code = "invalid_signature"
    default_message = "X-Hub-Signature-256 does not match the body."


class VerificationRefused(Forbidden):
    code = "verification_refused"
    default_message = "hub.mode or hub.verify_token is wrong."


# Threads, messages, posts, comments ---------------------------------------------------------


class ThreadNotFound(NotFound):
    code = "thread_not_found"
    default_message = "Thread not found."


class PostNotFound(NotFound):
    code = "post_not_found"
    default_message = "Post not found."


class CommentNotFound(NotFound):
    code = "comment_not_found"
    default_message = "Comment not found."


class MessageNotFound(NotFound):
    code = "message_not_found"
    default_message = "The message to reply to is not in this thread."


class OperationNotFound(NotFound):
    code = "operation_not_found"
    default_message = "Operation not found."


class OutsideMessagingWindow(Conflict):
    code = "outside_messaging_window"
    default_message = (
        "The person last wrote more than 24 hours ago; Meta allows a reply now only with the "
        "HUMAN_AGENT tag (within 7 days)."
    )


class UnsafeMediaUrl(ValidationFailed):
    code = "invalid_media_url"
    default_message = "The media URL must be a public http(s) URL."


class GraphRefusedRequest(UpstreamUnavailable):
    code = "graph_error"
    default_message = "The Graph API refused the request."
