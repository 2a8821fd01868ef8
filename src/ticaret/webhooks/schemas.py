from __future__ import annotations

import uuid
from typing import Any

from pydantic import AliasChoices, Field, field_validator

from ticaret.core.envelope import ApiModel, ResponseModel, Timestamp
from ticaret.core.events import check_subscription
from ticaret.models import AttemptTrigger, DeliveryStatus, WebhookStatus

MAX_SUBSCRIPTIONS = 100

EVENTS_DESCRIPTION = (
    "Event types to receive (`GET /events/types` lists them): exact names "
    "(`wa.message.received`), `domain.*` wildcards (`wa.*`, `wa.message.*`) that cover at "
    "least one type, or `*` for everything."
)


def _clean_subscriptions(patterns: list[str]) -> list[str]:
    cleaned: list[str] = []
    for pattern in patterns:
        check_subscription(pattern)
        if pattern not in cleaned:
            cleaned.append(pattern)
    return cleaned


class WebhookCreate(ApiModel):
    url: str = Field(min_length=1, max_length=2048, description="http(s) URL we POST events to.")
    events: list[str] = Field(
        min_length=1, max_length=MAX_SUBSCRIPTIONS, description=EVENTS_DESCRIPTION
    )
    description: str | None = Field(default=None, max_length=500)

    _events = field_validator("events")(_clean_subscriptions)


class WebhookUpdate(ApiModel):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_SUBSCRIPTIONS, description=EVENTS_DESCRIPTION
    )
    description: str | None = Field(default=None, max_length=500)
    rotate_secret: bool = Field(
        default=False,
        description="Issue a new secret (shown once in the response). The previous one keeps "
        "signing next to it for 24 hours so receivers can switch without dropping deliveries.",
    )
    entity_version: str | None = None

    @field_validator("events")
    @classmethod
    def _valid_events(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _clean_subscriptions(value)


class WebhookOut(ResponseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    url: str
    description: str | None
    events: list[str]
    status: WebhookStatus
    disabled_reason: str | None
    disabled_at: Timestamp | None
    failing_since: Timestamp | None = Field(
        validation_alias=AliasChoices("first_failure_at", "failingSince", "failing_since"),
        description="First failed attempt of the current run of failures; null when healthy.",
    )
    last_success_at: Timestamp | None
    previous_secret_expires_at: Timestamp | None = Field(
        description="Until then deliveries are also signed with the rotated-out secret."
    )
    created_at: Timestamp
    updated_at: Timestamp
    entity_version: str


class WebhookWithSecret(WebhookOut):
    secret: str | None = Field(
        description="`whsec_...` signing secret: returned once, when created or rotated; "
        "null otherwise."
    )


class AttemptOut(ResponseModel):
    attempt_number: int
    trigger: AttemptTrigger = Field(
        description="scheduled (first send and retries), redelivery or release"
    )
    request_headers: dict[str, Any]
    response_status: int | None
    response_headers: dict[str, Any] | None
    response_body_excerpt: str | None = Field(description="First 4 KiB of the response body.")
    duration_ms: int
    error: str | None
    next_attempt_at: Timestamp | None
    created_at: Timestamp


class DeliveryOut(ResponseModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: str = Field(description="Also the `webhook-id` header, stable across retries.")
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: Timestamp | None
    last_status_code: int | None
    last_error: str | None
    created_at: Timestamp
    updated_at: Timestamp
    completed_at: Timestamp | None
    attempts: list[AttemptOut] = Field(description="Every attempt, oldest first.")
