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
    with app.app_context():
        with db.engine().connect() as connection:
            _run(connection)
            connection.commit()


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
