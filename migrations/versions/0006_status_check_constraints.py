"""statuses and kinds: CHECK constraints naming the values the application knows

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out, not imported from the models: a migration stays what it was when it ran.
CHECKS = {
    "user_account": [("ck_user_account_role", "role", ("admin", "team_lead", "caseworker", "partner"))],
    "agency": [
        ("ck_agency_type", "type", ("education", "health", "counselling", "youth", "neighbourhood_office", "other"))
    ],
    "location": [
        ("ck_location_kind", "kind", ("jobcenter_room", "neighbourhood_office", "partner_premises", "online"))
    ],
    "case_file": [
        ("ck_case_file_status", "status", ("open", "closed")),
        ("ck_case_file_close_reason", "close_reason", ("work", "training", "moved", "not_eligible", "other")),
    ],
    "conference": [("ck_conference_status", "status", ("planned", "held", "closed", "cancelled"))],
    "invitation": [
        ("ck_invitation_status", "status", ("pending", "accepted", "declined", "cancelled")),
        ("ck_invitation_attendance", "attendance", ("present", "excused", "absent")),
    ],
    "note": [("ck_note_visibility", "visibility", ("shared", "jobcenter"))],
    "measure": [
        ("ck_measure_status", "status", ("agreed", "in_progress", "done", "not_done")),
        ("ck_measure_responsible_kind", "responsible_kind", ("agency", "jobcenter", "person")),
    ],
    "minutes": [("ck_minutes_status", "status", ("draft", "final", "replaced"))],
}


def _condition(column, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    # On SQLite each table is copied once (batch mode); its indexes, partial ones included, are recreated.
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, column, values in checks:
                batch.create_check_constraint(name, _condition(column, values))


def downgrade():
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, _column, _values in checks:
                batch.drop_constraint(name, type_="check")
