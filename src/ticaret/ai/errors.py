"""The errors of the AI domain, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import (
    Conflict,
    NotFound,
    RateLimited,
    UpstreamUnavailable,
    ValidationFailed,
)

# Settings and the provider ------------------------------------------------------------------


class ApiKeyRequired(ValidationFailed):
    code = "ai_api_key_required"
    default_message = "Set an API key for the OpenAI provider first."


class BaseUrlRequired(ValidationFailed):
    code = "ai_base_url_required"
    default_message = "An OpenAI-compatible provider needs baseUrl (its /v1 address)."


class UnsafeAiEndpoint(ValidationFailed):
    code = "unsafe_ai_endpoint"
    default_message = "This address cannot be used as an AI endpoint."


class AiKeyRejected(ValidationFailed):
    # Not a 401: that would tell the client its own credentials are wrong.
    code = "ai_key_rejected"
    default_message = "The AI provider rejected the API key."


class AiRequestRejected(ValidationFailed):
    code = "ai_request_rejected"
    default_message = "The AI provider refused the request."


class AiProviderRateLimited(RateLimited):
    code = "ai_provider_rate_limited"
    default_message = "The AI provider is rate limiting this key; try again later."


class AiProviderUnavailable(UpstreamUnavailable):
    code = "ai_provider_unavailable"
    default_message = "The AI provider did not answer."


# Analyses -----------------------------------------------------------------------------------


class AnalysisNotFound(NotFound):
    code = "analysis_not_found"
    default_message = "This message has no AI analysis."


class AnalysisInProgress(Conflict):
    code = "analysis_in_progress"
    default_message = "This message is being analysed right now; wait for the result."


class NothingToAnalyse(ValidationFailed):
    code = "nothing_to_analyse"
    default_message = "Only a customer's text or image messages are analysed."


# Orders from analyses -----------------------------------------------------------------------


class AnalysisNotCompleted(Conflict):
    code = "analysis_not_completed"
    default_message = "Orders are created from completed analyses only."


class OrderAlreadyCreated(Conflict):
    code = "order_already_created"
    default_message = (
        "An order was already created from this analysis; send allowDuplicate: true to create "
        "another."
    )


class OrderDraftEmpty(ValidationFailed):
    code = "order_draft_empty"
    default_message = "The analysis matched no product: name the items in the request."


class OrderCustomerRequired(ValidationFailed):
    code = "order_customer_required"
    default_message = (
        "The chat is linked to no CRM customer: link it (PUT /wa/chats/{remoteJid}/customer-link) "
        "or send customerId."
    )
