"""Administration of accounts: create, edit, deactivate; invitations; bad input."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from app.accounts.models import User, UserSession
from app.audit import AuditEntry
from tests.conftest import login_as, outbox_messages, post, text_of
from tests.dbstate import differences, scalars, snapshot


@pytest.fixture
def admin(app, client, factory):
    user = factory.user("admin", name="Ada Admin")
    login_as(client, app, user)
    return user


def user_by_email(session, email):
    found = scalars(session, select(User).where(User.email == email))
    return found[0] if found else None


def actions(session):
    return scalars(session, select(AuditEntry.action).order_by(AuditEntry.id))


def form_data(**kw):
    data = {"name": "Maria Muster", "email": "maria@example.org", "role": "caseworker", "team_id": "", "agency_id": ""}
    data.update(kw)
    return data


def test_admin_creates_caseworker_who_waits_for_a_team_lead(app, client, session, factory, admin):
    """The invitation leaves once a team lead confirms (tests/admin/test_four_eyes.py)."""
    team = factory.team("Team Nord")
    r = post(client, app, "/verwaltung/benutzer/neu", form_data(email="Maria@Example.org", team_id=str(team.id)))
    assert r.status_code == 302 and r.location.endswith("/verwaltung/benutzer")
    user = user_by_email(session, "maria@example.org")
    assert (user.name, user.role, user.team_id, user.agency_id, user.active) == (
        "Maria Muster",
        "caseworker",
        team.id,
        None,
        True,
    )
    assert user.confirmed is False and user.password_hash is None
    assert outbox_messages(app) == []  # the team has no team lead yet who could be asked
    assert actions(session)[-2:] == ["user.created", "account_change.proposed"]
    page = text_of(client.get(r.location))
    assert "Maria Muster" in page and "wartet auf Bestätigung" in page
    assert "flask confirm-account-change" in page


def test_admin_creates_a_partner_account_and_an_invitation_is_sent(app, client, session, factory, admin):
    agency = factory.agency()
    r = post(
        client,
        app,
        "/verwaltung/benutzer/neu",
        form_data(email="Maria@Example.org", role="partner", agency_id=str(agency.id)),
    )
    assert r.status_code == 302
    user = user_by_email(session, "maria@example.org")
    assert (user.role, user.agency_id, user.confirmed, user.password_hash) == ("partner", agency.id, True, None)
    [msg] = outbox_messages(app)
    assert msg["To"] == "maria@example.org"
    assert msg["Subject"] == "Einladung zur Fallkonferenz-Anwendung"
    link = re.search(r"http://localhost(/konto/link/invite/\S+)", msg.get_content()).group(1)
    assert client.get(link).status_code == 200
    assert actions(session)[-2:] == ["user.created", "account.invite_sent"]


def test_partner_needs_an_agency_and_keeps_no_team(app, client, session, factory, admin):
    team, agency = factory.team(), factory.agency()
    r = post(client, app, "/verwaltung/benutzer/neu", form_data(role="partner", team_id=str(team.id)))
    assert r.status_code == 400
    assert "Partner-Konten gehören zu genau einer Partnereinrichtung." in text_of(r)
    assert user_by_email(session, "maria@example.org") is None
    assert outbox_messages(app) == []

    r = post(
        client,
        app,
        "/verwaltung/benutzer/neu",
        form_data(role="partner", team_id=str(team.id), agency_id=str(agency.id)),
    )
    assert r.status_code == 302
    user = user_by_email(session, "maria@example.org")
    assert (user.role, user.agency_id, user.team_id) == ("partner", agency.id, None)


@pytest.mark.parametrize("role", ["caseworker", "team_lead"])
def test_staff_need_a_team(app, client, session, factory, admin, role):
    r = post(client, app, "/verwaltung/benutzer/neu", form_data(role=role, agency_id=str(factory.agency().id)))
    assert r.status_code == 400
    assert "Fallmanagement und Teamleitung gehören zu einem Team." in text_of(r)
    assert user_by_email(session, "maria@example.org") is None


def test_admin_account_needs_neither_team_nor_agency(app, client, session, admin):
    assert post(client, app, "/verwaltung/benutzer/neu", form_data(role="admin")).status_code == 302
    assert user_by_email(session, "maria@example.org").role == "admin"


def test_duplicate_email_is_refused_on_create_and_on_edit(app, client, session, factory, admin):
    team = factory.team()
    taken = factory.user(email="vergeben@example.org", team=team)
    other = factory.user(team=team)
    before = snapshot(app)
    r = post(client, app, "/verwaltung/benutzer/neu", form_data(email="VERGEBEN@example.org", team_id=str(team.id)))
    assert r.status_code == 400
    assert "Diese E-Mail-Adresse gehört schon zu einem Konto." in text_of(r)
    r = post(
        client,
        app,
        f"/verwaltung/benutzer/{other.id}",
        form_data(name=other.name, email=taken.email, team_id=str(team.id)),
    )
    assert r.status_code == 400
    assert "Diese E-Mail-Adresse gehört schon zu einem Konto." in text_of(r)
    assert differences(before, snapshot(app)) == []
    assert outbox_messages(app) == []


def test_edit_keeps_sessions_unless_the_affiliation_changes(app, client, session, factory, admin):
    north, south = factory.team(), factory.team()
    user = factory.user(team=north, name="Alt")
    south_lead = factory.user("team_lead", team=south)
    their_client = app.test_client()
    login_as(their_client, app, user)

    r = post(
        client, app, f"/verwaltung/benutzer/{user.id}", form_data(name="Neu", email=user.email, team_id=str(north.id))
    )
    assert r.status_code == 302
    assert user_by_email(session, user.email).name == "Neu"
    assert their_client.get("/konto").status_code == 200

    r = post(
        client, app, f"/verwaltung/benutzer/{user.id}", form_data(name="Neu", email=user.email, team_id=str(south.id))
    )
    assert r.status_code == 302
    # A team change waits for a team lead of the new team; until then nothing changes.
    assert user_by_email(session, user.email).team_id == north.id
    assert their_client.get("/konto").status_code == 200
    lead_client = app.test_client()
    login_as(lead_client, app, south_lead)
    [change_id] = [
        e.details["change_id"] for e in scalars(session, select(AuditEntry)) if e.action == "account_change.proposed"
    ]
    assert post(lead_client, app, f"/kontoaenderungen/{change_id}/bestaetigen").status_code == 302
    assert user_by_email(session, user.email).team_id == south.id
    # What the user may see changed: the old session must not keep the old view.
    assert their_client.get("/konto").location.startswith("/anmelden")
    assert actions(session).count("user.updated") == 2


def test_admin_cannot_change_own_role(app, client, session, factory, admin):
    r = post(
        client,
        app,
        f"/verwaltung/benutzer/{admin.id}",
        form_data(name=admin.name, email=admin.email, role="caseworker", team_id=str(factory.team().id)),
    )
    assert r.status_code == 400
    assert "Sie können Ihre eigene Rolle nicht ändern." in text_of(r)
    assert user_by_email(session, admin.email).role == "admin"


def test_deactivation_ends_sessions_and_reactivation_restores_log_in(app, client, session, factory, admin):
    user = factory.user()
    their_client = app.test_client()
    login_as(their_client, app, user)
    assert their_client.get("/konto").status_code == 200

    r = post(client, app, f"/verwaltung/benutzer/{user.id}/deaktivieren")
    assert r.status_code == 302
    assert "Das Konto wurde deaktiviert" in text_of(client.get(r.location))
    assert user_by_email(session, user.email).active is False
    assert scalars(session, select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)) == [0]
    assert their_client.get("/konto").location.startswith("/anmelden")
    # Nor can the person log in again.
    r = post(app.test_client(), app, "/anmelden", {"email": user.email, "password": "Richtig-Langes-Passwort-1"})
    assert r.status_code == 401

    assert post(client, app, f"/verwaltung/benutzer/{user.id}/aktivieren").status_code == 302
    assert user_by_email(session, user.email).active is True
    assert actions(session)[-1] == "user.reactivated"
    assert "user.deactivated" in actions(session)


def test_admin_cannot_deactivate_themselves(app, client, session, admin):
    r = post(client, app, f"/verwaltung/benutzer/{admin.id}/deaktivieren")
    assert r.status_code == 303
    assert "Sie können Ihr eigenes Konto nicht deaktivieren." in text_of(client.get(r.location))
    assert user_by_email(session, admin.email).active is True


def test_invitation_again_and_two_factor_reset(app, client, session, factory, admin):
    user = factory.user(totp_secret="JBSWY3DPEHPK3PXP")
    assert post(client, app, f"/verwaltung/benutzer/{user.id}/einladung").status_code == 302
    [msg] = outbox_messages(app)
    assert msg["To"] == user.email
    assert post(client, app, f"/verwaltung/benutzer/{user.id}/zwei-faktor-zuruecksetzen").status_code == 302
    assert user_by_email(session, user.email).totp_secret is None
    assert actions(session)[-1] == "account.2fa_reset"


# --- bad input ------------------------------------------------------------------------------

TOO_LONG = "x" * 121
BAD_USER_INPUT = {
    # case: (changes to a valid form, German message, a submitted value the page must keep)
    "empty": ({"name": "", "email": "", "role": "", "team_id": ""}, "Bitte füllen Sie dieses Feld aus.", None),
    "blank name": ({"name": "   "}, "Bitte füllen Sie dieses Feld aus.", "maria@example.org"),
    "name too long": ({"name": TOO_LONG}, "Feld kann nicht länger als 120 Zeichen sein.", TOO_LONG),
    "email too long": (
        {"email": "a" * 250 + "@example.org"},
        "Feld kann nicht länger als 254 Zeichen sein.",
        "Maria Muster",
    ),
    "not an email": (
        {"email": "maria.example.org"},
        "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
        "maria.example.org",
    ),
    "script as email": (
        {"email": "<script>alert(1)</script>"},
        "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
        "<script>alert(1)</script>",
    ),
    "NUL in name": ({"name": "Maria\x00Muster"}, "Der Text enthält unzulässige Steuerzeichen.", "maria@example.org"),
    "unknown role": ({"role": "superuser"}, "Bitte wählen Sie einen der angebotenen Einträge.", "Maria Muster"),
    "team not a number": ({"team_id": "abc"}, "Bitte wählen Sie einen der angebotenen Einträge.", "Maria Muster"),
    "unknown team": ({"team_id": "999999"}, "Bitte wählen Sie einen der angebotenen Einträge.", "Maria Muster"),
    "unknown agency": (
        {"role": "partner", "agency_id": "999999"},
        "Bitte wählen Sie einen der angebotenen Einträge.",
        "Maria Muster",
    ),
}


@pytest.mark.parametrize("target", ["new", "edit"])
@pytest.mark.parametrize("case", BAD_USER_INPUT)
def test_bad_user_input(app, client, session, factory, admin, case, target):
    team = factory.team()
    url = "/verwaltung/benutzer/neu"
    if target == "edit":
        url = f"/verwaltung/benutzer/{factory.user(team=team, email='alt@example.org').id}"
    changes, message, kept = BAD_USER_INPUT[case]
    data = form_data(team_id=str(team.id))
    data.update(changes)
    before = snapshot(app)

    r = post(client, app, url, data)

    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert message in text_of(r)
    assert "Bitte prüfen Sie Ihre Eingaben." in page
    if kept is not None:
        assert f'value="{escape(kept)}"' in page
    assert "<script>alert(1)" not in page
    assert differences(before, snapshot(app)) == []
    assert outbox_messages(app) == []


def test_names_are_shown_escaped(app, client, session, factory, admin):
    team = factory.team()
    r = post(client, app, "/verwaltung/benutzer/neu", form_data(name="<script>alert(1)</script>", team_id=str(team.id)))
    assert r.status_code == 302
    user = user_by_email(session, "maria@example.org")
    assert user.name == "<script>alert(1)</script>"  # stored as typed, never interpreted
    for page in ("/verwaltung/benutzer", f"/verwaltung/benutzer/{user.id}"):
        html = client.get(page).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)" not in html


def test_user_list_is_paged(app, client, factory, admin):
    app.config["PAGE_SIZE"], size = 3, app.config["PAGE_SIZE"]
    try:
        team = factory.team()
        for i in range(4):
            factory.user(team=team, name=f"Person {i:02d}")
        first = text_of(client.get("/verwaltung/benutzer"))
        second = text_of(client.get("/verwaltung/benutzer?seite=2"))
        assert "Nächste Seite" in first and "Vorherige Seite" in second
        # 5 accounts (with the admin), 3 per page.
        assert second.count("/verwaltung/benutzer/") - second.count("/verwaltung/benutzer/neu") == 2
        assert client.get("/verwaltung/benutzer?seite=abc").status_code == 200
    finally:
        app.config["PAGE_SIZE"] = size
