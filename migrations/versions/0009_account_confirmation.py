"""four eyes for staff accounts (the confirmed flag, the proposed account changes); password-reset requests per address

Revision ID: 0009
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # Accounts that exist already were made before the rule: they count as confirmed.
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "account_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("confirming_team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        # Written out, not imported from the models: a migration stays what it was when it ran.
        sa.CheckConstraint("kind IN ('create', 'update')", name="ck_account_change_kind"),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'refused', 'superseded')", name="ck_account_change_status"
        ),
        sa.CheckConstraint("role IN ('admin', 'team_lead', 'caseworker', 'partner')", name="ck_account_change_role"),
    )
    op.create_index("ix_account_change_user_id", "account_change", ["user_id"])
    op.create_index("ix_account_change_confirming_team_id", "account_change", ["confirming_team_id"])
    op.create_index("ix_account_change_status", "account_change", ["status"])
    op.create_table(
        "reset_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reset_request_key", "reset_request", ["key"])
    op.create_index("ix_reset_request_at", "reset_request", ["at"])


def downgrade():
    op.drop_index("ix_reset_request_at", table_name="reset_request")
    op.drop_index("ix_reset_request_key", table_name="reset_request")
    op.drop_table("reset_request")
    op.drop_index("ix_account_change_status", table_name="account_change")
    op.drop_index("ix_account_change_confirming_team_id", table_name="account_change")
    op.drop_index("ix_account_change_user_id", table_name="account_change")
    op.drop_table("account_change")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("confirmed")
