"""Alembic environment: the database comes from the application's configuration."""

from alembic import context

from app import create_app, db
from app.models import metadata

config = context.config


def run_migrations_online():
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    app = create_app()
    with app.app_context(), db.engine().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode copies a table and drops the original, which other tables reference:
            # foreign keys are checked once at the end instead (the pragma is a no-op inside
            # a transaction, so it is set on the driver's connection before one begins).
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        _run(connection)
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
        connection.commit()
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _run(connection):
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
