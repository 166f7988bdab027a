"""Engine and request-scoped session (SQLModel on SQLAlchemy 2).

One session per request (or CLI command); the route commits once. E-mails queued
during the request leave from the ``after_commit`` hook in ``app.mail``.
"""

import os
from dataclasses import dataclass

from flask import abort, current_app, g, has_request_context, request
from sqlalchemy import CheckConstraint, event, exc, literal_column, make_url, select
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine


def make_engine(url: str, echo: bool = False):
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        _recycle_read_only_connections(engine, sqlite_path(url))
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
        # Requests that change data take the write lock up front (BEGIN IMMEDIATE): they
        # read, then write on what they read. Page views (GET, and the health check) begin
        # without it, so that pages are read side by side; they take it at their first
        # write (below).
        deferred = _page_view()
        conn.info[_DEFERRED] = deferred
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn, _cursor, statement, *_args):
        if conn.info.get(_DEFERRED) and statement.lstrip()[:9].upper().startswith(_WRITES):
            take_write_lock(conn)


def sqlite_path(url) -> str | None:
    """The database file of a SQLite URL (None for an in-memory database)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database)


def sqlite_error_name(err) -> str:
    """``SQLITE_READONLY`` etc. of a driver error (wrapped by SQLAlchemy or not), else ""."""
    orig = getattr(err, "orig", err)
    return getattr(orig, "sqlite_errorname", "") or ""


_OPENED_READ_ONLY = "fk_opened_read_only"


def _recycle_read_only_connections(engine, path):
    """A SQLite connection opened while the file was not writable stays read-only for good,
    even after the file is writable again (issue 11). Such connections are replaced:

    - at checkout, when the connection was opened read-only and the file is writable now;
    - after any SQLITE_READONLY error: it counts as a lost connection, so the pool drops it
      (and the others of that time) and the next request connects anew.
    """
    if path is None:
        return

    @event.listens_for(engine, "connect")
    def _note_read_only(_dbapi_conn, record):
        record.info[_OPENED_READ_ONLY] = os.path.exists(path) and not os.access(path, os.W_OK)

    @event.listens_for(engine, "checkout")
    def _replace_if_writable_now(_dbapi_conn, record, _proxy):
        if record.info.get(_OPENED_READ_ONLY) and os.access(path, os.W_OK):
            raise exc.DisconnectionError("opened read-only; the file is writable again")

    @event.listens_for(engine, "handle_error")
    def _drop_on_read_only(context):
        if sqlite_error_name(context.original_exception).startswith("SQLITE_READONLY"):
            context.is_disconnect = True


# Set per transaction in the connection's info: it began without SQLite's write lock.
_DEFERRED = "fk_deferred"
# A savepoint is taken to write under it, and would not survive the restart.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


def _page_view() -> bool:
    """GET and HEAD, and requests to views marked ``reads_first``: they begin without SQLite's
    write lock."""
    if not has_request_context():
        return False
    if request.method in ("GET", "HEAD"):
        return True
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "reads_first", False))


def reads_first(view):
    """Mark a view that does slow reading (rendering a PDF) before it writes: its transactions
    begin without SQLite's write lock; its services take it with ``lock_for_write`` when they
    start to write."""
    view.reads_first = True
    return view


def lock_for_write(session) -> None:
    """Hold the write lock from here on (SQLite; a no-op on PostgreSQL and where it is held),
    before reading what a write depends on."""
    take_write_lock(session.connection())


def take_write_lock(conn) -> None:
    """SQLite: turn a transaction that began without the write lock into one that holds it.

    A reading transaction cannot simply start writing: once another connection has
    committed since it began, SQLite refuses at once (SQLITE_BUSY_SNAPSHOT, no waiting).
    So it starts again under the lock, on the newest data. It has written nothing yet,
    and what a page view writes (the audit entry of the view, the session clock) does not
    depend on the older snapshot it was read from. The audit chain calls this before it
    reads its last hash. No-op on PostgreSQL and in transactions that hold the lock.
    """
    if conn.info.get(_DEFERRED):
        conn.info[_DEFERRED] = False
        raw = conn.connection.dbapi_connection
        raw.execute("ROLLBACK")
        raw.execute("BEGIN IMMEDIATE")


def insert(session, model):
    """INSERT with the dialect's ON CONFLICT clauses (``on_conflict_do_nothing``)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model)


def probe(*conditions):
    """``EXISTS (SELECT 1 … WHERE conditions)``, checked for each row as the outer query walks its
    index in order.

    PostgreSQL would otherwise turn an EXISTS into a join against every candidate at once
    (all of the city's planned conferences, every overdue measure), because its row estimates
    for correlated conditions are far too small ("planned" and "not yet over" are treated as
    independent: it expects 50 where there are 2,800). Read whole, such a join grows with the
    city's history, and LIMIT stops nothing. ``OFFSET 0`` keeps the subquery as it is written
    (PostgreSQL does not flatten a subquery with an OFFSET), so each row costs one index probe
    and a page of 25 stops after a few dozen. It selects a constant, so that an index holding
    the conditions' columns answers it alone. SQLite checks an EXISTS row by row anyway.
    """
    return select(literal_column("1")).where(*conditions).offset(0).exists()


def one_of(column: str, values, name: str) -> CheckConstraint:
    """A CHECK that ``column`` holds one of ``values`` (an enum's members) or NULL."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def init_app(app):
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    app.extensions["db_engine"] = engine
    from app import high_water

    # Every session knows the deployment's pseudonym high-water file (app/high_water.py).
    maker = sessionmaker(
        bind=engine,
        class_=Session,
        expire_on_commit=False,
        info={high_water.SESSION_KEY: app.config.get("PSEUDONYM_HIGH_WATER") or None},
    )
    event.listen(maker, "after_flush", _note_flush)
    event.listen(maker, "do_orm_execute", _note_statement)
    event.listen(maker, "after_commit", _forget_writes)
    event.listen(maker, "after_rollback", _forget_writes)
    app.extensions["db_sessionmaker"] = maker
    app.teardown_appcontext(_close_session)


# The tables the open transaction has written to (by a flush or an INSERT/UPDATE/DELETE
# statement): what the end of a request would lose or commit.
_WRITTEN = "fk_written"


def _note_flush(session, _context):
    # Still the state before the flush: these objects were just written.
    session.info.setdefault(_WRITTEN, set()).update(
        _table_of(obj) for obj in (*session.new, *session.dirty, *session.deleted)
    )


def _note_statement(state):
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        state.session.info.setdefault(_WRITTEN, set()).add(getattr(table, "name", "?"))


def _forget_writes(session, *_args):
    session.info.pop(_WRITTEN, None)


def _table_of(obj) -> str:
    return getattr(obj, "__tablename__", type(obj).__name__)


def uncommitted_tables(session) -> set[str]:
    """Tables with changes not yet committed: pending in the session, or already written."""
    pending = {_table_of(obj) for obj in (*session.new, *session.dirty, *session.deleted)}
    return pending | session.info.get(_WRITTEN, set())


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


# The deepest page a list serves: deeper requests get this page (empty when the list is
# shorter), never an OFFSET beyond the database's integers.
MAX_PAGE = 10_000


def requested_page(name: str = "seite") -> int:
    """The page number in the query string's ``name``: 1 when missing or not a number,
    clamped to 1…MAX_PAGE (``?seite=99999999999999999999`` is page MAX_PAGE, not an error)."""
    number = request.args.get(name, 1, type=int)
    return min(max(number or 1, 1), MAX_PAGE)


@dataclass
class Page:
    items: list
    number: int
    has_next: bool


def paginate(session, stmt, number: int, size: int) -> Page:
    """One query per list: fetch one row more than the page to learn whether another follows."""
    number = min(max(number or 1, 1), MAX_PAGE)
    rows = session.execute(stmt.offset((number - 1) * size).limit(size + 1)).all()
    return Page(rows[:size], number, len(rows) > size)


def get_or_404(model, obj_id):
    """The row with this id, or a 404 answer: for routes, before the policy decides on the row."""
    obj = session.get(model, obj_id)
    if obj is None:
        abort(404)
    return obj
