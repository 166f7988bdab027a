"""The health check for load balancers: no log-in, no session, no write, 503 when the database is gone."""
import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from app import create_app, db
from app.accounts.models import UserSession
from app.agencies.models import District
from app.audit import AuditEntry
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
    five_minutes_ago = db.utcnow() - timedelta(minutes=5)
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
    with app.app_context():
        with db.engine().connect() as writer:
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
    broken = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": _unreachable_url(database_url, tmp_path)},
                        instance_path=str(tmp_path / "instance"))
    r = broken.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.is_json and r.get_json()["status"] == "error"
    assert "Set-Cookie" not in r.headers
