"""Failed log-ins: 5 per 15 minutes per account, 50 per address, kept in the database."""

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from app import create_app, db
from app.accounts.models import LoginFailure, UserSession
from app.accounts.services import sha256
from app.audit import AuditEntry
from app.clock import utcnow
from tests.accounts.flows import CODE_URL, ENROL_URL, full_login, logged_in, password_step, second_factor, session_value
from tests.conftest import PASSWORD, login_as, text_of

LOCKED = "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten und versuchen Sie es dann erneut."
WRONG = "Falsches-Passwort-000"


def _from(app, address):
    """A browser on its own network address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _fail(client, app, email, times):
    for _ in range(times):
        assert password_step(client, app, email, WRONG).status_code == 401


def _assert_locked(response):
    assert response.status_code == 429
    assert LOCKED in text_of(response)


def _wrong_codes(secret, clock):
    accepted = {clock.code(secret, k) for k in (-1, 0, 1)}
    return [c for c in ("111111", "222222", "333333", "444444", "555555", "666666", "777777") if c not in accepted]


@pytest.fixture
def second_app(app):
    """Another worker process: its own app and engine on the same database."""
    other = create_app(
        {
            key: app.config[key]
            for key in (
                "TESTING",
                "DATABASE_URL",
                "SECRET_KEY",
                "MAIL_OUTBOX",
                "MAIL_SERVER",
                "BASE_URL",
                "SERVER_NAME",
            )
        }
    )
    yield other
    with other.app_context():
        db.engine().dispose()


def test_five_failures_lock_the_account_even_for_the_right_password(app, factory, session):
    user = factory.user()
    assert app.config["LOGIN_MAX_FAILURES"] == 5
    assert app.config["LOGIN_FAILURE_WINDOW"] == timedelta(minutes=15)
    # From five different addresses: it is the account that counts.
    for n in range(5):
        _fail(_from(app, f"198.51.100.{n}"), app, user.email, 1)

    browser = _from(app, "198.51.100.99")
    r = password_step(browser, app, user.email, PASSWORD)
    _assert_locked(r)
    assert session_value(browser, "pending_user") is None
    assert not logged_in(browser)
    # The typed address in another spelling is the same account.
    _assert_locked(password_step(browser, app, user.email.upper(), PASSWORD))


def test_four_failures_do_not_lock(app, factory):
    user = factory.user()
    client = _from(app, "198.51.100.1")
    _fail(client, app, user.email, 4)
    r = password_step(client, app, user.email)
    assert r.status_code == 302 and r.location.endswith(ENROL_URL)


def test_an_office_behind_one_address_is_not_locked_out_by_a_few_typos(app, factory):
    """Colleagues share one NAT address: five failures of others leave everyone else in."""
    assert app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] == 50
    user = factory.user()
    office = _from(app, "203.0.113.7")
    for n in range(5):
        _fail(office, app, f"kollegin{n}@example.org", 1)
    r = password_step(office, app, user.email)
    assert r.status_code == 302 and r.location.endswith(ENROL_URL)


def test_the_address_limit_locks_that_address_only(app, factory, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 8)
    user = factory.user()
    attacker = _from(app, "203.0.113.7")
    for n in range(8):
        _fail(attacker, app, f"geraten{n}@example.org", 1)

    _assert_locked(password_step(attacker, app, user.email, PASSWORD))
    # The account itself is not locked: from elsewhere its owner logs in.
    r = password_step(_from(app, "198.51.100.1"), app, user.email)
    assert r.status_code == 302 and r.location.endswith(ENROL_URL)


def test_the_lock_ends_after_the_window(app, factory, session):
    user = factory.user()
    client = _from(app, "198.51.100.1")
    _fail(client, app, user.email, 5)
    _assert_locked(password_step(client, app, user.email))

    session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=15, seconds=30)))
    session.commit()
    r = password_step(client, app, user.email)
    assert r.status_code == 302 and r.location.endswith(ENROL_URL)


def test_failures_are_stored_hashed_and_pruned(app, factory, session):
    user = factory.user()
    typo = "tippfehler@example.org"
    client = _from(app, "198.51.100.1")
    _fail(client, app, typo, 1)
    _fail(client, app, user.email, 1)
    keys = session.execute(select(LoginFailure.key)).scalars().all()
    assert sorted(keys) == sorted(
        [
            f"email:{sha256(typo)}",
            f"email:{sha256(user.email)}",
            f"ip:{sha256('198.51.100.1')}",
            f"ip:{sha256('198.51.100.1')}",
        ]
    )
    assert not any(typo in k or user.email in k or "198.51.100.1" in k or WRONG in k for k in keys)

    # Failures older than the window go when the next one is recorded.
    session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    session.commit()
    _fail(client, app, user.email, 1)
    session.expire_all()
    assert len(session.execute(select(LoginFailure)).all()) == 2


def test_a_completed_login_clears_the_failures_of_the_account(app, factory, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    _fail(_from(app, "198.51.100.1"), app, user.email, 4)
    full_login(_from(app, "198.51.100.2"), app, user.email, secret, totp_clock)
    # Four new failures (from yet other addresses) are again below the limit.
    _fail(_from(app, "198.51.100.3"), app, user.email, 4)
    r = password_step(_from(app, "198.51.100.4"), app, user.email)
    assert r.status_code == 302 and r.location.endswith(CODE_URL)


def test_the_password_alone_does_not_clear_wrong_codes(app, factory, totp_clock):
    """Else whoever knows the password could guess codes without end, re-entering it every four tries."""
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    wrong = _wrong_codes(secret, totp_clock)
    for n, codes in enumerate((wrong[:4], wrong[4:5])):
        client = _from(app, f"198.51.100.{n}")
        assert password_step(client, app, user.email).location.endswith(CODE_URL)
        for code in codes:
            assert second_factor(client, app, code).status_code == 401
    _assert_locked(second_factor(client, app, totp_clock.code(secret)))
    assert not logged_in(client)


def test_wrong_codes_count_and_lock_the_second_step(app, factory, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    client = _from(app, "198.51.100.1")
    password_step(client, app, user.email)
    for code in _wrong_codes(secret, totp_clock)[:5]:
        assert second_factor(client, app, code).status_code == 401

    r = second_factor(client, app, totp_clock.code(secret))
    _assert_locked(r)
    assert not logged_in(client)
    _assert_locked(password_step(_from(app, "198.51.100.2"), app, user.email))


@pytest.mark.committed
def test_the_limit_holds_across_worker_processes(app, second_app, factory, session):
    """Failures at one worker count at the other: they live in the database, not in memory."""
    user = factory.user()
    first = _from(app, "198.51.100.1")
    second = _from(second_app, "198.51.100.2")
    _fail(first, app, user.email, 3)
    _fail(second, second_app, user.email, 2)

    _assert_locked(password_step(first, app, user.email))
    _assert_locked(password_step(second, second_app, user.email))
    assert (
        len(session.execute(select(LoginFailure).where(LoginFailure.key == f"email:{sha256(user.email)}")).all()) == 5
    )


@pytest.mark.committed
def test_each_app_keeps_its_own_settings_for_sessions(app, second_app, client, factory, session):
    """The session loader reads the settings of the app that serves the request."""
    second_app.config["SESSION_IDLE_TIMEOUT"] = timedelta(days=1)
    user = factory.user()
    token = login_as(client, app, user)
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == sha256(token))
        .values(last_seen_at=utcnow() - timedelta(minutes=31))
    )
    session.commit()
    assert not logged_in(client)


def test_locked_and_failed_logins_are_audited(app, factory, session):
    user = factory.user()
    client = _from(app, "198.51.100.1")
    _fail(client, app, user.email, 5)
    password_step(client, app, user.email)
    actions = session.execute(select(AuditEntry.action, AuditEntry.details).order_by(AuditEntry.id)).all()
    assert actions == [("login.failed", {"reason": "password", "known_account": True})] * 5 + [("login.locked", {})]
