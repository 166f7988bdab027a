"""the minutes' agreed next date; persons present at a conference (agency staff, interpreter, support)

Revision ID: 0012
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("minutes") as batch:
        batch.add_column(sa.Column("next_date", sa.Date(), nullable=True))
    op.create_table(
        "attending_person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conference_id", sa.Integer(), sa.ForeignKey("conference.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=14), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        # Written out, not imported from the models: a migration stays what it was when it ran.
        sa.CheckConstraint("kind IN ('agency_staff', 'interpreter', 'support')", name="ck_attending_person_kind"),
    )
    op.create_index("ix_attending_person_conference_id", "attending_person", ["conference_id"])


def downgrade():
    op.drop_index("ix_attending_person_conference_id", table_name="attending_person")
    op.drop_table("attending_person")
    with op.batch_alter_table("minutes") as batch:
        batch.drop_column("next_date")
