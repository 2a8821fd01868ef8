"""auth hardening: refresh-token sessions, invitations as memberships, verified emails,
tokens out of stored email bodies

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email_verified_at", sa.DateTime(timezone=True)))

    op.add_column(
        "memberships",
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_memberships_status"), "memberships", "status IN ('active', 'invited')"
    )
    # A membership of a user who never set a password was an invitation all along.
    op.execute(
        "UPDATE memberships SET status = 'invited' FROM users "
        "WHERE users.id = memberships.user_id AND users.password_hash IS NULL"
    )

    op.create_check_constraint(
        op.f("ck_password_tokens_purpose"),
        "password_tokens",
        "purpose IN ('password_reset', 'invitation', 'email_verification')",
    )
    op.add_column("password_tokens", sa.Column("membership_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_password_tokens_membership_id_memberships"),
        "password_tokens",
        "memberships",
        ["membership_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_password_tokens_membership_id"), "password_tokens", ["membership_id"])

    op.add_column("outgoing_emails", sa.Column("secret_encrypted", sa.Text(), nullable=True))
    # Bodies stored before this revision carry raw reset and invitation tokens in clear text:
    # blank them out (the ones still unused keep working from the mailbox they were sent to).
    op.execute(
        "UPDATE outgoing_emails SET body_text = regexp_replace("
        "regexp_replace(body_text, 'token=[A-Za-z0-9_-]+', 'token=[redacted]', 'g'), "
        '\'"token": "[A-Za-z0-9_-]+"\', \'"token": "[redacted]"\', \'g\') '
        "WHERE kind IN ('password_reset', 'invitation')"
    )

    op.create_table(
        "auth_sessions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "revoked_reason IN ('logout', 'reuse', 'password_reset')",
            name=op.f("ck_auth_sessions_revoked_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_refresh_tokens_session_id_auth_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_refresh_tokens_session_id"), "refresh_tokens", ["session_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_refresh_tokens_session_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index(op.f("ix_auth_sessions_user_id"), table_name="auth_sessions")
    op.drop_table("auth_sessions")
    op.drop_column("outgoing_emails", "secret_encrypted")
    op.drop_index(op.f("ix_password_tokens_membership_id"), table_name="password_tokens")
    op.drop_constraint(op.f("ck_password_tokens_purpose"), "password_tokens", type_="check")
    op.drop_constraint(
        op.f("fk_password_tokens_membership_id_memberships"), "password_tokens", type_="foreignkey"
    )
    op.drop_column("password_tokens", "membership_id")
    op.drop_constraint(op.f("ck_memberships_status"), "memberships", type_="check")
    op.drop_column("memberships", "status")
    op.drop_column("users", "email_verified_at")
