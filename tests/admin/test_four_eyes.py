"""Separation of duties (issue 10, finding 3; DESIGN.md section 4): a new staff account, and a
change of a staff account's role, team or e-mail address, take effect only once a team lead of
that team confirms it. The admin never confirms, never reaches case content, and everything is
audited with both actors."""

import re

import pytest
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import AccountChange, AccountToken, User
from app.audit import AuditEntry
from app.permissions import can
from tests.accounts.flows import ENROL_URL, password_step
from tests.conftest import PASSWORD, login_as, outbox_messages, post, text_of
from tests.dbstate import differences, scalars, snapshot

NEW_PASSWORD = "Ganz-Neues-Passwort-2026"
LINK_RE = re.compile(r"http://localhost(/konto/link/(invite|reset)/[A-Za-z0-9_-]+)")


@pytest.fixture
def nord(factory):
    return factory.team("Team Nord")


@pytest.fixture
def admin(app, factory):
    user = factory.user("admin", name="Ada Admin")
    client = app.test_client()
    login_as(client, app, user)
    client.user = user
    return client


@pytest.fixture
def lead(app, factory, nord):
    user = factory.user("team_lead", team=nord, name="Tanja Teamleitung", email="tanja@jobcenter.example")
    client = app.test_client()
    login_as(client, app, user)
    client.user = user
    return client


def user_by_email(session, email):
    found = scalars(session, select(User).where(User.email == email))
    return found[0] if found else None


def audit(session, action):
    return scalars(session, select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))


def pending(session, user):
    return scalars(
        session, select(AccountChange).where(AccountChange.user_id == user.id, AccountChange.status == "pending")
    )


def create(admin, app, nord, email="neu@example.org", role="team_lead"):
    return post(
        admin,
        app,
        "/verwaltung/benutzer/neu",
        {"name": "Nina Neu", "email": email, "role": role, "team_id": str(nord.id), "agency_id": ""},
    )


def edit(admin, app, user, **values):
    data = {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "team_id": str(user.team_id or ""),
        "agency_id": str(user.agency_id or ""),
    }
    data.update(values)
    return post(admin, app, f"/verwaltung/benutzer/{user.id}", data)


def decide(client, app, change, decision="bestaetigen"):
    return post(client, app, f"/kontoaenderungen/{change.id}/{decision}")


def test_an_admin_cannot_reach_a_case_at_any_point(app, client, session, factory, admin, lead, nord):
    """The attack of the issue: a team lead account in Team Nord at an address the admin controls."""
    case = factory.case(team=nord)
    attacker_address = "ada.privat@example.org"

    def admin_is_kept_out():
        for url in (f"/faelle/{case.id}", "/faelle", "/protokolle/export", "/team"):
            assert admin.get(url).status_code in (403, 404), url
        assert (
            post(admin, app, "/protokolle/export", {"date_from": "2026-01-01", "date_to": "2026-01-31"}).status_code
            == 403
        )

    admin_is_kept_out()
    assert create(admin, app, nord, email=attacker_address).status_code == 302
    account = user_by_email(session, attacker_address)
    [change] = pending(session, account)
    # No invitation to the admin's address, and none on request.
    assert [m["To"] for m in outbox_messages(app)] == [lead.user.email]
    r = post(admin, app, f"/verwaltung/benutzer/{account.id}/einladung")
    assert r.status_code == 303
    assert "wartet noch auf die Bestätigung" in text_of(admin.get(r.location))
    assert post(client, app, "/passwort-vergessen", {"email": attacker_address}).status_code == 302
    assert [m["To"] for m in outbox_messages(app)] == [lead.user.email]
    # A link made for the account anyway does not work, nor does any log-in.
    token = accounts.issue_token(session, session.get(User, account.id), "invite", app.config["ACCOUNT_TOKEN_LIFETIME"])
    session.commit()
    assert client.get(f"/konto/link/invite/{token}").status_code == 404
    assert (
        post(
            client, app, f"/konto/link/invite/{token}", {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        ).status_code
        == 404
    )
    assert user_by_email(session, attacker_address).password_hash is None
    assert not can(user_by_email(session, attacker_address), "case.list")
    admin_is_kept_out()
    # The admin cannot confirm it either.
    assert decide(admin, app, change).status_code == 404
    assert user_by_email(session, attacker_address).confirmed is False
    admin_is_kept_out()
    # The team lead, asked by e-mail, does not know this person and refuses.
    assert decide(lead, app, change, "ablehnen").status_code == 302
    assert user_by_email(session, attacker_address).confirmed is False
    assert client.get(f"/konto/link/invite/{token}").status_code == 404
    admin_is_kept_out()


def test_the_team_lead_confirms_a_new_account_which_then_gets_its_invitation(
    app, client, session, factory, admin, lead, nord
):
    assert create(admin, app, nord, role="caseworker").status_code == 302
    account = user_by_email(session, "neu@example.org")
    [notice] = outbox_messages(app)
    assert notice["To"] == lead.user.email
    assert notice["Subject"] == "Kontoänderung wartet auf Ihre Bestätigung"
    assert "http://localhost/#kontoaenderungen" in notice.get_content()
    assert "neu@example.org" not in notice.get_content()

    page = lead.get("/")
    html, text = page.get_data(as_text=True), text_of(page)
    assert "Kontoänderungen zur Bestätigung" in text
    assert "Nina Neu" in text and "neu@example.org" in text and "Fallmanagement" in text and "Team Nord" in text
    assert "von Ada Admin" in text
    [change] = pending(session, account)
    assert f'action="/kontoaenderungen/{change.id}/bestaetigen"' in html and 'name="csrf_token"' in html
    # Without the form's CSRF token nothing happens.
    assert lead.post(f"/kontoaenderungen/{change.id}/bestaetigen").status_code == 400

    r = decide(lead, app, change)
    assert r.status_code == 302 and r.location.endswith("/#kontoaenderungen")
    assert "Das Konto ist bestätigt; die Person erhält jetzt ihre Einladung per E-Mail." in text_of(lead.get("/"))
    assert "Kontoänderungen zur Bestätigung" not in text_of(lead.get("/"))
    assert user_by_email(session, "neu@example.org").confirmed is True
    [invitation] = [m for m in outbox_messages(app) if m["To"] == "neu@example.org"]
    path = LINK_RE.search(invitation.get_content()).group(1)
    assert post(client, app, path, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert password_step(app.test_client(), app, "neu@example.org", NEW_PASSWORD).location.endswith(ENROL_URL)

    # Both actors in the trail: the admin proposed, the team lead confirmed and so sent the invitation.
    [proposed] = audit(session, "account_change.proposed")
    [confirmed] = audit(session, "account_change.confirmed")
    [invited] = audit(session, "account.invite_sent")
    assert (proposed.actor_id, proposed.object_id, proposed.details["change_id"]) == (
        admin.user.id,
        account.id,
        change.id,
    )
    assert (confirmed.actor_id, confirmed.details["proposed_by"], confirmed.details["change_id"]) == (
        lead.user.id,
        admin.user.id,
        change.id,
    )
    assert (invited.actor_id, invited.object_id) == (lead.user.id, account.id)
    # Deciding again: already decided, in German, nothing changes.
    before = snapshot(app)
    r = decide(lead, app, change, "ablehnen")
    assert r.status_code == 409 and "Über diese Änderung ist schon entschieden" in text_of(r)
    assert differences(before, snapshot(app)) == []


def test_a_refused_account_stays_unusable_and_both_actors_are_audited(app, session, admin, lead, nord):
    create(admin, app, nord, role="caseworker")
    account = user_by_email(session, "neu@example.org")
    [change] = pending(session, account)
    r = decide(lead, app, change, "ablehnen")
    assert r.status_code == 302
    assert "Die Änderung ist abgelehnt" in text_of(lead.get("/"))
    assert user_by_email(session, "neu@example.org").confirmed is False
    assert [m["To"] for m in outbox_messages(app)] == [lead.user.email]  # the notice only, no invitation
    [refused] = audit(session, "account_change.refused")
    assert (refused.actor_id, refused.details["proposed_by"]) == (lead.user.id, admin.user.id)


def test_nobody_but_a_team_lead_of_the_team_confirms(app, session, factory, admin, lead, nord):
    """Not the admin who proposed it, not the account itself, not a team lead of another team;
    each refusal is audited and changes nothing."""
    other_lead = factory.user("team_lead", team=factory.team("Team Süd"))
    colleague = factory.user("caseworker", team=nord)
    edit(admin, app, lead.user, email="tanja.neu@example.org")  # a change of the team lead's own account
    create(admin, app, nord, role="caseworker")
    [own] = pending(session, lead.user)
    [new] = pending(session, user_by_email(session, "neu@example.org"))
    tries = [(admin, admin.user, new), (lead, lead.user, own)]
    for user in (other_lead, colleague):
        client = app.test_client()
        login_as(client, app, user)
        tries.append((client, user, new))
    for client, user, change in tries:
        before = snapshot(app)
        refusals = len(audit(session, "access.refused"))
        assert decide(client, app, change).status_code == 404
        assert differences(before, snapshot(app)) == []
        [*_, entry] = audit(session, "access.refused")
        assert len(audit(session, "access.refused")) == refusals + 1
        assert (entry.actor_id, entry.object_type, entry.object_id, entry.details) == (
            user.id,
            "account_change",
            change.id,
            {"rule": "account_change.decide"},
        )
    # The team lead sees the change of their own account, without the buttons.
    page = text_of(lead.get("/"))
    assert "tanja.neu@example.org" in page and "Betrifft Ihr eigenes Konto" in page
    assert user_by_email(session, "tanja.neu@example.org") is None


def test_role_team_and_email_changes_wait_and_the_old_values_hold(app, client, session, factory, admin, lead, nord):
    sued = factory.team("Team Süd")
    person = factory.user("caseworker", team=nord, email="alt@example.org", name="Paul Person")
    their_client = app.test_client()
    login_as(their_client, app, person)
    r = edit(admin, app, person, name="Paul P. Person", email="neu@example.org", role="team_lead")
    assert r.status_code == 302
    assert "wird erst wirksam, wenn eine Teamleitung des Teams sie bestätigt" in text_of(admin.get(r.location))
    # The name at once; the rest waits. The person keeps working with the old role.
    now = user_by_email(session, "alt@example.org")
    assert (now.name, now.role, now.team_id) == ("Paul P. Person", "caseworker", nord.id)
    assert their_client.get("/konto").status_code == 200
    assert their_client.get("/protokolle/export").status_code == 403
    # The admin's form shows the proposal and what holds until it is confirmed.
    page = text_of(admin.get(f"/verwaltung/benutzer/{person.id}"))
    assert "Wartet auf Bestätigung durch die Teamleitung" in page and "E-Mail-Adresse: alt@example.org" in page
    # The new address is not the account's yet: a reset for it sends nothing.
    post(client, app, "/passwort-vergessen", {"email": "neu@example.org"})
    assert all(m["To"] != "neu@example.org" for m in outbox_messages(app))
    # A reset link to the old address, issued before the change, dies with it.
    post(client, app, "/passwort-vergessen", {"email": "alt@example.org"})
    [reset] = [LINK_RE.search(m.get_content()).group(1) for m in outbox_messages(app) if m["To"] == "alt@example.org"]

    [change] = pending(session, person)
    assert decide(lead, app, change).status_code == 302
    now = user_by_email(session, "neu@example.org")
    assert (now.role, now.team_id, now.email) == ("team_lead", nord.id, "neu@example.org")
    assert their_client.get("/konto").location.startswith("/anmelden")  # sessions ended
    assert client.get(reset).status_code == 404

    # A team change is confirmed by a team lead of the team the account joins.
    other = factory.user("caseworker", team=nord)
    edit(admin, app, other, team_id=str(sued.id))
    [move] = pending(session, other)
    assert move.confirming_team_id == sued.id
    assert decide(lead, app, move).status_code == 404


def test_saving_again_keeps_the_proposal_and_the_old_values_withdraw_it(app, session, factory, admin, lead, nord):
    person = factory.user("caseworker", team=nord)
    edit(admin, app, person, role="team_lead")
    [first] = pending(session, person)
    # The form shows the proposal; saving it again (a new name) keeps it as it is.
    page = admin.get(f"/verwaltung/benutzer/{person.id}").get_data(as_text=True)
    assert '<option selected value="team_lead">' in page
    edit(admin, app, person, name="Neuer Name", role="team_lead")
    assert [c.id for c in pending(session, person)] == [first.id]
    # Another proposal replaces it: deciding the old one is too late.
    edit(admin, app, person, name="Neuer Name", email="anders@example.org")
    [second] = pending(session, person)
    assert second.id != first.id
    r = decide(lead, app, first)
    assert r.status_code == 409
    # Saving the values in force withdraws the proposal.
    edit(admin, app, person, name="Neuer Name")
    assert pending(session, person) == []
    assert [e.details["change_id"] for e in audit(session, "account_change.withdrawn")] == [first.id, second.id]
    assert user_by_email(session, person.email).role == "caseworker"


def test_partner_and_admin_accounts_change_at_once(app, session, factory, admin):
    first, second = factory.agency(), factory.agency()
    partner = factory.user("partner", agency=first)
    assert edit(admin, app, partner, agency_id=str(second.id), email="p.neu@example.org").status_code == 302
    now = user_by_email(session, "p.neu@example.org")
    assert now.agency_id == second.id and pending(session, now) == []


def test_a_staff_account_leaving_its_team_is_confirmed_by_that_team(app, session, factory, admin, lead, nord):
    person = factory.user("caseworker", team=nord)
    edit(admin, app, person, role="partner", agency_id=str(factory.agency().id))
    [change] = pending(session, person)
    assert change.confirming_team_id == nord.id
    assert user_by_email(session, person.email).role == "caseworker"
    assert decide(lead, app, change).status_code == 302
    assert user_by_email(session, person.email).role == "partner"


def test_the_first_team_lead_of_a_new_team_is_confirmed_on_the_server(app, session, factory, admin):
    team = factory.team("Team Ost")
    r = create(admin, app, team)
    account = user_by_email(session, "neu@example.org")
    [change] = pending(session, account)
    assert f"flask confirm-account-change {change.id}" in text_of(admin.get(r.location))
    result = app.test_cli_runner().invoke(args=["confirm-account-change", str(change.id)])
    assert result.exit_code == 0, result.output
    assert user_by_email(session, "neu@example.org").confirmed is True
    [confirmed] = audit(session, "account_change.confirmed")
    assert (confirmed.actor_id, confirmed.details["proposed_by"]) == (None, admin.user.id)
    assert [m["To"] for m in outbox_messages(app)] == ["neu@example.org"]
    again = app.test_cli_runner().invoke(args=["confirm-account-change", str(change.id)])
    assert again.exit_code != 0 and "schon entschieden" in again.output


def test_an_unconfirmed_account_has_no_session_and_no_rights(app, session, factory, nord):
    user = factory.user("team_lead", team=nord, confirmed=False)
    assert not can(user, "case.list") and not can(user, "minutes.export")
    client = app.test_client()
    login_as(client, app, user)  # a session record made behind the log-in's back
    assert client.get("/").location.startswith("/anmelden")
    assert password_step(app.test_client(), app, user.email, PASSWORD).status_code == 401
    assert [e.details["reason"] for e in audit(session, "login.failed")] == ["unconfirmed"]
    assert scalars(session, select(AccountToken)) == []


def test_an_unconfirmed_account_changes_at_once_and_is_proposed_anew(app, session, factory, admin, lead, nord):
    sued = factory.team("Team Süd")
    sued_lead = factory.user("team_lead", team=sued)
    create(admin, app, nord, role="caseworker")
    account = user_by_email(session, "neu@example.org")
    [first] = pending(session, account)
    # Nobody can log in with it yet: its values change at once, the proposal goes to the new team.
    edit(admin, app, account, team_id=str(sued.id), email="neu2@example.org")
    account = user_by_email(session, "neu2@example.org")
    [second] = pending(session, account)
    assert (account.team_id, account.confirmed, second.confirming_team_id, second.kind) == (
        sued.id,
        False,
        sued.id,
        "create",
    )
    assert decide(lead, app, first).status_code == 409  # Team Nord's lead: too late
    assert sorted(m["To"] for m in outbox_messages(app)) == sorted([lead.user.email, sued_lead.email])
    # Made a partner account instead: nothing to confirm, the invitation leaves now.
    edit(admin, app, account, role="partner", agency_id=str(factory.agency().id))
    account = user_by_email(session, "neu2@example.org")
    assert (account.role, account.team_id, account.confirmed) == ("partner", None, True)
    assert pending(session, account) == []
    assert sorted(m["To"] for m in outbox_messages(app)) == sorted(
        [lead.user.email, sued_lead.email, "neu2@example.org"]
    )
