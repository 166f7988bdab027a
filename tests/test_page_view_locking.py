"""Page views read side by side: on SQLite they take the write lock only when they write.

Two workers serve requests at once. A page view (GET) begins without SQLite's write lock
and takes it at its first write (the audit entry of a view, the session clock), on the
newest data; requests that change data take it up front. On PostgreSQL the same tests
check that nothing here depends on SQLite.
"""

from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from app import audit, db
from app.accounts import services as account_services
from app.accounts.models import UserSession
from app.agencies.models import District
from app.cases import services as case_services
from app.clock import utcnow
from tests.conftest import login_as

# Several connections at once, and a GET that begins without the write lock: real
# transactions, not the suite's rollback isolation (which holds one connection's lock).
pytestmark = pytest.mark.committed


def _someone_else_commits(app, action="other.request"):
    """Another worker's request, committed while ours is between its reads and its write."""
    with app.app_context():
        other = db.new_session()
        try:
            audit.record(action, session=other)
            other.commit()
        finally:
            other.close()


def test_a_page_view_is_answered_while_another_request_holds_the_write_lock(app, client, factory):
    user = factory.user("caseworker")
    case = factory.case(caseworker=user)
    login_as(client, app, user)
    with app.app_context(), db.engine().connect() as writer:
        writer.execute(insert(District).values(name="Schreibt gerade"))  # transaction left open
        r = client.get("/faelle")
        writer.rollback()
    assert r.status_code == 200
    assert case.pseudonym in r.get_data(as_text=True)


def test_a_view_overtaken_by_another_write_still_chains_its_audit_entry(app, client, session, factory, monkeypatch):
    user = factory.user("caseworker")
    case = factory.case(caseworker=user)
    login_as(client, app, user)
    original = case_services.record_view

    def overtaken(s, *args, **kwargs):
        _someone_else_commits(app)
        return original(s, *args, **kwargs)

    monkeypatch.setattr(case_services, "record_view", overtaken)
    r = client.get(f"/faelle/{case.id}")

    assert r.status_code == 200
    actions = session.execute(select(audit.AuditEntry.action).order_by(audit.AuditEntry.id)).scalars().all()
    assert actions[-2:] == ["other.request", "case.viewed"]
    assert audit.verify(session) == (len(actions), None)


def test_a_page_view_moves_the_session_clock_after_another_write(app, client, session, factory, monkeypatch):
    user = factory.user("caseworker")
    factory.case(caseworker=user)
    login_as(client, app, user)
    long_ago = utcnow() - timedelta(minutes=5)
    session.execute(update(UserSession).values(last_seen_at=long_ago))
    session.commit()
    original = account_services.load_session_user

    def overtaken(*args, **kwargs):
        user = original(*args, **kwargs)  # read, and the clock moved in the session
        _someone_else_commits(app)
        return user

    monkeypatch.setattr(account_services, "load_session_user", overtaken)
    r = client.get("/faelle")  # the list's first query writes the clock (autoflush)

    assert r.status_code == 200
    session.expire_all()
    seen = session.execute(select(UserSession.last_seen_at)).scalar_one()
    assert seen.replace(tzinfo=None) > long_ago.replace(tzinfo=None) + timedelta(minutes=4)
    assert audit.verify(session)[1] is None


def test_a_page_view_of_a_session_ended_elsewhere_meanwhile_is_no_error(app, client, session, factory, monkeypatch):
    """Another server logs the same session out while this one serves a page: the clock
    moves nothing and the page still answers (the ORM's update would have found no row)."""
    user = factory.user("caseworker")
    factory.case(caseworker=user)
    login_as(client, app, user)
    session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    original = account_services.load_session_user

    def ended_elsewhere(*args, **kwargs):
        loaded = original(*args, **kwargs)
        with app.app_context():
            other = db.new_session()
            other.execute(delete(UserSession))
            other.commit()
            other.close()
        return loaded

    monkeypatch.setattr(account_services, "load_session_user", ended_elsewhere)
    r = client.get("/faelle")

    assert r.status_code == 200
    session.expire_all()
    assert session.execute(select(UserSession)).first() is None


def test_a_session_clock_another_server_is_moving_is_skipped_not_waited_for(app, session, factory):
    """Two requests of one session on two servers at once: the second does not queue behind
    the first one's row lock for the clock (PostgreSQL's SKIP LOCKED); the first moves it.
    (Several servers need PostgreSQL; SQLite has one writer at a time.)"""
    with app.app_context():
        if db.engine().dialect.name != "postgresql":
            pytest.skip("several application servers share PostgreSQL only")
    user = factory.user("caseworker")
    token = account_services.start_session(session, user)
    session.commit()
    old = utcnow() - timedelta(minutes=5)
    session.execute(update(UserSession).values(last_seen_at=old))
    session.commit()
    idle, absolute = app.config["SESSION_IDLE_TIMEOUT"], app.config["SESSION_ABSOLUTE_TIMEOUT"]
    with app.app_context():
        first, second = db.new_session(), db.new_session()
        try:
            assert account_services.load_session_user(first, token, idle=idle, absolute=absolute) is not None
            assert account_services.load_session_user(second, token, idle=idle, absolute=absolute) is not None
            assert account_services.move_session_clock(first)
            # The first still holds the row: the second skips it at once.
            assert not account_services.move_session_clock(second)
            first.commit()
            second.commit()
        finally:
            first.close()
            second.close()
    session.expire_all()
    seen = session.execute(select(UserSession.last_seen_at)).scalar_one()
    assert seen.replace(tzinfo=None) > old.replace(tzinfo=None) + timedelta(minutes=4)
