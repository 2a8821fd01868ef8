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
    # Set when the user proved they read this address (a mailed token); accepting an invitation
    # needs it, since anyone can register any address.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="raise")


class Account(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # ISO 3166 region phone numbers without a country code are read in (CRM); TR when unset.
    default_phone_region: Mapped[str | None] = mapped_column(String(2))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MembershipStatus(enum.StrEnum):
    active = "active"
    # An invitation: it grants nothing until the user accepts it (or sets a password with the
    # invitation's mailed token).
    invited = "invited"


class Membership(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("account_id", "user_id", name="uq_memberships_account_user"),
        one_of("status", MembershipStatus),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    role: Mapped[Role] = mapped_column(role_enum, nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default=MembershipStatus.active, server_default="active"
    )

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
    email_verification = "email_verification"


class PasswordToken(IdMixin, Base):
    """Single-use reset/invitation tokens; only their hash is stored."""

    __tablename__ = "password_tokens"
    __table_args__ = (one_of("purpose", TokenPurpose),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    # The membership an invitation token offers (setting a password with it accepts that one).
    membership_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
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
    # Never holds a token: a secret (reset, invitation, verification token) is stored encrypted in
    # `secret_encrypted`, put in place of SECRET_PLACEHOLDER when the mail is sent, then erased.
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=EmailStatus.pending)
    attempt_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SessionEndReason(enum.StrEnum):
    logout = "logout"
    reuse = "reuse"  # an already used refresh token came back: the family leaked
    password_reset = "password_reset"  # noqa: S105 - a reason name


class AuthSession(IdMixin, Base):
    """One login: the family of its rotating refresh tokens; revoking it ends them all."""

    __tablename__ = "auth_sessions"
    __table_args__ = (one_of("revoked_reason", SessionEndReason),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The absolute end of the session, however often it is refreshed.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(IdMixin, Base):
    """A single-use refresh token; only its hash is stored."""

    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True, nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
