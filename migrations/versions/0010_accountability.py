"""accountability: the role "controlling" (Steuerung); e-mails carry the case they are about, cases when
their content was deleted (retention)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Written out, not imported from the models: a migration stays what it was when it ran.
ROLES_BEFORE = ("admin", "team_lead", "caseworker", "partner")
ROLES_AFTER = (*ROLES_BEFORE, "controlling")
ROLE_CHECKS = (("user_account", "ck_user_account_role"), ("account_change", "ck_account_change_role"))


def _condition(values) -> str:
    return f"role IN ({', '.join(repr(v) for v in values)})"


def _set_roles(values) -> None:
    # On SQLite each table is copied once (batch mode); its indexes are recreated.
    for table, name in ROLE_CHECKS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, _condition(values))


def upgrade():
    _set_roles(ROLES_AFTER)
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
    op.create_index("ix_outbox_message_case_id", "outbox_message", ["case_id"])
    with op.batch_alter_table("case_file") as batch:
        batch.add_column(sa.Column("content_deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("case_file") as batch:
        batch.drop_column("content_deleted_at")
    op.drop_index("ix_outbox_message_case_id", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("case_id")
    # No role of the older schema fits a Steuerung account: such accounts must go first.
    bind = op.get_bind()
    for table, _name in ROLE_CHECKS:
        if bind.execute(sa.text(f"SELECT 1 FROM {table} WHERE role = 'controlling'")).first():
            raise RuntimeError(f"{table} holds rows with the role 'controlling': remove them before the downgrade.")
    _set_roles(ROLES_BEFORE)
