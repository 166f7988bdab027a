"""start pages and team overview at scale on PostgreSQL: the conference index carries the end

Revision ID: 0014
Revises: 0009

The start pages list planned conferences that are not over yet, in start order, and stop
after a page. With the end in the index, "not over yet" is checked in the index as the list
walks it, so no conference is read from the table only to be skipped. The queries check each
conference for the team, the agency's invitation and its consent one by one (``db.probe``):
PostgreSQL's estimates for "planned" and "not yet over" together are far too small (they are
treated as independent), so as joins it read every planned conference of the city before it
could stop. Extended statistics (CREATE STATISTICS) cannot describe that correlation: it is
with a range of times, not with values; none are created.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD = ["status", "starts_at", "id", "case_id"]
NEW = [*OLD, "ends_at"]


def upgrade():
    with op.batch_alter_table("conference") as batch:
        batch.drop_index("ix_conference_status_starts")
        batch.create_index("ix_conference_status_starts", NEW)
        # "Has this case a planned conference ahead?", asked for each open case on the start page.
        batch.create_index("ix_conference_case_status_starts", ["case_id", "status", "starts_at"])


def downgrade():
    with op.batch_alter_table("conference") as batch:
        batch.drop_index("ix_conference_case_status_starts")
        batch.drop_index("ix_conference_status_starts")
        batch.create_index("ix_conference_status_starts", OLD)
