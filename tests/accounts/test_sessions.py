"""Server-side sessions: a new id at every log-in, a log-out that really ends it, timeouts."""

from datetime import timedelta

import pyotp
from sqlalchemy import func, select, update

from app.accounts.models import User, UserSession
from app.accounts.services import sha256
from app.clock import utcnow
from tests.accounts.flows import full_login, logged_in, logout, password_step, session_value
from tests.conftest import csrf_token, login_as


def _clone(app, client):
    """A second browser holding a copy of the client's session cookie."""
    name = app.config["SESSION_COOKIE_NAME"]
    other = app.test_client()
    other.set_cookie(name, client.get_cookie(name).value)
    return other


def _sessions_of(session, user):
    session.expire_all()
    return session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalars().all()


def _set_session_times(session, token, **times):
    session.execute(update(UserSession).where(UserSession.token_hash == sha256(token)).values(**times))
    session.commit()


def test_login_starts_a_fresh_session(app, client, factory, session, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    with client.session_transaction() as sess:
        sess["planted"] = "vom Angreifer"
    before = _clone(app, client)

    full_login(client, app, user.email, secret, totp_clock)

    # Nothing from the cookie session before the log-in carries over ...
    assert session_value(client, "planted") is None
    assert session_value(client, "pending_user") is None
    # ... Flask-Login holds a random token, not the user id, which names one server-side record.
    token = session_value(client, "_user_id")
    assert token and token != str(user.id)
    rows = _sessions_of(session, user)
    assert [r.token_hash for r in rows] == [sha256(token)]
    # The cookie from before the log-in opens nothing.
    assert not logged_in(before)
    assert logged_in(client)


def test_every_login_gets_its_own_session_id(app, factory, session, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    first, second = app.test_client(), app.test_client()
    full_login(first, app, user.email, secret, totp_clock)
    full_login(second, app, user.email, secret, totp_clock)
    t1, t2 = session_value(first, "_user_id"), session_value(second, "_user_id")
    assert t1 != t2
    assert sorted(r.token_hash for r in _sessions_of(session, user)) == sorted([sha256(t1), sha256(t2)])

    # Logging in again on the same browser replaces its id as well.
    logout(first, app)
    full_login(first, app, user.email, secret, totp_clock)
    t3 = session_value(first, "_user_id")
    assert t3 not in (t1, t2)
    assert len(_sessions_of(session, user)) == 2


def test_logout_makes_a_copied_cookie_useless(app, client, factory, session, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    full_login(client, app, user.email, secret, totp_clock)
    copy = _clone(app, client)
    assert logged_in(copy)  # the copy works as long as the session lives

    r = logout(client, app)
    assert r.status_code == 302 and r.location.endswith("/anmelden")
    assert not logged_in(client)
    assert not logged_in(copy)
    assert _sessions_of(session, user) == []


def test_logout_ends_only_this_session(app, factory, session):
    user = factory.user()
    a, b = app.test_client(), app.test_client()
    login_as(a, app, user)
    login_as(b, app, user)
    logout(a, app)
    assert not logged_in(a)
    assert logged_in(b)
    assert len(_sessions_of(session, user)) == 1


def test_logout_needs_post_with_csrf_token(app, client, factory, session):
    user = factory.user()
    login_as(client, app, user)
    assert client.get("/abmelden").status_code == 405
    r = client.post("/abmelden")  # no CSRF token: a foreign page cannot log the user out
    assert r.status_code == 400
    assert logged_in(client)
    assert len(_sessions_of(session, user)) == 1
    assert client.post("/abmelden", data={"csrf_token": csrf_token(client, app)}).status_code == 302
    assert not logged_in(client)


def test_idle_session_ends_after_the_idle_timeout(app, client, factory, session):
    user = factory.user()
    token = login_as(client, app, user)
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    assert idle == timedelta(minutes=30)

    _set_session_times(session, token, last_seen_at=utcnow() - idle + timedelta(minutes=1))
    assert logged_in(client)
    # Use moves the idle clock on.
    assert utcnow() - _sessions_of(session, user)[0].last_seen_at < timedelta(minutes=1)

    _set_session_times(session, token, last_seen_at=utcnow() - idle - timedelta(minutes=1))
    r = client.get("/konto")
    assert r.status_code == 302 and r.location.startswith("/anmelden?next=")
    assert _sessions_of(session, user) == []
    assert not logged_in(client)


def test_idle_timeout_is_configurable(app, client, factory, session, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_TIMEOUT", timedelta(minutes=5))
    user = factory.user()
    token = login_as(client, app, user)
    _set_session_times(session, token, last_seen_at=utcnow() - timedelta(minutes=6))
    assert not logged_in(client)


def test_idle_session_expires_on_a_public_page_too(app, client, factory, session):
    user = factory.user()
    token = login_as(client, app, user)
    _set_session_times(session, token, last_seen_at=utcnow() - timedelta(hours=1))
    r = client.get("/anmelden")
    assert r.status_code == 200  # the log-in form, not a redirect to the start page
    assert _sessions_of(session, user) == []


def test_session_ends_after_ten_hours_even_when_in_use(app, client, factory, session):
    user = factory.user()
    token = login_as(client, app, user)
    assert app.config["SESSION_ABSOLUTE_TIMEOUT"] == timedelta(hours=10)

    _set_session_times(session, token, created_at=utcnow() - timedelta(hours=9, minutes=58), last_seen_at=utcnow())
    assert logged_in(client)

    _set_session_times(session, token, created_at=utcnow() - timedelta(hours=10, minutes=1), last_seen_at=utcnow())
    assert not logged_in(client)
    assert _sessions_of(session, user) == []


def test_deactivating_a_user_logs_out_their_open_sessions_at_once(app, factory, session, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    admin = factory.user(role="admin")
    victim, other = app.test_client(), app.test_client()
    full_login(victim, app, user.email, secret, totp_clock)
    login_as(other, app, user)
    admin_client = app.test_client()
    login_as(admin_client, app, admin)

    r = admin_client.post(
        f"/verwaltung/benutzer/{user.id}/deaktivieren", data={"csrf_token": csrf_token(admin_client, app)}
    )
    assert r.status_code == 302

    assert not logged_in(victim)
    assert not logged_in(other)
    assert _sessions_of(session, user) == []
    # And the account cannot start a new one.
    assert password_step(victim, app, user.email).status_code == 401
    assert logged_in(admin_client)


def test_an_inactive_user_with_a_session_record_is_refused(app, client, factory, session):
    """Even a session that survived somehow is refused once the account is inactive."""
    user = factory.user()
    login_as(client, app, user)
    session.execute(update(User).where(User.id == user.id).values(active=False))
    session.commit()
    assert not logged_in(client)
    session.expire_all()
    assert session.execute(select(func.count()).select_from(UserSession)).scalar() == 0
