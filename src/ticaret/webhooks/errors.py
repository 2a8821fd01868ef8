"""The errors of outgoing webhooks, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import Conflict, NotFound, ValidationFailed


class WebhookNotFound(NotFound):
    default_message = "Webhook not found."


class DeliveryNotFound(NotFound):
    default_message = "Delivery not found."


class UnsafeWebhookTarget(ValidationFailed):
    code = "unsafe_webhook_url"
    default_message = "This URL cannot receive webhooks."


class WebhookDisabled(Conflict):
    code = "webhook_disabled"
    default_message = "This webhook is disabled; activate it first."


class DeliveryHeld(Conflict):
    code = "delivery_held"
    default_message = (
        "This delivery is held while the webhook is paused; activate the webhook to send it."
    )


class DeliveryInProgress(Conflict):
    code = "delivery_in_progress"
    default_message = "This delivery is being attempted right now."


class TestNotCreated(Conflict):
    code = "test_not_created"
    default_message = "The test delivery could not be created."
