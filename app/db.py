"""Engine and request-scoped session (SQLModel on SQLAlchemy 2).

One session per request (or CLI command); the route commits once. E-mails queued
during the request leave from the ``after_commit`` hook in ``app.mail``.
"""
from datetime import datetime, timezone

from flask import current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine


def utcnow() -> datetime:
    """Aware UTC: every stored time is UTC; pages convert to Europe/Berlin."""
    return datetime.now(timezone.utc)


# Execution option for connections that only read: on SQLite they begin without the write lock.
READ_ONLY = "fk_read_only"


def make_engine(url: str, echo: bool = False):
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)
    return engine


def _configure_sqlite(engine):
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy issue BEGIN itself (below) instead of pysqlite's implicit one.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Nearly every request writes (the audit trail records views), and the audit
        # chain must read its last hash under the write lock: take it up front.
        # A reader that never writes (the health check) must not queue for that lock.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app):
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(
        bind=engine, class_=Session, expire_on_commit=False
    )
    app.teardown_appcontext(_close_session)


def engine():
    return current_app.extensions["db_engine"]


def new_session() -> Session:
    return current_app.extensions["db_sessionmaker"]()


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


class _SessionProxy:
    """``db.session`` reads as the current request's session."""

    def __getattr__(self, name):
        return getattr(get_session(), name)


session = _SessionProxy()


def _close_session(_exc=None):
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


def is_sqlite() -> bool:
    return has_app_context() and engine().dialect.name == "sqlite"
