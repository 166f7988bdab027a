"""A conference scenario: one team's case, two agencies with consents, one without."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import icalendar
import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.clock import utcnow
from tests.conftest import agenda_fields, working_day


@dataclass
class Scene:
    team: object
    caseworker: object
    team_lead: object
    case: object
    location: object
    debt: object  # agency with consent for general, work, debt
    health: object  # agency with consent that names health
    other: object  # agency without consent
    partner_debt: object
    partner_health: object
    partner_other: object
    consent_debt: object
    consent_health: object


@pytest.fixture
def scene(factory):
    team = factory.team("Team Nord")
    caseworker = factory.user("caseworker", team=team, name="Clara Fallmanagerin", email="clara@jobcenter.example")
    team_lead = factory.user("team_lead", team=team, name="Tom Teamleitung")
    district = factory.district("Nordend")
    case = factory.case(
        caseworker=caseworker,
        district=district,
        internal_reference="INTREF-778899",
        summary="GEHEIME-ZUSAMMENFASSUNG",
        goals="GEHEIME-ZIELE",
    )
    debt = factory.agency("Schuldnerberatung")
    health = factory.agency("Gesundheitsamt", type="health")
    other = factory.agency("Jugendhilfe", type="youth")
    consent_debt = factory.consent(case, debt, scope=("general", "work", "debt"))
    consent_health = factory.consent(case, health, scope=("general", "health"))
    return Scene(
        team=team,
        caseworker=caseworker,
        team_lead=team_lead,
        case=case,
        location=factory.location("Raum 2.14"),
        debt=debt,
        health=health,
        other=other,
        partner_debt=factory.user("partner", agency=debt, name="Paula Partner"),
        partner_health=factory.user("partner", agency=health, name="Gerd Gesund"),
        partner_other=factory.user("partner", agency=other, name="Jana Jugend"),
        consent_debt=consent_debt,
        consent_health=consent_health,
    )


def future(days=7, hour=8):
    """An aware UTC time ``days`` ahead at ``hour``:00 UTC; ahead, the next working day from there
    (no date warning when the form is saved again)."""
    if days > 0:
        day = working_day(days)
        return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return (utcnow() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def conference_form(scene, **overrides) -> dict:
    day = working_day(10)
    data = {
        "occasion": "Erstes Fallgespräch",
        "day": day.isoformat(),
        "start_time": "10:00",
        "end_time": "11:30",
        "location_id": str(scene.location.id),
        "person_attends": "y",
    }
    agenda = overrides.pop("agenda", "Begrüßung\nSituation\nMaßnahmen")
    data.update(agenda_fields(agenda))
    data.update(overrides)
    return data


# On SQLite every transaction starts with the write lock (BEGIN IMMEDIATE): the helpers
# below end theirs, so that a following log-in or request is not blocked by the test.


def fresh(session, *objs):
    """Reload ``objs`` from the database."""
    for obj in objs:
        session.refresh(obj)
    session.commit()
    return objs[0] if len(objs) == 1 else objs


def audit_actions(session, action=None):
    q = select(AuditEntry).order_by(AuditEntry.id).execution_options(populate_existing=True)
    if action:
        q = q.where(AuditEntry.action == action)
    rows = list(session.execute(q).scalars())
    session.commit()
    return rows


def count(session, model, *where) -> int:
    n = session.execute(select(func.count()).select_from(model).where(*where)).scalar()
    session.commit()
    return n


def calendar_of(msg: EmailMessage):
    """The parsed iCalendar attachment of an e-mail, or None."""
    for part in msg.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_payload(decode=True))
    return None


def event_of(msg: EmailMessage):
    return calendar_of(msg).walk("VEVENT")[0]
