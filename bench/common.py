"""Shared pieces of the benchmarks: a database to run on, and printing results."""

import os
import statistics
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def database(kind: str, sqlite_path: Path):
    """Yield a database URL: an SQLite file, or a throwaway PostgreSQL server (tests/pg.py)."""
    if kind == "postgres":
        from tests.pg import ThrowawayPostgres

        pg = ThrowawayPostgres()
        try:
            yield pg.start()
        finally:
            pg.stop()
    else:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{sqlite_path}"


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
