"""the team's conference list and week view in start order: an index on the start time

Revision ID: 0013
Revises: 0009
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_conference_starts_case", "conference", ["starts_at", "id", "case_id"])


def downgrade():
    op.drop_index("ix_conference_starts_case", table_name="conference")
