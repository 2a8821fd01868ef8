from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from ticaret.core.envelope import ResponseModel

VERSION_DESCRIPTION = "entityVersion the change was based on (or send If-Match); 409 if stale."
EntityVersion = Annotated[str | None, Field(default=None, description=VERSION_DESCRIPTION)]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=20000)]


class ActorOut(ResponseModel):
    type: str = Field(description="user | api_account | system | ai")
    id: str | None


class UserBrief(ResponseModel):
    id: uuid.UUID
    name: str
    email: str


class CustomerBrief(ResponseModel):
    id: uuid.UUID
    title: str
    short_name: str | None


class ContactBrief(ResponseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    display_name: str
