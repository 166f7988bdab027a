"""The health check for load balancers: no log-in, no session, no write, 503 when the database is gone."""

import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from app import create_app, db
from app.accounts.models import UserSession
from app.agencies.models import District
from app.audit import AuditEntry
from app.clock import utcnow
from tests.conftest import login_as


def _audit_count(session):
    return session.execute(select(func.count()).select_from(AuditEntry)).scalar()


def test_healthz_answers_without_log_in_cookie_or_audit_entry(client, session):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.is_json and r.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in r.headers
    assert r.headers["Cache-Control"] == "no-store"
    assert _audit_count(session) == 0


def test_healthz_leaves_a_logged_in_session_untouched(app, client, session, factory):
    user = factory.user("caseworker")
    login_as(client, app, user)
    five_minutes_ago = utcnow() - timedelta(minutes=5)
    session.execute(update(UserSession).values(last_seen_at=five_minutes_ago))
    session.commit()
    before = _audit_count(session)

    r = client.get("/healthz")

    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers
    session.expire_all()
    seen = session.execute(select(UserSession.last_seen_at)).scalar_one()
    # A page view would move the idle clock (older than a minute); the health check must not.
    assert abs((seen.replace(tzinfo=None) - five_minutes_ago.replace(tzinfo=None)).total_seconds()) < 1
    assert _audit_count(session) == before


@pytest.mark.committed
def test_healthz_does_not_wait_for_a_writer(app, client):
    """A long write elsewhere (SQLite: the write lock) must not hold up the balancer's check."""
    with app.app_context(), db.engine().connect() as writer:
        writer.execute(insert(District).values(name="Schreibt gerade"))  # transaction left open
        r = client.get("/healthz")
        writer.rollback()
    assert r.status_code == 200


def _unreachable_url(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite'}"
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/none?connect_timeout=2"


def test_healthz_answers_503_json_when_the_database_is_unreachable(database_url, tmp_path):
    broken = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": _unreachable_url(database_url, tmp_path)},
        instance_path=str(tmp_path / "instance"),
    )
    r = broken.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.is_json and r.get_json()["status"] == "error"
    assert "Set-Cookie" not in r.headers


# --- issue 11: an honest health check ------------------------------------------------


def _own_app(tmp_path, **config):
    """An application on its own SQLite file (or the test PostgreSQL) with its own folders."""
    from app.models import metadata

    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "MAIL_SERVER": None,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'own.sqlite'}",
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    cfg.update(config)
    own = create_app(cfg, instance_path=str(tmp_path / "instance"))
    with own.app_context():
        metadata.create_all(db.engine())
    return own


def _health(app):
    r = app.test_client().get("/healthz")
    assert r.is_json and "Set-Cookie" not in r.headers
    return r.status_code, r.get_json()


def test_healthz_503_when_the_sqlite_file_cannot_be_written(tmp_path):
    from tests.fsfaults import read_only

    own = _own_app(tmp_path)
    assert _health(own) == (200, {"status": "ok"})
    try:
        with read_only(tmp_path / "own.sqlite"):
            with own.app_context():
                db.engine().dispose()  # as after a restart: new connections open read-only
            assert _health(own) == (503, {"status": "error", "reason": "database_read_only"})
        assert _health(own) == (200, {"status": "ok"})
    finally:
        with own.app_context():
            db.engine().dispose()


def test_healthz_503_when_the_sqlite_file_was_renamed(tmp_path):
    own = _own_app(tmp_path)
    try:
        (tmp_path / "own.sqlite").rename(tmp_path / "moved.sqlite")
        assert _health(own) == (503, {"status": "error", "reason": "database_missing"})
    finally:
        with own.app_context():
            db.engine().dispose()


def test_healthz_503_when_the_outbox_folder_cannot_be_written(tmp_path, database_url):
    (tmp_path / "not-a-folder").write_text("")
    own = _own_app(
        tmp_path,
        MAIL_OUTBOX=str(tmp_path / "not-a-folder"),
        **({} if database_url.startswith("sqlite") else {"DATABASE_URL": database_url}),
    )
    try:
        assert _health(own) == (503, {"status": "error", "reason": "outbox_not_writable"})
    finally:
        with own.app_context():
            db.engine().dispose()


def test_healthz_503_when_postgresql_takes_no_writes(tmp_path, database_url):
    if not database_url.startswith("postgresql"):
        return  # the SQLite variants are above
    read_only_url = database_url + "?options=-c%20default_transaction_read_only%3Don"
    own = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": read_only_url, "MAIL_OUTBOX": str(tmp_path / "outbox")},
        instance_path=str(tmp_path / "instance"),
    )
    try:
        assert _health(own) == (503, {"status": "error", "reason": "database_read_only"})
    finally:
        with own.app_context():
            db.engine().dispose()


@pytest.mark.committed  # other processes and connections read what the test wrote
def test_healthz_does_not_leave_the_write_lock_taken(app, client):
    assert client.get("/healthz").status_code == 200
    with app.app_context(), db.engine().begin() as writer:  # would wait for a lock the check had kept
        writer.execute(insert(District).values(name="Nach der Prüfung"))
        writer.rollback()
