"""Log-in by e-mail and password with two factors: enrolment, codes, recovery codes, redirects."""

import json
import re
import time

import pyotp
import pytest
from sqlalchemy import select

from app.accounts.models import RecoveryCode, User
from app.accounts.services import sha256
from app.audit import AuditEntry
from tests.accounts.flows import (
    CODE_URL,
    ENROL_URL,
    enrol,
    full_login,
    logged_in,
    logout,
    password_step,
    second_factor,
    session_value,
)
from tests.conftest import PASSWORD, csrf_token, post, text_of

WRONG_PASSWORD_MESSAGE = "E-Mail-Adresse oder Passwort ist falsch."
WRONG_CODE_MESSAGE = "Der Code ist falsch oder wurde bereits verwendet."


def _wrong_code(secret, now):
    """A six-digit code that matches none of the time steps the server may accept around ``now``."""
    totp = pyotp.TOTP(secret)
    accepted = {totp.at(now + 30 * k) for k in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in accepted)


# --- enrolment ------------------------------------------------------------------------------


def test_password_step_leads_to_enrolment_page_with_qr_code_and_manual_key(app, client, factory, session):
    user = factory.user()
    r = password_step(client, app, user.email)
    assert r.status_code == 302 and r.location.endswith(ENROL_URL)
    # Only the password is checked so far: nothing behind the log-in opens yet.
    assert not logged_in(client)

    r = client.get(ENROL_URL)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert re.search(r'<img src="data:image/svg\+xml[^"]+"', page)
    secret = re.search(r'id="totp-secret">([A-Z2-7]{32})</code>', page).group(1)
    assert "Zwei-Faktor-Anmeldung einrichten" in page
    assert "Schlüssel zur manuellen Eingabe" in page
    # The key stays the same while the page is reloaded, and is stored only once confirmed.
    assert secret in client.get(ENROL_URL).get_data(as_text=True)
    session.expire_all()
    assert session.get(User, user.id).totp_secret is None


def test_enrolment_with_a_valid_code_completes_login_and_shows_recovery_codes_once(app, client, factory, session):
    user = factory.user()
    result = enrol(client, app, user.email)

    page = text_of(result.response)
    assert "Ihre Wiederherstellungscodes" in page
    assert "Diese Codes werden nur jetzt angezeigt." in page
    assert len(result.codes) == 10 and len(set(result.codes)) == 10
    assert logged_in(client)

    session.expire_all()
    assert session.get(User, user.id).totp_secret == result.secret
    rows = session.execute(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).scalars().all()
    # Only hashes are stored, never the codes themselves.
    assert sorted(r.code_hash for r in rows) == sorted(sha256(c) for c in result.codes)
    stored = " ".join(r.code_hash for r in rows)
    assert not any(c in stored for c in result.codes)

    # No page shows them again.
    for url in ("/", "/konto", ENROL_URL, CODE_URL):
        body = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert not any(c in body for c in result.codes), url


def test_enrolment_with_a_wrong_code_is_refused_in_german_and_stores_nothing(app, client, factory, session):
    user = factory.user()
    password_step(client, app, user.email)
    page = client.get(ENROL_URL).get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    r = post(client, app, ENROL_URL, {"code": _wrong_code(secret, time.time())})
    assert r.status_code == 400
    assert "Der Code stimmt nicht." in text_of(r)
    # The key shown stays the same, so the user can simply try again.
    assert secret in r.get_data(as_text=True)
    assert not logged_in(client)
    session.expire_all()
    assert session.get(User, user.id).totp_secret is None
    assert session.execute(select(RecoveryCode)).first() is None


# --- the second factor at later log-ins -----------------------------------------------------


def test_next_login_asks_for_the_code_and_refuses_the_one_used_at_enrolment(app, client, factory):
    user = factory.user()
    result = enrol(client, app, user.email)
    logout(client, app)

    r = password_step(client, app, user.email)
    assert r.status_code == 302 and r.location.endswith(CODE_URL)
    assert "Zweiter Faktor" in client.get(CODE_URL).get_data(as_text=True)

    # The code from the enrolment is used up: a replay within the same time step is refused.
    r = second_factor(client, app, result.code)
    assert r.status_code == 401
    assert WRONG_CODE_MESSAGE in text_of(r)
    assert not logged_in(client)

    # The code of the next time step (one step of clock drift is allowed) is accepted.
    r = second_factor(client, app, pyotp.TOTP(result.secret).at(time.time() + 30))
    assert r.status_code == 302 and r.location == "/"
    assert logged_in(client)


def test_a_used_code_cannot_be_used_again(app, client, factory, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    password_step(client, app, user.email)
    code = totp_clock.code(secret)
    assert second_factor(client, app, code).status_code == 302
    logout(client, app)

    password_step(client, app, user.email)
    r = second_factor(client, app, code)  # same code, same time step
    assert r.status_code == 401
    assert WRONG_CODE_MESSAGE in text_of(r)
    # An older step is no better than the same one.
    assert second_factor(client, app, totp_clock.code(secret, -1)).status_code == 401
    assert not logged_in(client)

    password_step(client, app, user.email)
    totp_clock.advance()
    assert second_factor(client, app, totp_clock.code(secret)).status_code == 302
    assert logged_in(client)


def test_wrong_code_gives_401_with_a_german_message(app, client, factory, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    password_step(client, app, user.email)
    r = second_factor(client, app, _wrong_code(secret, totp_clock.now))
    assert r.status_code == 401
    assert WRONG_CODE_MESSAGE in text_of(r)
    assert 'lang="de"' in r.get_data(as_text=True)
    assert not logged_in(client)
    # The pending log-in is kept: the right code still works.
    assert second_factor(client, app, totp_clock.code(secret)).status_code == 302
    assert logged_in(client)


def test_a_recovery_code_works_once(app, client, factory, session):
    user = factory.user()
    result = enrol(client, app, user.email)
    logout(client, app)
    first, second = result.codes[0], result.codes[1]

    password_step(client, app, user.email)
    r = second_factor(client, app, f"  {first.upper()} ")
    assert r.status_code == 302
    assert logged_in(client)
    session.expire_all()
    used = session.execute(select(RecoveryCode).where(RecoveryCode.code_hash == sha256(first))).scalar_one()
    assert used.used_at is not None
    logout(client, app)

    password_step(client, app, user.email)
    r = second_factor(client, app, first)
    assert r.status_code == 401
    assert WRONG_CODE_MESSAGE in text_of(r)
    assert not logged_in(client)
    assert second_factor(client, app, second).status_code == 302
    assert logged_in(client)


def test_second_factor_page_needs_the_password_step_first(client, factory):
    factory.user(totp_secret=pyotp.random_base32())
    for url in (CODE_URL, ENROL_URL):
        r = client.get(url)
        assert r.status_code == 302 and r.location.endswith("/anmelden")


def test_password_step_expires_after_five_minutes(app, client, factory, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    password_step(client, app, user.email)
    with client.session_transaction() as sess:
        sess["pending_at"] -= 301
    r = second_factor(client, app, totp_clock.code(secret))
    assert r.status_code == 302 and r.location.endswith("/anmelden")
    assert not logged_in(client)


# --- who may log in -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "email, password",
    [
        ("user@example.org", "Falsches-Passwort-123"),
        ("niemand@example.org", PASSWORD),
        ("USER@example.org", "Falsches-Passwort-123"),
    ],
)
def test_wrong_email_or_password_gives_the_same_german_answer(app, client, factory, email, password):
    factory.user(email="user@example.org")
    r = password_step(client, app, email, password)
    assert r.status_code == 401
    assert WRONG_PASSWORD_MESSAGE in text_of(r)
    assert session_value(client, "pending_user") is None
    assert not logged_in(client)


def test_email_is_matched_without_regard_to_case(app, client, factory):
    factory.user(email="person@example.org")
    r = password_step(client, app, "  Person@Example.ORG ")
    assert r.status_code == 302 and r.location.endswith(ENROL_URL)


def test_inactive_user_cannot_log_in_even_with_the_right_password(app, client, factory, session):
    user = factory.user(active=False, totp_secret=pyotp.random_base32())
    r = password_step(client, app, user.email)
    assert r.status_code == 401
    assert WRONG_PASSWORD_MESSAGE in text_of(r)
    assert session_value(client, "pending_user") is None
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "login.failed")).scalar_one()
    assert entry.details == {"reason": "inactive", "known_account": True}


def test_user_deactivated_between_password_and_code_cannot_finish(app, client, factory, session, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    password_step(client, app, user.email)
    session.get(User, user.id).active = False
    session.commit()
    r = second_factor(client, app, totp_clock.code(secret))
    assert r.status_code == 302 and r.location.endswith("/anmelden")
    assert not logged_in(client)


# --- where the log-in leads -----------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "https://evil.example/anmelden",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_pointing_elsewhere_is_ignored_after_login(app, client, factory, totp_clock, target):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    r = full_login(client, app, user.email, secret, totp_clock, next=target)
    assert r.location == "/"


def test_next_pointing_elsewhere_is_ignored_after_enrolment(app, client, factory):
    user = factory.user()
    result = enrol(client, app, user.email, next="//evil.example")
    assert 'href="/"' in result.response.get_data(as_text=True)
    assert "evil.example" not in result.response.get_data(as_text=True)


def test_next_within_the_site_is_followed(app, client, factory, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    r = full_login(client, app, user.email, secret, totp_clock, next="/konto?tab=1")
    assert r.location == "/konto?tab=1"


def test_page_behind_login_sends_to_login_and_back(app, client, factory, totp_clock):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    r = client.get("/konto")
    assert r.status_code == 302
    login_url = r.location
    assert login_url.startswith("/anmelden?next=")
    r = client.post(login_url, data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, app)})
    assert r.location.endswith(CODE_URL)
    totp_clock.advance()
    r = second_factor(client, app, totp_clock.code(secret))
    assert r.location == "/konto"


# --- the audit trail of log-ins ---------------------------------------------------------------

_CODE = re.compile(r"^[a-z0-9_.]{1,60}$")


def _assert_no_free_text(entries, *secrets):
    for e in entries:
        assert _CODE.match(e.action), e.action
        for key, value in e.details.items():
            assert _CODE.match(key), key
            assert value is None or isinstance(value, (bool, int)) or (isinstance(value, str) and _CODE.match(value)), (
                e.action,
                key,
                value,
            )
        dumped = json.dumps([e.action, e.object_type, e.details], ensure_ascii=False).lower()
        for s in secrets:
            assert s.lower() not in dumped, (e.action, s)


def test_failed_and_successful_logins_are_audited_without_address_or_password(
    app, client, factory, session, totp_clock
):
    secret = pyotp.random_base32()
    user = factory.user(email="anna.beispiel@example.org", totp_secret=secret)
    typo = "anna.beispeil@example.org"
    wrong_password = "Mein-Geheimes-Passwort-99"

    password_step(client, app, user.email, wrong_password)  # known account, wrong password
    password_step(client, app, typo, PASSWORD)  # unknown address
    password_step(client, app, user.email)  # right password ...
    second_factor(client, app, _wrong_code(secret, totp_clock.now))  # ... wrong code
    r = second_factor(client, app, totp_clock.code(secret))  # right code
    assert r.status_code == 302
    logout(client, app)

    entries = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    summary = [(e.action, e.object_id, e.actor_id, e.details) for e in entries]
    assert summary == [
        ("login.failed", user.id, None, {"reason": "password", "known_account": True}),
        ("login.failed", None, None, {"reason": "password", "known_account": False}),
        ("login.password_ok", user.id, user.id, {}),
        ("login.failed", user.id, None, {"reason": "second_factor", "known_account": True}),
        ("login.succeeded", user.id, user.id, {}),
        ("logout", user.id, user.id, {}),
    ]
    _assert_no_free_text(entries, user.email, typo, "anna", wrong_password, PASSWORD)


def test_audit_of_enrolment_and_lock_holds_no_free_text(app, client, factory, session):
    user = factory.user(email="bert.muster@example.org")
    enrol(client, app, user.email)
    logout(client, app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1):
        password_step(client, app, "bert.muster@example.org", "Falsch-Falsch-Falsch")
    entries = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    actions = [e.action for e in entries]
    assert "account.2fa_enabled" in actions and "login.succeeded" in actions and "login.locked" in actions
    _assert_no_free_text(entries, user.email, "bert", "Falsch-Falsch-Falsch", PASSWORD)
