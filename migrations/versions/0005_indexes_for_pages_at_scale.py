"""indexes for the pages at scale: case list orders and filters, start pages, team overview

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN_MEASURE = sa.text("status IN ('agreed', 'in_progress')")


def upgrade():
    op.create_index("ix_case_file_team_created", "case_file", ["team_id", "created_at", "id"])
    op.create_index(
        "ix_case_file_team_status_district", "case_file", ["team_id", "status", "district_id", "created_at"]
    )
    op.create_index("ix_case_file_team_status_caseworker", "case_file", ["team_id", "status", "caseworker_id"])
    op.create_index("ix_case_file_team_status_pseudonym", "case_file", ["team_id", "status", "pseudonym"])
    op.create_index(
        "ix_conference_organiser_status_starts", "conference", ["organiser_id", "status", "starts_at", "case_id"]
    )
    # Two indexes gain the case, so that counts need no table rows.
    op.drop_index("ix_conference_status_starts", table_name="conference")
    op.create_index("ix_conference_status_starts", "conference", ["status", "starts_at", "id", "case_id"])
    op.drop_index("ix_measure_status_due", table_name="measure")
    op.create_index("ix_measure_status_due", "measure", ["status", "due_on", "case_id"])
    op.create_index(
        "ix_measure_open_due", "measure", ["due_on", "id"], sqlite_where=OPEN_MEASURE, postgresql_where=OPEN_MEASURE
    )
    op.create_index(
        "ix_measure_open_agency_due",
        "measure",
        ["responsible_agency_id", "due_on", "id"],
        sqlite_where=OPEN_MEASURE,
        postgresql_where=OPEN_MEASURE,
    )


def downgrade():
    op.drop_index("ix_measure_open_agency_due", table_name="measure")
    op.drop_index("ix_measure_open_due", table_name="measure")
    op.drop_index("ix_measure_status_due", table_name="measure")
    op.create_index("ix_measure_status_due", "measure", ["status", "due_on"])
    op.drop_index("ix_conference_status_starts", table_name="conference")
    op.create_index("ix_conference_status_starts", "conference", ["status", "starts_at"])
    op.drop_index("ix_conference_organiser_status_starts", table_name="conference")
    op.drop_index("ix_case_file_team_status_pseudonym", table_name="case_file")
    op.drop_index("ix_case_file_team_status_caseworker", table_name="case_file")
    op.drop_index("ix_case_file_team_status_district", table_name="case_file")
    op.drop_index("ix_case_file_team_created", table_name="case_file")
