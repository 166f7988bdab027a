"""A realistic held conference, ready for minutes: three invited agencies with different
consent scopes, agenda with discussion, notes of every kind, measures, a review of the
previous conference's measures and a follow-up date. German characters throughout."""

import io
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.clock import utcnow
from app.conferences.models import AgendaItem
from app.minutes.models import Minutes, MinutesPdf
from tests.conftest import login_as, post

INTERNAL_REFERENCE = "INTREF-4711-0815"
NOTE_JOBCENTER_ONLY = "Nur intern: Leistungsbezug wird überprüft."
NOTE_DEBT = "Schuldenstand geklärt, Ratenzahlung über 50 € vereinbart."
NOTE_HEALTH = "Gesundheitliche Einschränkung: Rückenleiden, ärztliche Begleitung läuft."
NOTE_SHARED_GENERAL = "Wohnsituation stabil, Kinderbetreuung ab März gesichert."
NOTE_HEALTH_AGENCY_OWN = "Stellungnahme des Gesundheitsdienstes zur Belastbarkeit."


@dataclass
class Scene:
    team: object
    organiser: object
    team_lead: object
    case: object
    district: object
    location: object
    debt: object
    health: object
    youth: object
    partner_debt: object
    partner_health: object
    partner_youth: object
    consent_debt: object
    consent_health: object
    consent_youth: object
    conference: object
    previous: object
    following: object


def make_scene(factory, starts_at=None) -> Scene:
    s = factory.s
    team = factory.team("Team Nord")
    organiser = factory.user("caseworker", team=team, name="Fatma Öztürk-Weiß", email="moderation@jobcenter.example")
    team_lead = factory.user("team_lead", team=team, name="Jürgen Groß", email="teamleitung@jobcenter.example")
    district = factory.district("Bürgel")
    case = factory.case(caseworker=organiser, district=district, internal_reference=INTERNAL_REFERENCE)
    location = factory.location("Stadtteilbüro Bürgel, Gruppenraum", kind="neighbourhood_office")
    debt = factory.agency("Schuldner- und Insolvenzberatung Offenbach")
    health = factory.agency("Gesundheitsförderung Mühlheim", type="health")
    youth = factory.agency("Jugendberufshilfe Straße", type="youth")
    consent_debt = factory.consent(case, debt, scope=("general", "work", "debt"))
    consent_health = factory.consent(case, health, scope=("general", "health"))
    consent_youth = factory.consent(case, youth, scope=("work",))
    partner_debt = factory.user("partner", agency=debt, name="Paul Schäfer", email="paul@schuldner.example")
    partner_health = factory.user("partner", agency=health, name="Greta Köhler", email="greta@gesund.example")
    partner_youth = factory.user("partner", agency=youth, name="Jan Büttner", email="jan@jugend.example")

    starts_at = starts_at or (utcnow() - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    previous = factory.conference(
        case,
        starts_at=starts_at - timedelta(days=60),
        location=location,
        status="closed",
        organiser=organiser,
        occasion="Erstgespräch",
    )
    conference = factory.conference(
        case,
        starts_at=starts_at,
        location=location,
        status="held",
        organiser=organiser,
        occasion="Überprüfung der Vereinbarungen",
        previous_conference_id=previous.id,
        person_attends=True,
        person_attended=True,
    )
    for agency, partner, status, attendance in (
        (debt, partner_debt, "accepted", "present"),
        (health, None, "accepted", "excused"),
        (youth, partner_youth, "declined", "absent"),
    ):
        inv = factory.invitation(conference, agency, status=status, user=partner)
        inv.attendance = attendance
    for position, (title, categories, discussion) in enumerate(
        (
            ("Begrüßung und Vorstellungsrunde", ["general"], "Alle Beteiligten stellen sich vor; Frau Ö. moderiert."),
            (
                "Rückblick auf die Maßnahmen",
                ["debt"],
                "Die Schuldnerberatung berichtet über Fortschritte.\nZweiter Absatz mit Ümläuten.",
            ),
            ("Nächste Schritte & Ziele", ["work"], "Bewerbungstraining ab Mai; Übergang in Teilzeitarbeit geplant."),
        ),
        start=1,
    ):
        s.add(
            AgendaItem(
                conference_id=conference.id,
                position=position,
                title=title,
                discussion=discussion,
                categories=categories,
            )
        )
    s.commit()
    factory.note(conference, organiser, body=NOTE_JOBCENTER_ONLY, categories=("general",), visibility="jobcenter")
    factory.note(conference, organiser, body=NOTE_SHARED_GENERAL, categories=("general", "family"))
    factory.note(conference, partner_debt, body=NOTE_DEBT, categories=("debt",))
    factory.note(
        conference,
        factory.user("partner", agency=health, name="Dr. Hanna Brück"),
        body=NOTE_HEALTH,
        categories=("health",),
    )
    # An own note of the health agency in a category its consent does not name (family).
    factory.note(conference, partner_health, body=NOTE_HEALTH_AGENCY_OWN, categories=("health", "family"))
    factory.measure(
        conference,
        what="Bewerbungstraining „Fit für den Job“ besuchen",
        responsible_kind="person",
        due_on=date(2026, 5, 29),
        categories=("work",),
    )
    factory.measure(
        conference,
        what="Ratenplan mit Gläubigern abstimmen",
        responsible_kind="agency",
        agency=debt,
        due_on=date(2026, 4, 15),
        status="in_progress",
        categories=("debt",),
    )
    factory.measure(
        conference,
        what="Kinderbetreuungsplatz bestätigen",
        responsible_kind="jobcenter",
        due_on=date(2026, 3, 31),
        categories=("family",),
    )
    old = factory.measure(
        previous,
        what="Erstgespräch bei der Schuldnerberatung wahrnehmen",
        responsible_kind="agency",
        agency=debt,
        due_on=date(2026, 2, 13),
        status="done",
        categories=("debt",),
    )
    old.reviewed_in_conference_id = conference.id
    old.outcome = "Termin wahrgenommen, Unterlagen vollständig."
    s.commit()
    following = factory.conference(
        case,
        starts_at=starts_at + timedelta(days=91),
        location=location,
        organiser=organiser,
        occasion="Folgetermin",
        previous_conference_id=conference.id,
    )
    return Scene(
        team,
        organiser,
        team_lead,
        case,
        district,
        location,
        debt,
        health,
        youth,
        partner_debt,
        partner_health,
        partner_youth,
        consent_debt,
        consent_health,
        consent_youth,
        conference,
        previous,
        following,
    )


@pytest.fixture
def scene(factory):
    return make_scene(factory)


SUMMARY = "Die Lage hat sich stabilisiert. Größere Schulden sind geordnet; Übergang in Arbeit ist realistisch."
DECISION_WORK = "Bewerbungstraining wird gefördert."
DECISION_DEBT = "Ratenplan wird bis Mitte April abgestimmt."
MINUTES_DATA = {
    "summary": SUMMARY,
    "summary_categories": ["debt", "general", "work"],
    "decisions-0-text": DECISION_WORK,
    "decisions-0-categories": ["work"],
    "decisions-1-text": DECISION_DEBT,
    "decisions-1-categories": ["debt"],
    "next_date_note": "Folgetermin in etwa drei Monaten im Stadtteilbüro.",
}


def page_url(conference) -> str:
    return f"/konferenzen/{conference.id}/protokoll"


def save_draft(client, app, conference, data=None, finalise=False, **kw):
    """Save the draft; with ``finalise`` as "Speichern und abschließen" does: save, then confirm on
    the confirmation page (returns the confirmation's answer, or the save's if that failed)."""
    form = dict(MINUTES_DATA if data is None else data)
    form.update(kw)
    if finalise:
        form["finalise"] = "1"
    response = post(client, app, page_url(conference), form)
    if not finalise or response.status_code != 302 or "/abschliessen" not in response.location:
        return response
    return confirm_finalise(client, app, conference)


def confirm_finalise(client, app, conference):
    """POST the confirmation page of finalising with the draft's current version."""
    draft = latest(app, conference)
    return post(client, app, f"/protokolle/{draft.id}/abschliessen", {"version": str(draft.version)})


def finalised(client, app, scene, data=None) -> Minutes:
    """The organiser writes and finalises the minutes in one step; returns version 1."""
    login_as(client, app, scene.organiser)
    r = save_draft(client, app, scene.conference, data, finalise=True)
    assert r.status_code == 302, r.get_data(as_text=True)
    return latest(app, scene.conference)


def latest(app, conference) -> Minutes:
    from app import db

    with app.app_context():
        s = db.get_session()
        return (
            s.execute(
                select(Minutes).where(Minutes.conference_id == conference.id).order_by(Minutes.version_number.desc())
            )
            .scalars()
            .first()
        )


def stored_pdf(app, minutes, variant="archive") -> MinutesPdf | None:
    from app import db

    with app.app_context():
        s = db.get_session()
        return s.execute(
            select(MinutesPdf).where(MinutesPdf.minutes_id == minutes.id, MinutesPdf.variant == variant)
        ).scalar_one_or_none()


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def audit_actions(app, action=None) -> list:
    from app import db

    with app.app_context():
        s = db.get_session()
        q = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            q = q.where(AuditEntry.action == action)
        return list(s.execute(q).scalars())


def count(app, model, *where) -> int:
    from app import db

    with app.app_context():
        return db.get_session().execute(select(func.count()).select_from(model).where(*where)).scalar()
