"""Event types of outgoing webhooks: their audit trail, their health, and test sends."""

from __future__ import annotations

import uuid

from ticaret.core.events import EventPayload, event_type
from ticaret.models import WebhookStatus


class WebhookRef(EventPayload):
    webhook_id: uuid.UUID


class WebhookCreated(WebhookRef):
    events: list[str]


class WebhookUpdated(WebhookRef):
    changed: list[str]


class WebhookActivated(WebhookRef):
    previous_status: WebhookStatus


class WebhookDisabled(WebhookRef):
    # No URL: it may carry a token, and viewers watch events in the console.
    reason: str


class WebhookTest(WebhookRef):
    message: str


# Audit events never carry a webhook's URL or secret; a webhook is not sent its own.
WEBHOOK_CREATED = event_type(
    "webhook.created", "A webhook was created, with the event types it receives.", WebhookCreated
)
WEBHOOK_UPDATED = event_type(
    "webhook.updated",
    "A webhook's settings changed (`changed` names them: url, events, description, secret).",
    WebhookUpdated,
)
WEBHOOK_DELETED = event_type("webhook.deleted", "A webhook was deleted.", WebhookRef)
WEBHOOK_PAUSED = event_type(
    "webhook.paused", "A webhook was paused: its deliveries are held.", WebhookRef
)
WEBHOOK_ACTIVATED = event_type(
    "webhook.activated",
    "A paused or disabled webhook was activated; held deliveries go out in event order.",
    WebhookActivated,
)
WEBHOOK_DISABLED = event_type(
    "webhook.disabled",
    "Ticaret disabled a webhook: its receiver answered 410 Gone, or every delivery failed "
    "for 5 days.",
    WebhookDisabled,
)
WEBHOOK_TEST = event_type(
    "webhook.test",
    "A test event, sent only to the webhook it was requested for.",
    WebhookTest,
)
