"""`GET /events/types` and the OpenAPI `webhooks` section: the catalogue of declared event types.

The catalogue is built from the declarations (`core.events.event_type`), so what a subscriber
reads here is what the code emits; the test suite checks every emitted event against it.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from fastapi import APIRouter, Body, FastAPI
from pydantic import BaseModel, Field, create_model

from ticaret.core.auth import CurrentPrincipal
from ticaret.core.envelope import Envelope, ResponseModel, Timestamp, ok
from ticaret.core.events import EventType, event_catalogue
from ticaret.core.openapi import error_responses

router = APIRouter(prefix="/events", tags=["Events"])


class EventTypeOut(ResponseModel):
    type: str = Field(description="`domain.object.verb`; subscribe to it, or to `domain.*`.")
    description: str
    payload_schema: dict[str, Any] = Field(description="JSON Schema of the event's `data`.")


def event_type_out(declared: EventType[Any]) -> EventTypeOut:
    return EventTypeOut(
        type=declared.name,
        description=declared.description,
        payload_schema=declared.payload.model_json_schema(by_alias=True, mode="serialization"),
    )


@router.get(
    "/types",
    summary="The event type catalogue: every type with its description and payload schema",
    description="What outgoing webhooks and the live console deliver. Webhook subscriptions "
    "must name these types (or a `domain.*` prefix of some).",
    response_model=Envelope[list[EventTypeOut]],
    responses=error_responses(401),
)
async def list_event_types(_: CurrentPrincipal) -> Envelope[list[EventTypeOut]]:
    return ok([event_type_out(declared) for declared in event_catalogue()])


class EventActor(BaseModel):
    type: Literal["user", "api_account", "system", "ai"]
    id: str | None


class EventDelivery(BaseModel):
    """What a webhook receives (and the console streams): the event and its `data`."""

    id: str = Field(description="`evt_...`; also the `webhook-id` header. Dedupe on it.")
    type: str
    account_id: str = Field(alias="accountId")
    created_at: Timestamp = Field(alias="createdAt")
    actor: EventActor


def _delivery_model(declared: EventType[Any]) -> type[BaseModel]:
    name = "".join(part.title() for part in declared.name.replace("_", ".").split(".")) + "Event"
    model: type[BaseModel] = create_model(
        name,
        __base__=EventDelivery,
        type=(Literal[declared.name], Field(description=declared.description)),  # type: ignore[arg-type]
        data=(declared.payload, ...),
    )
    return model


def document_event_types(app: FastAPI) -> None:
    """One OpenAPI `webhooks` entry per event type: what we POST to a subscriber's URL."""
    for declared in event_catalogue():
        body_model = _delivery_model(declared)

        async def receive_event(body: Any) -> None:  # documentation only, never served
            return None

        receive_event.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(
                    "body",
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    annotation=body_model,
                    default=Body(),
                )
            ],
            return_annotation=None,
        )
        receive_event.__annotations__ = {"body": body_model, "return": None}
        app.webhooks.add_api_route(
            declared.name,
            receive_event,
            methods=["POST"],
            summary=declared.name,
            description=declared.description
            + "\n\nSigned per Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
            "`webhook-signature`); answer 2xx within 15 s.",
            tags=[declared.domain],
            responses={200: {"description": "Accepted (any 2xx)."}},
        )
