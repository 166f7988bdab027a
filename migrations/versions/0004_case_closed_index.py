"""index for cases closed per team and period

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_case_file_team_status_closed", "case_file", ["team_id", "status", "closed_at"])


def downgrade():
    op.drop_index("ix_case_file_team_status_closed", table_name="case_file")
