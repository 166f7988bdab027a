"""The Alembic revisions build exactly the schema the models declare, on both databases."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app.models import metadata


def _fresh_url(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    # A separate database on the same throwaway server.
    admin = create_engine(database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS fk_migrated"))
        conn.execute(text("CREATE DATABASE fk_migrated"))
    admin.dispose()
    return database_url.rsplit("/", 1)[0] + "/fk_migrated"


def test_upgrade_head_matches_models_and_seeds_districts(database_url, tmp_path):
    url = _fresh_url(database_url, tmp_path)
    engine = create_engine(url)
    cfg = Config("alembic.ini")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == [], diff
        names = {r[0] for r in conn.execute(text("SELECT name FROM district"))}
    assert {"Innenstadt", "Bürgel", "Kaiserlei", "Buchhügel"} <= names
    assert set(inspect(engine).get_table_names()) >= {t.name for t in metadata.sorted_tables}
    engine.dispose()
