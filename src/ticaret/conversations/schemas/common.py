"""Shapes shared by the conversation areas: costs on the wire, languages."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema

from ticaret.core.money import format_decimal

Cost = Annotated[
    Decimal,
    PlainSerializer(lambda v: format_decimal(v.normalize()), return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d+(\.\d+)?$",
            "examples": ["0.0045"],
            "description": "The AI's cost as a decimal string (fractions of a cent kept).",
        }
    ),
]

# A language code: `tr`, `en`, `ar`, `pt-BR`, ...
LanguageCode = Annotated[
    str, Field(min_length=2, max_length=10, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$")
]
