"""The health check behind ``/healthz``: can this worker write what it must write?

A load balancer or systemd calls it every few seconds, so it writes nothing that stays
and holds SQLite's write lock for microseconds only (never waits for it: a lock held by
another writer proves the file takes writes). It answers a reason code:

- ``database_unavailable``: no connection, or the probe failed otherwise;
- ``database_missing``: the SQLite file is gone (renamed, deleted): new connections would
  create an empty one;
- ``database_read_only``: the file, its folder or the connection is read-only; PostgreSQL
  in recovery (a standby) or in a read-only transaction;
- ``outbox_not_writable``: the folder for e-mail files (without ``MAIL_SERVER``);
- ``storage_not_writable``: the instance folder (pseudonym high-water mark, lock file).

Logs name the error type and the SQLite/PostgreSQL error code, never the driver's text.
"""

import logging
import os
import sqlite3
import uuid

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import db
from app.errors import describe, error_code

log = logging.getLogger(__name__)


def check(app) -> str | None:
    """None when healthy, else the reason code."""
    engine = app.extensions["db_engine"]
    if engine.dialect.name == "sqlite":
        reason = _sqlite(engine, db.sqlite_path(app.config["DATABASE_URL"]))
    else:
        reason = _postgres(engine)
    if reason:
        return reason
    folders = [("storage_not_writable", app.instance_path)]
    if not app.config.get("MAIL_SERVER"):
        folders.append(("outbox_not_writable", app.config["MAIL_OUTBOX"]))
    for code, folder in folders:
        if not _writable(folder):
            log.warning("Health check: %s", code)
            return code
    return None


def _fail(reason: str, err) -> str:
    log.warning("Health check: %s (%s)", reason, describe(err))
    return reason


def _sqlite(engine, path) -> str | None:
    if path is not None:
        if not os.path.exists(path):
            log.warning("Health check: database_missing")
            return "database_missing"
        if not (os.access(path, os.W_OK) and os.access(os.path.dirname(path), os.W_OK)):
            log.warning("Health check: database_read_only (file or folder)")
            return "database_read_only"
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            raw.execute("PRAGMA busy_timeout=0")
            try:
                try:
                    raw.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as err:
                    if db.sqlite_error_name(err).startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                        return None  # another connection writes right now: the file takes writes
                    raise
                try:
                    # A write that changes nothing and is rolled back: SQLite refuses it on
                    # a read-only connection (BEGIN IMMEDIATE alone does not).
                    version = int(raw.execute("PRAGMA user_version").fetchone()[0])
                    raw.execute(f"PRAGMA user_version = {version}")
                finally:
                    raw.execute("ROLLBACK")
            except sqlite3.Error as err:
                if db.sqlite_error_name(err).startswith("SQLITE_READONLY"):
                    conn.invalidate()  # opened read-only: the next one connects anew (app.db)
                    return _fail("database_read_only", err)
                raise
            finally:
                if not conn.invalidated:
                    raw.execute("PRAGMA busy_timeout=30000")
    except (SQLAlchemyError, sqlite3.Error) as err:
        return _fail("database_unavailable", err)
    return None


def _postgres(engine) -> str | None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '1s'"))
            conn.execute(text("SET LOCAL statement_timeout = '2s'"))
            if conn.execute(text("SELECT pg_is_in_recovery()")).scalar():
                log.warning("Health check: database_read_only (in recovery)")
                return "database_read_only"
            # A write that changes nothing, rolled back: refused in a read-only transaction.
            conn.execute(text("DELETE FROM outbox_message WHERE false"))
            conn.rollback()
    except SQLAlchemyError as err:
        if error_code(err) == "25006":  # read_only_sql_transaction
            return _fail("database_read_only", err)
        return _fail("database_unavailable", err)
    return None


def _writable(folder) -> bool:
    """Create, write and remove a small file: also fails on a full disk."""
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, f".healthz-{uuid.uuid4().hex}")
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\0" * 4096)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError:
        return False
    return True
