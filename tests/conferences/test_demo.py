"""Demo conferences: every demo account has full start pages, and partners cases they must not see."""

from sqlalchemy import select

from app.accounts.models import User
from app.cases.models import Case
from app.conferences.models import Conference, Invitation, Measure, Note
from app.demo import seed
from tests.conftest import login_as, text_of


def _seed(app, session):
    """The whole demo, as `flask seed-demo` loads it: cases, conferences, then minutes
    (rendered from templates, so inside an app context)."""
    with app.app_context():
        seed(session)
    users = {u.email: u for u in session.execute(select(User)).scalars()}
    cases = list(session.execute(select(Case).order_by(Case.id)).scalars())
    conferences = list(session.execute(select(Conference).order_by(Conference.id)).scalars())
    session.commit()
    return users, cases, conferences


def test_demo_conferences_cover_every_state(app, session):
    _users, _cases, conferences = _seed(app, session)
    # Held conferences with final minutes are closed (seed_minutes).
    assert {c.status for c in conferences} == {"held", "closed", "planned", "cancelled"}
    invitations = list(session.execute(select(Invitation)).scalars())
    assert {i.status for i in invitations} >= {"accepted", "declined", "pending"}
    assert {i.attendance for i in invitations} >= {"present", "excused", "absent"}
    measures = list(session.execute(select(Measure)).scalars())
    assert {m.status for m in measures} == {"agreed", "in_progress", "done", "not_done"}
    assert {m.responsible_kind for m in measures} == {"agency", "jobcenter", "person"}
    notes = list(session.execute(select(Note)).scalars())
    assert {(n.agency_id is None, n.visibility) for n in notes} == {
        (True, "shared"),
        (True, "jobcenter"),
        (False, "shared"),
        (False, "jobcenter"),
    }
    assert any(n.withdrawn_at for n in notes) and any("health" in n.categories for n in notes)
    assert any(c.previous_conference_id for c in conferences)
    session.commit()


def test_demo_accounts_have_full_start_pages_and_partners_blind_spots(app, client, session):
    users, cases, conferences = _seed(app, session)
    for email in ("teamleitung@demo.invalid", "fallmanagement@demo.invalid", "fallmanagement.sued@demo.invalid"):
        login_as(client, app, users[email])
        body = text_of(client.get("/"))
        for empty in (
            "Keine anstehenden Fallkonferenzen.",
            "Alle Einladungen sind beantwortet.",
            "Keine überfälligen oder bald fälligen Maßnahmen.",
            "Für alle offenen Fälle ist eine Fallkonferenz geplant.",
        ):
            assert empty not in body, (email, empty)
        assert "überfällig" in body
    # The caseworker's work queue has something in each list (issue 13).
    login_as(client, app, users["fallmanagement@demo.invalid"])
    body = text_of(client.get("/"))
    for empty in (
        "Keine offenen Protokolle.",
        "Keine Anmerkungen zu offenen Entwürfen.",
        "Alle Einladungen sind beantwortet.",
        "Keine fehlgeschlagenen E-Mails.",
    ):
        assert empty not in body, empty
    assert "SMTPRecipientsRefused 550" in body and "Ratenplan schon begonnen" in body
    for email in (
        "partner.schuldnerberatung@demo.invalid",
        "partner.bildung@demo.invalid",
        "partner.gesundheit@demo.invalid",
        "partner.stadtteilbuero@demo.invalid",
    ):
        login_as(client, app, users[email])
        body = text_of(client.get("/"))
        assert "Keine anstehenden Fallkonferenzen." not in body, email
        seen = {c.id for c in conferences if client.get(f"/konferenzen/{c.id}").status_code == 200}
        hidden = {c.id for c in conferences} - seen
        assert seen and hidden, email
        for case in cases:
            assert case.internal_reference not in body
        # Each partner's history lists what it sees, and some of it with final minutes.
        history = client.get("/konferenzen/verlauf").get_data(as_text=True)
        assert "Ihre Einrichtung ist zu keiner Fallkonferenz eingeladen" not in history, email
    login_as(client, app, users["partner.schuldnerberatung@demo.invalid"])
    assert "PDF herunterladen" in client.get("/konferenzen/verlauf").get_data(as_text=True)
    session.commit()


def test_the_demo_loads_without_a_base_url(app, session, monkeypatch):
    """`make run` sets no BASE_URL: the demo's e-mails then link to the address it runs on."""
    monkeypatch.setitem(app.config, "BASE_URL", None)
    monkeypatch.setitem(app.config, "PORT", 5077)
    _seed(app, session)
    import email
    from email.policy import default

    from app.mail import OutboxMessage

    texts = [
        part.get_content()
        for row in session.execute(select(OutboxMessage)).scalars()
        for part in email.message_from_bytes(row.message, policy=default).walk()
        if part.get_content_type() == "text/plain"
    ]
    assert texts and any("http://127.0.0.1:5077/konferenzen/" in text for text in texts)
