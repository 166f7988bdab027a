"""Consultation-hour rows for tests and the access matrix."""

from datetime import date, time

from app.consultations.models import ConsultationHour, ConsultationTopic
from app.consultations.services import build_rrule


def topic(factory, name=None, **kw):
    t = ConsultationTopic(name=name or f"Thema {factory._next()}", name_en=kw.pop("name_en", ""), **kw)
    factory._save(t)
    return t


def hour(
    factory,
    *,
    team=None,
    location=None,
    topics=(),
    recurrence="weekly",
    weekday=1,
    week_of_month=None,
    starts_on: date,
    ends_on: date,
    start=time(10, 0),
    end=time(12, 0),
    status="published",
    creator=None,
    **kw,
):
    team = team or factory.team()
    location = location or factory.location(kind="neighbourhood_office")
    creator = creator or factory.user("team_lead", team=team)
    h = ConsultationHour(
        team_id=team.id,
        location_id=location.id,
        title=kw.pop("title", "Sprechstunde des Jobcenters"),
        rrule=build_rrule(recurrence, weekday, week_of_month, starts_on),
        starts_on=starts_on,
        ends_on=ends_on,
        start_time=start,
        end_time=end,
        topic_ids=[t.id for t in topics],
        languages=kw.pop("languages", ["de", "tr"]),
        contact_office=kw.pop("contact_office", "Jobcenter MainArbeit, Team Nord"),
        contact_phone=kw.pop("contact_phone", "069 80053-0"),
        status=status,
        created_by_id=creator.id,
        **kw,
    )
    factory._save(h)
    return h
