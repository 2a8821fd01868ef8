"""Users, accounts (tenants), memberships, API accounts and the auth side tables."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticaret.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, one_of


class Role(enum.StrEnum):
    owner = "owner"
    admin = "admin"
    agent = "agent"
    viewer = "viewer"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.viewer: 0, Role.agent: 1, Role.admin: 2, Role.owner: 3}

role_enum = Enum(Role, name="role", values_callable=lambda e: [m.value for m in e])


class User(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_lower", func.lower(text("email")), unique=True),)

    email: Mapped[str] = mapped_column(String(320), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # Null for an invited user who has not set a password yet.
    password_hash: Mapped[str | None] = mapped_column(Text)
    # Part of every access token; a password reset bumps it so older tokens fail.
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="raise")


class Account(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Membership(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("account_id", "user_id", name="uq_memberships_account_user"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    role: Mapped[Role] = mapped_column(role_enum, nullable=False)

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")
    account: Mapped[Account] = relationship(lazy="raise")


class ApiAccount(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "api_accounts"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[Role] = mapped_column(role_enum, nullable=False)
    # Public half of the credential, sent as x-api-key.
    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    secret_last4: Mapped[str] = mapped_column(String(4), nullable=False)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class TokenPurpose(enum.StrEnum):
    password_reset = "password_reset"  # noqa: S105 - a purpose name
    invitation = "invitation"


class PasswordToken(IdMixin, Base):
    """Single-use reset/invitation tokens; only their hash is stored."""

    __tablename__ = "password_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class EmailStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"  # SMTP accepted it
    logged = "logged"  # no SMTP configured: written to the worker's log instead
    failed = "failed"  # gave up after the last attempt


class OutgoingEmail(IdMixin, TimestampMixin, Base):
    """Every email is stored first, then sent by a job (SMTP) or logged when SMTP is off."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (
        Index(
            "ix_outgoing_emails_pending", "created_at", postgresql_where=text("status = 'pending'")
        ),
        one_of("status", EmailStatus),
    )

    to_address: Mapped[str] = mapped_column(String(320), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=EmailStatus.pending)
    attempt_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
