"""Snapshots of the database, to prove that a request changed nothing."""

from sqlalchemy import select

from app import db
from app.models import metadata

# Tables a mere visit may write: the audit trail records refusals and views, and the
# session record keeps its idle clock.
VISIT_TABLES = frozenset({"audit_entry", "user_session"})


def snapshot(app, exclude=VISIT_TABLES) -> dict[str, list[tuple]]:
    """Every row of every table (but ``exclude``), in a comparable form."""
    # On the connection of the app's sessions, not one of its own: under rollback isolation
    # (tests/conftest.py) the test's rows are visible only there. Core, not ORM: this runs
    # twice in most cells of the access and CSRF matrices.
    with app.app_context():
        s = db.new_session()
        try:
            conn = s.connection()
            return {
                table.name: sorted(
                    (tuple(repr(v) for v in row) for row in conn.execute(select(table))),
                )
                for table in metadata.sorted_tables
                if table.name not in exclude
            }
        finally:
            s.close()


def differences(before: dict, after: dict) -> list[str]:
    """Names of the tables whose rows differ, for a readable assertion message."""
    return [name for name in before if before[name] != after.get(name)]


def scalars(session, stmt) -> list:
    """Run a query on a test's own session, fresh from the database, and end the transaction.

    On SQLite every transaction begins with the write lock (BEGIN IMMEDIATE): one left
    open by the test would block the next request.
    """
    try:
        return session.execute(stmt.execution_options(populate_existing=True)).scalars().all()
    finally:
        session.commit()
