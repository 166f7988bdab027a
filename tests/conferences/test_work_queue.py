"""The work queue on the staff start page (issue 13): minutes to write, comments received on
shared drafts, unanswered invitations and e-mails that failed."""

import re
from datetime import timedelta

from app.clock import berlin_today
from app.mail import FAILED, SENT, OutboxMessage
from app.minutes.models import Minutes, MinutesComment
from tests.conferences.conftest import future
from tests.conftest import login_as, text_of


def _section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert match, heading_id
    return match.group(1)


def _minutes(factory, conference, **kw):
    m = Minutes(conference_id=conference.id, **kw)
    factory._save(m)
    return m


def test_minutes_to_write_are_the_users_held_conferences_without_final_minutes(app, client, factory, scene):
    colleague = factory.user("caseworker", team=scene.team)
    mine = factory.conference(scene.case, location=scene.location, starts_at=future(days=-3), status="held")
    drafted = factory.conference(scene.case, location=scene.location, starts_at=future(days=-2), status="held")
    _minutes(factory, drafted, comments_until=berlin_today() + timedelta(days=5))
    theirs = factory.conference(
        scene.case, location=scene.location, starts_at=future(days=-4), status="held", organiser=colleague
    )
    closed = factory.conference(scene.case, location=scene.location, starts_at=future(days=-5), status="closed")
    planned = factory.conference(scene.case, location=scene.location, starts_at=future(days=2))
    login_as(client, app, scene.caseworker)
    html = _section(client.get("/").get_data(as_text=True), "h-protokolle")
    assert re.findall(r"/konferenzen/(\d+)/protokoll", html) == [str(mine.id), str(drafted.id)]  # oldest first
    for other in (theirs, closed, planned):
        assert f"/konferenzen/{other.id}/" not in html
    assert "noch kein Entwurf" in html and "zur Anmerkung bis" in html
    # The colleague sees theirs, not the caseworker's.
    login_as(client, app, colleague)
    html = _section(client.get("/").get_data(as_text=True), "h-protokolle")
    assert re.findall(r"/konferenzen/(\d+)/protokoll", html) == [str(theirs.id)]


def test_comments_received_on_the_users_shared_drafts(app, client, factory, scene):
    colleague = factory.user("caseworker", team=scene.team)
    held = factory.conference(scene.case, location=scene.location, starts_at=future(days=-3), status="held")
    draft = _minutes(factory, held, comments_until=berlin_today() + timedelta(days=5))
    factory._save(
        MinutesComment(
            minutes_id=draft.id, agency_id=scene.debt.id, author_id=scene.partner_debt.id, body="Bitte TOP 2 ergänzen."
        )
    )
    other = factory.conference(
        scene.case, location=scene.location, starts_at=future(days=-4), status="held", organiser=colleague
    )
    other_draft = _minutes(factory, other, comments_until=berlin_today() + timedelta(days=5))
    factory._save(
        MinutesComment(
            minutes_id=other_draft.id, agency_id=scene.debt.id, author_id=scene.partner_debt.id, body="Fremder Entwurf"
        )
    )
    final = factory.conference(scene.case, location=scene.location, starts_at=future(days=-6), status="closed")
    final_minutes = _minutes(factory, final, status="final")
    factory._save(
        MinutesComment(
            minutes_id=final_minutes.id,
            agency_id=scene.debt.id,
            author_id=scene.partner_debt.id,
            body="Längst erledigt",
        )
    )
    login_as(client, app, scene.caseworker)
    section = _section(client.get("/").get_data(as_text=True), "h-anmerkungen")
    assert "Bitte TOP 2 ergänzen." in section and "Schuldnerberatung" in section
    assert f"/konferenzen/{held.id}/protokoll" in section
    assert "Fremder Entwurf" not in section and "Längst erledigt" not in section


def test_failed_invitation_mail_of_the_team(app, client, factory, scene):
    planned = factory.conference(scene.case, location=scene.location, starts_at=future(days=5))
    failed = factory.invitation(planned, scene.debt)
    repaired = factory.invitation(planned, scene.health)
    foreign_conf = factory.conference(factory.case(), location=scene.location, starts_at=future(days=5))
    foreign = factory.invitation(foreign_conf, scene.other)

    def message(inv, status, error=None):
        factory._save(
            OutboxMessage(
                template="conference_invitation",
                message=b"-",
                status=status,
                last_error=error,
                ref_type="invitation",
                ref_id=inv.id,
            )
        )

    message(failed, FAILED, "SMTPRecipientsRefused:550")
    message(repaired, FAILED, "SMTPServerDisconnected")
    message(repaired, SENT)  # sent again since: nothing to do
    message(foreign, FAILED, "SMTPRecipientsRefused:550")
    for user in (scene.caseworker, scene.team_lead):
        login_as(client, app, user)
        response = client.get("/")
        section = _section(response.get_data(as_text=True), "h-fehlgeschlagen")
        assert "Schuldnerberatung" in section and "SMTPRecipientsRefused:550" in section
        assert "Gesundheitsamt" not in section and "Jugendhilfe" not in section
        assert f"/konferenzen/{planned.id}#einladungen" in section
    assert "Keine fehlgeschlagenen E-Mails." not in text_of(response)


def test_an_empty_queue_says_so(app, client, scene):
    login_as(client, app, scene.caseworker)
    body = text_of(client.get("/"))
    assert "Zu erledigen" in body
    for empty in (
        "Keine offenen Protokolle.",
        "Keine Anmerkungen zu offenen Entwürfen.",
        "Alle Einladungen sind beantwortet.",
        "Keine fehlgeschlagenen E-Mails.",
    ):
        assert empty in body
