"""crm: customers, contacts, identities, inbox links, groups, representatives and teams,
chat and message assignments with their history, notes, comments, tasks with watchers and
checklists, the audit trail; the account's default phone region; search functions

Search folds case, accents and the Turkish dotted/dotless i in SQL (`crm_fold`) so the
generated `search_text` columns and the query side agree; pg_trgm indexes them.
`unaccent` already maps ı to i and İ to I, but the translate() keeps that true whatever
rules file a server ships, and lower() runs after unaccent so no locale turns İ into i̇.

Revision ID: 0007
Revises: 0010
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema_of_unaccent() -> str:
    bind = op.get_bind()
    schema = bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
    ).scalar()
    return str(schema or "public")


def _create_search_functions() -> None:
    ext = _schema_of_unaccent()
    here = str(op.get_bind().execute(sa.text("SELECT current_schema()")).scalar())
    # Schema-qualified throughout: generated columns and indexes are recomputed under a
    # restricted search_path (pg_dump/restore, autovacuum).
    op.execute(
        f"""
        CREATE FUNCTION {here}.crm_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT pg_catalog.lower({ext}.unaccent('{ext}.unaccent'::regdictionary,
                     pg_catalog.translate(value, 'ıİ', 'iI'))) $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION {here}.crm_customer_search_text(
            title text, short_name text, tax_number text, phones text[], emails text[]
        ) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT {here}.crm_fold(
            coalesce(title, '') || ' ' || coalesce(short_name, '') || ' '
            || coalesce(tax_number, '') || ' '
            || coalesce(pg_catalog.array_to_string(emails, ' '), '') || ' '
            || pg_catalog.translate(coalesce(pg_catalog.array_to_string(phones, ' '), ''), '+', '')
        ) $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION {here}.crm_contact_search_text(
            display_name text, title text, phone text, email text
        ) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT {here}.crm_fold(
            coalesce(display_name, '') || ' ' || coalesce(title, '') || ' '
            || coalesce(email, '') || ' ' || pg_catalog.translate(coalesce(phone, ''), '+', '')
        ) $$
        """
    )


def upgrade() -> None:
    _create_search_functions()
    op.create_table(
        "crm_assignment_history",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("provider_session_id", sa.String(length=100), nullable=False),
        sa.Column("remote_jid", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("from_type", sa.String(length=16), nullable=True),
        sa.Column("from_id", sa.Uuid(), nullable=True),
        sa.Column("to_type", sa.String(length=16), nullable=True),
        sa.Column("to_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("bulk_id", sa.Uuid(), nullable=True),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "actor_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_crm_assignment_history_actor_type"),
        ),
        sa.CheckConstraint(
            "from_type IN ('user', 'group')", name=op.f("ck_crm_assignment_history_from_type")
        ),
        sa.CheckConstraint(
            "target_type IN ('chat', 'message')", name=op.f("ck_crm_assignment_history_target_type")
        ),
        sa.CheckConstraint(
            "to_type IN ('user', 'group')", name=op.f("ck_crm_assignment_history_to_type")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_assignment_history_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_assignment_history")),
    )
    op.create_index(
        "ix_crm_assignment_history_account_id_desc",
        "crm_assignment_history",
        ["account_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_crm_assignment_history_chat",
        "crm_assignment_history",
        [
            "account_id",
            "session_id",
            "remote_jid",
            sa.literal_column("created_at DESC"),
            sa.literal_column("id DESC"),
        ],
        unique=False,
    )
    op.create_table(
        "crm_customers",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("tax_office", sa.String(length=100), nullable=True),
        sa.Column("tax_number", sa.String(length=32), nullable=True),
        sa.Column("phones", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("emails", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("custom_fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by_type", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "crm_customer_search_text(title, short_name, tax_number, phones, emails)",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "created_by_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_crm_customers_created_by_type"),
        ),
        sa.CheckConstraint(
            "status IN ('lead', 'active', 'inactive')", name=op.f("ck_crm_customers_status")
        ),
        sa.CheckConstraint("type IN ('company', 'person')", name=op.f("ck_crm_customers_type")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_customers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_customers")),
    )
    op.create_index(
        "ix_crm_customers_account_live",
        "crm_customers",
        ["account_id", sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_crm_customers_phones", "crm_customers", ["phones"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_crm_customers_search",
        "crm_customers",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_crm_customers_search_order",
        "crm_customers",
        [sa.text("(search_text || '') gist_trgm_ops")],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        "ix_crm_customers_tags", "crm_customers", ["tags"], unique=False, postgresql_using="gin"
    )
    op.create_table(
        "crm_groups",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_groups_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_groups")),
    )
    op.create_index(op.f("ix_crm_groups_account_id"), "crm_groups", ["account_id"], unique=False)
    op.create_index(
        "uq_crm_groups_account_name",
        "crm_groups",
        ["account_id", sa.literal_column("lower(name)")],
        unique=True,
    )
    op.create_table(
        "crm_audit_entries",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "action IN ('created', 'updated', 'deleted', 'moved_in', 'moved_out')",
            name=op.f("ck_crm_audit_entries_action"),
        ),
        sa.CheckConstraint(
            "actor_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_crm_audit_entries_actor_type"),
        ),
        sa.CheckConstraint(
            "entity_type IN ('customer', 'contact', 'mapping', 'inbox_link')",
            name=op.f("ck_crm_audit_entries_entity_type"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_audit_entries_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_crm_audit_entries_customer_id_crm_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_audit_entries")),
    )
    op.create_index(
        op.f("ix_crm_audit_entries_account_id"), "crm_audit_entries", ["account_id"], unique=False
    )
    op.create_index(
        "ix_crm_audit_entries_customer_time",
        "crm_audit_entries",
        ["customer_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_table(
        "crm_contacts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by_type", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "crm_contact_search_text(display_name, title, phone, email)", persisted=True
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "created_by_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_crm_contacts_created_by_type"),
        ),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_crm_contacts_status")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_contacts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_crm_contacts_customer_id_crm_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contacts")),
    )
    op.create_index(
        "ix_crm_contacts_account_live",
        "crm_contacts",
        ["account_id", sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_crm_contacts_account_phone",
        "crm_contacts",
        ["account_id", "phone"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_crm_contacts_customer_live",
        "crm_contacts",
        ["customer_id", sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_crm_contacts_search",
        "crm_contacts",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_crm_contacts_search_order",
        "crm_contacts",
        [sa.text("(search_text || '') gist_trgm_ops")],
        unique=False,
        postgresql_using="gist",
    )
    op.create_table(
        "crm_customer_representatives",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_customer_representatives_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_crm_customer_representatives_customer_id_crm_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_crm_customer_representatives_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_customer_representatives")),
        sa.UniqueConstraint(
            "customer_id", "user_id", name="uq_crm_customer_representatives_customer_user"
        ),
    )
    op.create_index(
        "ix_crm_customer_representatives_account_user",
        "crm_customer_representatives",
        ["account_id", "user_id"],
        unique=False,
    )
    op.create_index(
        "uq_crm_customer_representatives_primary",
        "crm_customer_representatives",
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
    )
    op.create_table(
        "crm_customer_teams",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_customer_teams_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_crm_customer_teams_customer_id_crm_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["crm_groups.id"],
            name=op.f("fk_crm_customer_teams_group_id_crm_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_customer_teams")),
        sa.UniqueConstraint("customer_id", "group_id", name="uq_crm_customer_teams_customer_group"),
    )
    op.create_index("ix_crm_customer_teams_group", "crm_customer_teams", ["group_id"], unique=False)
    op.create_index(
        "uq_crm_customer_teams_primary",
        "crm_customer_teams",
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
    )
    op.create_table(
        "crm_group_members",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_group_members_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["crm_groups.id"],
            name=op.f("fk_crm_group_members_group_id_crm_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_crm_group_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_group_members")),
        sa.UniqueConstraint("group_id", "user_id", name="uq_crm_group_members_group_user"),
    )
    op.create_index(
        "ix_crm_group_members_account_user",
        "crm_group_members",
        ["account_id", "user_id"],
        unique=False,
    )
    op.create_table(
        "crm_inbox_links",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("channel IN ('whatsapp')", name=op.f("ck_crm_inbox_links_channel")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_inbox_links_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_crm_inbox_links_customer_id_crm_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_crm_inbox_links_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_inbox_links")),
        sa.UniqueConstraint(
            "account_id", "channel", "source_id", name="uq_crm_inbox_links_account_source"
        ),
    )
    op.create_index("ix_crm_inbox_links_customer", "crm_inbox_links", ["customer_id"], unique=False)
    op.create_table(
        "crm_notes",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("author_type", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "author_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_crm_notes_author_type"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_notes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_crm_notes_customer_id_crm_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_notes")),
    )
    op.create_index(op.f("ix_crm_notes_account_id"), "crm_notes", ["account_id"], unique=False)
    op.create_index(
        "ix_crm_notes_customer_time",
        "crm_notes",
        ["customer_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "crm_chat_assignments",
        sa.Column("chat_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("remote_jid", sa.String(length=128), nullable=False),
        sa.Column("assignee_type", sa.String(length=16), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_by_type", sa.String(length=20), nullable=True),
        sa.Column("assigned_by_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(assignee_type IS NULL AND user_id IS NULL AND group_id IS NULL) OR (assignee_type = 'user' AND user_id IS NOT NULL AND group_id IS NULL) OR (assignee_type = 'group' AND group_id IS NOT NULL AND user_id IS NULL)",
            name=op.f("ck_crm_chat_assignments_assignee"),
        ),
        sa.CheckConstraint(
            "assignee_type IN ('user', 'group')", name=op.f("ck_crm_chat_assignments_assignee_type")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_chat_assignments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["wa_chats.id"],
            name=op.f("fk_crm_chat_assignments_chat_id_wa_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["crm_groups.id"],
            name=op.f("fk_crm_chat_assignments_group_id_crm_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_crm_chat_assignments_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_crm_chat_assignments_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_chat_assignments")),
        sa.UniqueConstraint("account_id", "chat_id", name="uq_crm_chat_assignments_account_chat"),
    )
    op.create_index(
        "ix_crm_chat_assignments_group",
        "crm_chat_assignments",
        ["account_id", "group_id"],
        unique=False,
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )
    op.create_index(
        "ix_crm_chat_assignments_user",
        "crm_chat_assignments",
        ["account_id", "user_id"],
        unique=False,
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )
    op.create_table(
        "crm_identities",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("created_by_type", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('whatsapp', 'instagram', 'messenger', 'external')",
            name=op.f("ck_crm_identities_channel"),
        ),
        sa.CheckConstraint(
            "created_by_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_crm_identities_created_by_type"),
        ),
        sa.CheckConstraint(
            "source IN ('manual', 'phone', 'merge', 'integration')",
            name=op.f("ck_crm_identities_source"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_identities_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["crm_contacts.id"],
            name=op.f("fk_crm_identities_contact_id_crm_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_crm_identities_customer_id_crm_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_identities")),
        sa.UniqueConstraint(
            "account_id", "channel", "scope", "value", name="uq_crm_identities_account_value"
        ),
    )
    op.create_index(
        "ix_crm_identities_account_id_desc",
        "crm_identities",
        ["account_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index("ix_crm_identities_contact", "crm_identities", ["contact_id"], unique=False)
    op.create_index("ix_crm_identities_customer", "crm_identities", ["customer_id"], unique=False)
    op.create_table(
        "crm_message_assignments",
        sa.Column("message_pk", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("remote_jid", sa.String(length=128), nullable=False),
        sa.Column("assignee_type", sa.String(length=16), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_by_type", sa.String(length=20), nullable=True),
        sa.Column("assigned_by_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(assignee_type IS NULL AND user_id IS NULL AND group_id IS NULL) OR (assignee_type = 'user' AND user_id IS NOT NULL AND group_id IS NULL) OR (assignee_type = 'group' AND group_id IS NOT NULL AND user_id IS NULL)",
            name=op.f("ck_crm_message_assignments_assignee"),
        ),
        sa.CheckConstraint(
            "assignee_type IN ('user', 'group')",
            name=op.f("ck_crm_message_assignments_assignee_type"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_message_assignments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["crm_groups.id"],
            name=op.f("fk_crm_message_assignments_group_id_crm_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_pk"],
            ["wa_messages.id"],
            name=op.f("fk_crm_message_assignments_message_pk_wa_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["wa_sessions.id"],
            name=op.f("fk_crm_message_assignments_session_id_wa_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_crm_message_assignments_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_message_assignments")),
        sa.UniqueConstraint(
            "account_id", "message_pk", name="uq_crm_message_assignments_account_message"
        ),
    )
    op.create_index(
        "ix_crm_message_assignments_chat",
        "crm_message_assignments",
        ["account_id", "session_id", "remote_jid"],
        unique=False,
    )
    op.create_table(
        "crm_tasks",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignee_user_id", sa.Uuid(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_type", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "created_by_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_crm_tasks_created_by_type"),
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_crm_tasks_priority")
        ),
        sa.CheckConstraint(
            "status IN ('todo', 'in_progress', 'done', 'canceled')",
            name=op.f("ck_crm_tasks_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_tasks_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_user_id"],
            ["users.id"],
            name=op.f("fk_crm_tasks_assignee_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["crm_contacts.id"],
            name=op.f("fk_crm_tasks_contact_id_crm_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_crm_tasks_customer_id_crm_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tasks")),
    )
    op.create_index(
        "ix_crm_tasks_account_live",
        "crm_tasks",
        ["account_id", sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_crm_tasks_assignee",
        "crm_tasks",
        ["account_id", "assignee_user_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_crm_tasks_customer_time",
        "crm_tasks",
        ["customer_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_crm_tasks_open",
        "crm_tasks",
        ["customer_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL AND status IN ('todo', 'in_progress')"),
    )
    op.create_table(
        "crm_comments",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("mentions", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("author_type", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "author_type IN ('user', 'api_account', 'system', 'ai')",
            name=op.f("ck_crm_comments_author_type"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_comments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["crm_customers.id"],
            name=op.f("fk_crm_comments_customer_id_crm_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["crm_tasks.id"],
            name=op.f("fk_crm_comments_task_id_crm_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_comments")),
    )
    op.create_index(
        op.f("ix_crm_comments_account_id"), "crm_comments", ["account_id"], unique=False
    )
    op.create_index(
        "ix_crm_comments_customer_time",
        "crm_comments",
        ["customer_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_crm_comments_task",
        "crm_comments",
        ["task_id", sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "crm_task_checklist_items",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_task_checklist_items_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["crm_tasks.id"],
            name=op.f("fk_crm_task_checklist_items_task_id_crm_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_task_checklist_items")),
    )
    op.create_index(
        op.f("ix_crm_task_checklist_items_account_id"),
        "crm_task_checklist_items",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        "ix_crm_task_checklist_items_task",
        "crm_task_checklist_items",
        ["task_id", "position"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "crm_task_watchers",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_task_watchers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["crm_tasks.id"],
            name=op.f("fk_crm_task_watchers_task_id_crm_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_crm_task_watchers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_task_watchers")),
        sa.UniqueConstraint("task_id", "user_id", name="uq_crm_task_watchers_task_user"),
    )
    op.create_index(
        "ix_crm_task_watchers_account_user",
        "crm_task_watchers",
        ["account_id", "user_id"],
        unique=False,
    )
    op.add_column("accounts", sa.Column("default_phone_region", sa.String(length=2), nullable=True))
    op.create_index(
        "ix_wa_chats_alt_jid",
        "wa_chats",
        ["alt_jid"],
        unique=False,
        postgresql_where=sa.text("alt_jid IS NOT NULL"),
    )
    op.create_index(
        "ix_wa_messages_session_time",
        "wa_messages",
        ["session_id", sa.literal_column("source_timestamp DESC"), sa.literal_column("id DESC")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_wa_messages_session_time", table_name="wa_messages")
    op.drop_index(
        "ix_wa_chats_alt_jid",
        table_name="wa_chats",
        postgresql_where=sa.text("alt_jid IS NOT NULL"),
    )
    op.drop_column("accounts", "default_phone_region")
    op.drop_index("ix_crm_task_watchers_account_user", table_name="crm_task_watchers")
    op.drop_table("crm_task_watchers")
    op.drop_index(
        "ix_crm_task_checklist_items_task",
        table_name="crm_task_checklist_items",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        op.f("ix_crm_task_checklist_items_account_id"), table_name="crm_task_checklist_items"
    )
    op.drop_table("crm_task_checklist_items")
    op.drop_index(
        "ix_crm_comments_task",
        table_name="crm_comments",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_crm_comments_customer_time",
        table_name="crm_comments",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(op.f("ix_crm_comments_account_id"), table_name="crm_comments")
    op.drop_table("crm_comments")
    op.drop_index(
        "ix_crm_tasks_open",
        table_name="crm_tasks",
        postgresql_where=sa.text("deleted_at IS NULL AND status IN ('todo', 'in_progress')"),
    )
    op.drop_index(
        "ix_crm_tasks_customer_time",
        table_name="crm_tasks",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_crm_tasks_assignee",
        table_name="crm_tasks",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_crm_tasks_account_live",
        table_name="crm_tasks",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("crm_tasks")
    op.drop_index("ix_crm_message_assignments_chat", table_name="crm_message_assignments")
    op.drop_table("crm_message_assignments")
    op.drop_index("ix_crm_identities_customer", table_name="crm_identities")
    op.drop_index("ix_crm_identities_contact", table_name="crm_identities")
    op.drop_index("ix_crm_identities_account_id_desc", table_name="crm_identities")
    op.drop_table("crm_identities")
    op.drop_index(
        "ix_crm_chat_assignments_user",
        table_name="crm_chat_assignments",
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_crm_chat_assignments_group",
        table_name="crm_chat_assignments",
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )
    op.drop_table("crm_chat_assignments")
    op.drop_index(
        "ix_crm_notes_customer_time",
        table_name="crm_notes",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(op.f("ix_crm_notes_account_id"), table_name="crm_notes")
    op.drop_table("crm_notes")
    op.drop_index("ix_crm_inbox_links_customer", table_name="crm_inbox_links")
    op.drop_table("crm_inbox_links")
    op.drop_index("ix_crm_group_members_account_user", table_name="crm_group_members")
    op.drop_table("crm_group_members")
    op.drop_index(
        "uq_crm_customer_teams_primary",
        table_name="crm_customer_teams",
        postgresql_where=sa.text("is_primary"),
    )
    op.drop_index("ix_crm_customer_teams_group", table_name="crm_customer_teams")
    op.drop_table("crm_customer_teams")
    op.drop_index(
        "uq_crm_customer_representatives_primary",
        table_name="crm_customer_representatives",
        postgresql_where=sa.text("is_primary"),
    )
    op.drop_index(
        "ix_crm_customer_representatives_account_user", table_name="crm_customer_representatives"
    )
    op.drop_table("crm_customer_representatives")
    op.drop_index("ix_crm_contacts_search_order", table_name="crm_contacts")
    op.drop_index(
        "ix_crm_contacts_search",
        table_name="crm_contacts",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index(
        "ix_crm_contacts_customer_live",
        table_name="crm_contacts",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_crm_contacts_account_phone",
        table_name="crm_contacts",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_crm_contacts_account_live",
        table_name="crm_contacts",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("crm_contacts")
    op.drop_index("ix_crm_audit_entries_customer_time", table_name="crm_audit_entries")
    op.drop_index(op.f("ix_crm_audit_entries_account_id"), table_name="crm_audit_entries")
    op.drop_table("crm_audit_entries")
    op.drop_index("uq_crm_groups_account_name", table_name="crm_groups")
    op.drop_index(op.f("ix_crm_groups_account_id"), table_name="crm_groups")
    op.drop_table("crm_groups")
    op.drop_index("ix_crm_customers_tags", table_name="crm_customers", postgresql_using="gin")
    op.drop_index("ix_crm_customers_search_order", table_name="crm_customers")
    op.drop_index(
        "ix_crm_customers_search",
        table_name="crm_customers",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_crm_customers_phones", table_name="crm_customers", postgresql_using="gin")
    op.drop_index(
        "ix_crm_customers_account_live",
        table_name="crm_customers",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("crm_customers")
    op.drop_index("ix_crm_assignment_history_chat", table_name="crm_assignment_history")
    op.drop_index("ix_crm_assignment_history_account_id_desc", table_name="crm_assignment_history")
    op.drop_table("crm_assignment_history")
    op.execute("DROP FUNCTION crm_contact_search_text(text, text, text, text)")
    op.execute("DROP FUNCTION crm_customer_search_text(text, text, text, text[], text[])")
    op.execute("DROP FUNCTION crm_fold(text)")
