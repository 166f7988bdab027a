"""Own password change, password reset and account invitation by e-mailed link."""

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from app.accounts.models import AccountToken, User, UserSession
from app.accounts.services import check_password, sha256
from app.audit import AuditEntry
from app.clock import utcnow
from tests.accounts.flows import CODE_URL, ENROL_URL, logged_in, password_step
from tests.conftest import PASSWORD, login_as, outbox_messages, post, text_of

NEW_PASSWORD = "Ganz-Neues-Passwort-2026"
TOO_SHORT = "Kurz-123"
SAME_ANSWER = "Wenn die Adresse zu einem aktiven Konto gehört, erhalten Sie in Kürze eine E-Mail mit einem Link."
LINK_DEAD = "Dieser Link ist abgelaufen oder wurde bereits verwendet."
LINK_RE = re.compile(r"http://localhost(/konto/link/(invite|reset)/[A-Za-z0-9_-]+)")


def _password_hash(session, user):
    session.expire_all()
    return session.get(User, user.id).password_hash


def _link(message):
    body = message.get_content()
    return LINK_RE.search(body).group(1)


def _request_reset(client, app, email):
    return post(client, app, "/passwort-vergessen", {"email": email})


def _set_password(client, app, path, password=NEW_PASSWORD, confirm=None):
    return post(client, app, path, {"new_password": password, "confirm": password if confirm is None else confirm})


# --- own password ---------------------------------------------------------------------------


def test_password_change_needs_the_current_password(app, client, factory, session):
    user = factory.user()
    login_as(client, app, user)
    before = _password_hash(session, user)
    r = post(
        client,
        app,
        "/konto",
        {"current_password": "Nicht-Mein-Passwort-1", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert r.status_code == 400
    assert "Das aktuelle Passwort ist falsch." in text_of(r)
    assert _password_hash(session, user) == before
    assert logged_in(client)


def test_password_change_ends_every_session(app, client, factory, session):
    user = factory.user()
    login_as(client, app, user)
    elsewhere = app.test_client()
    login_as(elsewhere, app, user)

    r = post(
        client, app, "/konto", {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert r.status_code == 302 and r.location.endswith("/anmelden")
    assert "Ihr Passwort wurde geändert. Bitte melden Sie sich neu an." in text_of(client.get(r.location))
    assert not logged_in(client)
    assert not logged_in(elsewhere)
    assert session.execute(select(UserSession)).first() is None

    assert password_step(client, app, user.email, PASSWORD).status_code == 401
    assert password_step(client, app, user.email, NEW_PASSWORD).location.endswith(ENROL_URL)
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "account.password_set")).scalar_one()
    assert (entry.object_id, entry.actor_id, entry.details) == (user.id, user.id, {})


@pytest.mark.parametrize(
    "new, confirm, message",
    [
        (TOO_SHORT, TOO_SHORT, "Das Passwort muss mindestens 12 Zeichen lang sein."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "Die beiden Passwörter stimmen nicht überein."),
        ("", "", "Bitte füllen Sie dieses Feld aus."),
    ],
)
def test_bad_new_password_is_refused_in_german_and_nothing_is_saved(
    app, client, factory, session, new, confirm, message
):
    user = factory.user()
    login_as(client, app, user)
    before = _password_hash(session, user)
    r = post(client, app, "/konto", {"current_password": PASSWORD, "new_password": new, "confirm": confirm})
    assert r.status_code == 400
    assert message in text_of(r)
    assert _password_hash(session, user) == before
    assert logged_in(client)
    assert session.execute(select(AuditEntry).where(AuditEntry.action == "account.password_set")).first() is None


def test_password_change_needs_a_csrf_token(app, client, factory, session):
    user = factory.user()
    login_as(client, app, user)
    before = _password_hash(session, user)
    r = client.post(
        "/konto", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert r.status_code == 400
    assert _password_hash(session, user) == before


# --- password reset -----------------------------------------------------------------------


def test_reset_link_sets_a_new_password_once(app, client, factory, session):
    user = factory.user(name="Clara Beispiel")
    logged_in_elsewhere = app.test_client()
    login_as(logged_in_elsewhere, app, user)

    r = _request_reset(client, app, user.email)
    assert r.status_code == 302 and r.location.endswith("/anmelden")
    assert SAME_ANSWER in text_of(client.get(r.location))
    [message] = outbox_messages(app)
    assert message["To"] == user.email
    assert message["Subject"] == "Neues Passwort für die Fallkonferenz-Anwendung"
    body = message.get_content()
    assert "Guten Tag Clara Beispiel" in body
    assert "gültig für 48 Stunden, nur einmal verwendbar" in body
    path = _link(message)
    token = path.rsplit("/", 1)[1]
    # Only the hash of the link's token is stored.
    stored = session.execute(select(AccountToken)).scalar_one()
    assert stored.token_hash == sha256(token) and stored.purpose == "reset"
    assert token not in stored.token_hash

    page = client.get(path)
    assert page.status_code == 200
    assert "Neues Passwort festlegen" in text_of(page)
    r = _set_password(client, app, path)
    assert r.status_code == 302 and r.location.endswith("/anmelden")
    assert "Ihr Passwort ist gesetzt. Sie können sich jetzt anmelden." in text_of(client.get(r.location))
    # Every open session of the account ended with the new password.
    assert not logged_in(logged_in_elsewhere)

    # Single use: the link is dead now.
    for again in (client.get(path), _set_password(client, app, path, "Noch-Ein-Passwort-2026")):
        assert again.status_code == 404
        assert LINK_DEAD in text_of(again)
    session.expire_all()
    assert check_password(session.get(User, user.id), NEW_PASSWORD)

    assert password_step(client, app, user.email, PASSWORD).status_code == 401
    assert password_step(client, app, user.email, NEW_PASSWORD).location.endswith(ENROL_URL)


def test_unknown_or_inactive_address_gets_the_same_answer_and_no_mail(app, factory):
    factory.user(email="aktiv@example.org")
    factory.user(email="inaktiv@example.org", active=False)
    answers = []
    for email in ("aktiv@example.org", "niemand@example.org", "inaktiv@example.org"):
        browser = app.test_client()
        r = _request_reset(browser, app, email)
        answers.append((r.status_code, r.location, text_of(browser.get(r.location)).count(SAME_ANSWER)))
    assert answers == [(302, "/anmelden", 1)] * 3
    assert [m["To"] for m in outbox_messages(app)] == ["aktiv@example.org"]


def test_reset_request_with_an_invalid_address_is_refused_in_german(app, client):
    r = _request_reset(client, app, "keine-adresse")
    assert r.status_code == 400
    assert "Bitte geben Sie eine gültige E-Mail-Adresse ein." in text_of(r)
    assert 'value="keine-adresse"' in r.get_data(as_text=True)
    assert outbox_messages(app) == []


def test_reset_link_expires(app, client, factory, session):
    user = factory.user()
    _request_reset(client, app, user.email)
    path = _link(outbox_messages(app)[0])
    session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    before = _password_hash(session, user)
    for r in (client.get(path), _set_password(client, app, path)):
        assert r.status_code == 404
        assert LINK_DEAD in text_of(r)
    assert _password_hash(session, user) == before


@pytest.mark.parametrize(
    "new, confirm, message",
    [
        (TOO_SHORT, TOO_SHORT, "Das Passwort muss mindestens 12 Zeichen lang sein."),
        (NEW_PASSWORD, "Ganz-Anderes-Passwort-1", "Die beiden Passwörter stimmen nicht überein."),
    ],
)
def test_bad_password_at_the_link_is_refused_and_the_link_stays_usable(
    app, client, factory, session, new, confirm, message
):
    user = factory.user()
    _request_reset(client, app, user.email)
    path = _link(outbox_messages(app)[0])
    before = _password_hash(session, user)
    r = _set_password(client, app, path, new, confirm)
    assert r.status_code == 400
    assert message in text_of(r)
    assert _password_hash(session, user) == before
    assert session.execute(select(AccountToken.used_at)).scalar() is None
    assert _set_password(client, app, path).status_code == 302


def test_a_used_link_ends_the_other_open_links(app, client, factory):
    # A newer reset link ends the older one at once (tests/accounts/test_reset_limits.py);
    # an invitation sent meanwhile stays open until a link is used.
    user = factory.user()
    admin = app.test_client()
    login_as(admin, app, factory.user("admin"))
    assert post(admin, app, f"/verwaltung/benutzer/{user.id}/einladung").status_code == 302
    [invite] = [_link(m) for m in outbox_messages(app)]
    _request_reset(client, app, user.email)
    [reset] = [link for link in map(_link, outbox_messages(app)) if "/reset/" in link]
    assert client.get(invite).status_code == 200
    assert _set_password(client, app, reset).status_code == 302
    assert client.get(invite).status_code == 404


def test_a_link_works_only_for_its_purpose(app, client, factory):
    user = factory.user()
    _request_reset(client, app, user.email)
    path = _link(outbox_messages(app)[0])
    assert client.get(path.replace("/reset/", "/invite/")).status_code == 404
    assert client.get(path[:-1] + ("A" if path[-1] != "A" else "B")).status_code == 404


def test_reset_keeps_the_second_factor(app, client, factory):
    user = factory.user(totp_secret=pyotp.random_base32())
    _request_reset(client, app, user.email)
    _set_password(client, app, _link(outbox_messages(app)[0]))
    r = password_step(client, app, user.email, NEW_PASSWORD)
    assert r.location.endswith(CODE_URL)


def test_link_of_a_deactivated_account_no_longer_works(app, client, factory, session):
    user = factory.user()
    _request_reset(client, app, user.email)
    path = _link(outbox_messages(app)[0])
    session.execute(update(User).where(User.id == user.id).values(active=False))
    session.commit()
    before = _password_hash(session, user)
    assert client.get(path).status_code == 404
    assert _set_password(client, app, path).status_code == 404
    assert _password_hash(session, user) == before


# --- invitation ---------------------------------------------------------------------------


def test_invitation_by_the_admin_leads_to_a_first_login(app, client, factory, session):
    admin = factory.user(role="admin")
    team = factory.team("Team Nord")
    admin_client = app.test_client()
    login_as(admin_client, app, admin)
    r = post(
        admin_client,
        app,
        "/verwaltung/benutzer/neu",
        {
            "name": "Dora Neu",
            "email": "dora.neu@example.org",
            "role": "caseworker",
            "team_id": str(team.id),
            "agency_id": "",
        },
    )
    assert r.status_code == 302, text_of(r)
    # A staff account: the invitation leaves once a team lead of the team confirms it.
    assert outbox_messages(app) == []
    lead_client = app.test_client()
    login_as(lead_client, app, factory.user("team_lead", team=team))
    [change_id] = (
        session.execute(
            select(AuditEntry.details["change_id"].as_integer()).where(AuditEntry.action == "account_change.proposed")
        )
        .scalars()
        .all()
    )
    session.commit()
    assert post(lead_client, app, f"/kontoaenderungen/{change_id}/bestaetigen").status_code == 302
    [message] = outbox_messages(app)
    assert message["To"] == "dora.neu@example.org"
    assert message["Subject"] == "Einladung zur Fallkonferenz-Anwendung"
    body = message.get_content()
    assert "Guten Tag Dora Neu" in body and "Zwei-Faktor-Anmeldung" in body
    path = _link(message)
    assert "/konto/link/invite/" in path

    # No password yet: nobody can log in to the new account.
    user = session.execute(select(User).where(User.email == "dora.neu@example.org")).scalar_one()
    assert user.password_hash is None
    assert password_step(client, app, "dora.neu@example.org", PASSWORD).status_code == 401

    page = client.get(path)
    assert page.status_code == 200 and "Konto einrichten" in text_of(page)
    r = _set_password(client, app, path)
    assert r.status_code == 302
    assert password_step(client, app, "dora.neu@example.org", NEW_PASSWORD).location.endswith(ENROL_URL)
    assert client.get(path).status_code == 404


def test_invitation_link_expires(app, client, factory, session):
    admin = factory.user(role="admin")
    user = factory.user(name="Emil Eingeladen")
    login_as(client, app, admin)
    assert post(client, app, f"/verwaltung/benutzer/{user.id}/einladung").status_code == 302
    path = _link(outbox_messages(app)[0])
    row = session.execute(select(AccountToken)).scalar_one()
    assert row.purpose == "invite"
    assert timedelta(hours=47, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=48, seconds=1)

    session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    invitee = app.test_client()
    r = invitee.get(path)
    assert r.status_code == 404
    assert LINK_DEAD in text_of(r)


def test_audit_of_links_holds_no_free_text(app, client, factory, session):
    user = factory.user(email="fritz.link@example.org")
    _request_reset(client, app, user.email)
    _request_reset(client, app, "unbekannt@example.org")
    path = _link(outbox_messages(app)[0])
    _set_password(client, app, path)
    entries = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [(e.action, e.object_id, e.details) for e in entries] == [
        ("account.reset_sent", user.id, {}),
        ("account.reset_requested", None, {"known_account": False}),
        ("account.password_set", user.id, {}),
    ]
    dumped = repr([(e.action, e.object_type, e.details) for e in entries])
    for secret in ("fritz", "unbekannt", NEW_PASSWORD, path.rsplit("/", 1)[1]):
        assert secret not in dumped
