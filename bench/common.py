"""Shared pieces of the benchmarks: a database to run on, and printing results."""

import os
import statistics
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Built SQLite files, kept between runs; FK_BENCH_CACHE gives a folder of one's own (a file
# built from another checkout may carry other migrations).
CACHE = Path(os.environ.get("FK_BENCH_CACHE", "/tmp/fk-bench"))
sys.path.insert(0, str(ROOT))


@contextmanager
def database(kind: str, sqlite_path: Path, pg_server: str | None = None, name: str = "fallkonferenz_bench"):
    """Yield a database URL: an SQLite file, or a throwaway PostgreSQL server (tests/pg.py).

    With ``pg_server`` (a running server's URL without a database, e.g. from
    ``python -m tests.pg``) the database ``name`` on it is used and kept: a benchmark run
    again finds it built (``is_built``) and does not spend minutes building it anew.
    """
    if kind == "postgres" and pg_server:
        url = f"{pg_server.rstrip('/')}/{name}"
        if not database_exists(pg_server, name):
            from tests.pg import create_database

            create_database(pg_server.rstrip("/"), name)
        yield url
    elif kind == "postgres":
        from tests.pg import ThrowawayPostgres

        pg = ThrowawayPostgres()
        try:
            yield pg.start()
        finally:
            pg.stop()
    else:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{sqlite_path}"


def database_exists(pg_server: str, name: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{pg_server.rstrip('/')}/postgres")
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None
    finally:
        engine.dispose()


def is_built(url: str) -> bool:
    """The database holds the generated cases (a build that ended half-way holds no marker)."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        if not inspect(engine).has_table("bench_built"):
            return False
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM bench_built")).scalar() > 0
    finally:
        engine.dispose()


def copy_of_built(pg_server: str, source: str, target: str) -> str | None:
    """A fresh copy of the built database ``source`` on the server as ``target`` (CREATE DATABASE
    … TEMPLATE: seconds instead of the minutes of a build), migrated to head; None when
    ``source`` is not built there."""
    from sqlalchemy import create_engine, text

    server = pg_server.rstrip("/")
    if not (database_exists(server, source) and is_built(f"{server}/{source}")):
        return None
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target}"'))
        conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    admin.dispose()
    url = f"{server}/{target}"
    migrate(url)
    return url


def mark_built(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_built (done integer)"))
        conn.execute(text("INSERT INTO bench_built VALUES (1)"))
    engine.dispose()


def migrate(url: str):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    engine = create_engine(url)
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    engine.dispose()


def percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values):
    return statistics.median(values)


def machine() -> str:
    import platform

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
    )
