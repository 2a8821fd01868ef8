"""Declarative base and the columns every table shares."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Integer, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from ticaret.core.ids import new_id

# Stable constraint names so Alembic autogenerate produces reviewable migrations.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 (declared_attr: a class method)
        # Server-set columns (`updated_at`, identities) come back in the INSERT/UPDATE's own
        # RETURNING, so a flushed row can be serialized without a second SELECT.
        return {"eager_defaults": True}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class VersionedMixin:
    """Optimistic locking: SQLAlchemy bumps `version` on every UPDATE and checks it."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 (declared_attr: a class method)
        table = cls.__table__  # type: ignore[attr-defined]
        return {"eager_defaults": True, "version_id_col": table.c.version}

    @property
    def entity_version(self) -> str:
        return str(self.version)


def one_of(column: str, catalogue: type[enum.Enum], *, name: str | None = None) -> CheckConstraint:
    """`CHECK (column IN (...))` from the enum the code uses, so the two cannot drift apart."""
    values = ", ".join(
        str(member.value) if isinstance(member.value, int) else f"'{member.value}'"
        for member in catalogue
    )
    return CheckConstraint(f"{column} IN ({values})", name=name or column)
