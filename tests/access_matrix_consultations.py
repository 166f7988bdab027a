"""Access-matrix entries for issue 14: consultation hours (staff pages and the public pages, which
the anonymous actor reaches and nothing else there is to reach) and the date poll.

Scenario: ``hour`` is a published consultation hour of ``team`` at a neighbourhood office;
``other_hour`` one of ``other_team``. ``caseworker_publisher`` is a caseworker of ``team`` whom a
team lead allowed to publish. ``poll`` is an open date poll of ``conference`` asking every agency
with a consent for the case (valid or not): the asked partners with a valid consent see it, the
others (withdrawn, expired) get 404 like everyone outside.
"""

from datetime import timedelta

from sqlalchemy import func, select

from app.cases.models import Consent
from app.clock import berlin_today, utcnow
from app.conferences.models import DatePoll, PollParticipant, PollSlot
from app.consultations.models import (
    ConsultationException,
    ConsultationHour,
    ConsultationPublisher,
    ConsultationVisit,
)
from tests.access_matrix import MISSING, Redirect, actor, everyone, obj, protected, route
from tests.consultations.helpers import hour as make_hour
from tests.consultations.helpers import topic as make_topic

# --- objects -----------------------------------------------------------------------------------


def _series(s, team):
    today = berlin_today()
    place = s.factory.location(kind="neighbourhood_office")
    place.district_id = s.district.id
    s.factory.s.commit()
    return make_hour(
        s.factory,
        team=team,
        location=place,
        topics=(s.hour_topic,),
        weekday=today.weekday() % 5,
        starts_on=today - timedelta(days=21),
        ends_on=today + timedelta(days=120),
    )


@obj
def hour_topic(s):
    return make_topic(s.factory, name_en="A topic")


@obj
def hour(s):
    return _series(s, s.team)


@obj
def other_hour(s):
    return _series(s, s.other_team)


def _past_day(h):
    from app.consultations.services import occurrences

    today = berlin_today()
    return next(o.day for o in reversed(occurrences(h, h.starts_on, today, include_skipped=False)))


def _future_day(h):
    from app.consultations.services import occurrences

    today = berlin_today()
    return next(o.day for o in occurrences(h, today + timedelta(days=1), h.ends_on, include_skipped=False))


@obj
def hour_exception(s):
    e = ConsultationException(
        hour_id=s.hour.id,
        day=_future_day(s.hour),
        kind="cancelled",
        note="Fortbildung",
        created_by_id=s.hour.created_by_id,
    )
    s.factory.s.add(e)
    s.factory.s.commit()
    return e


@obj
def other_exception(s):
    e = ConsultationException(
        hour_id=s.other_hour.id,
        day=_future_day(s.other_hour),
        kind="cancelled",
        created_by_id=s.other_hour.created_by_id,
    )
    s.factory.s.add(e)
    s.factory.s.commit()
    return e


@obj
def hour_visit(s):
    v = ConsultationVisit(hour_id=s.hour.id, day=_past_day(s.hour), visitors=3, recorded_by_id=s.hour.created_by_id)
    s.factory.s.add(v)
    s.factory.s.commit()
    return v


@obj
def other_visit(s):
    v = ConsultationVisit(
        hour_id=s.other_hour.id, day=_past_day(s.other_hour), visitors=2, recorded_by_id=s.other_hour.created_by_id
    )
    s.factory.s.add(v)
    s.factory.s.commit()
    return v


@obj
def team_caseworker(s):
    """A caseworker of ``team``: the one a team lead allows to publish."""
    return s.factory.user("caseworker", team=s.team)


@obj
def other_team_caseworker(s):
    return s.factory.user("caseworker", team=s.other_team)


@obj
def poll(s):
    """Open, two slots, asking every agency that holds a consent for the case (valid or not)."""
    conference = s.conference
    p = DatePoll(conference_id=conference.id, organiser_id=conference.organiser_id)
    s.factory.s.add(p)
    s.factory.s.flush()
    start = (utcnow() + timedelta(days=12)).replace(hour=9, minute=0, second=0, microsecond=0)
    for n in range(2):
        s.factory.s.add(
            PollSlot(
                poll_id=p.id,
                position=n + 1,
                starts_at=start + timedelta(days=n),
                ends_at=start + timedelta(days=n, hours=1),
                location_id=s.location.id,
            )
        )
    agencies = set(
        s.factory.s.execute(select(Consent.agency_id).where(Consent.case_id == conference.case_id)).scalars()
    )
    for agency_id in sorted(agencies):
        s.factory.s.add(PollParticipant(poll_id=p.id, agency_id=agency_id))
    s.factory.s.commit()
    return p


def _slot_ids(s):
    try:
        return list(
            s.factory.s.execute(
                select(PollSlot.id).where(PollSlot.poll_id == s.poll.id).order_by(PollSlot.id)
            ).scalars()
        )
    finally:
        s.factory.s.commit()


def _participant_version(s):
    return "1"


# --- actors --------------------------------------------------------------------------------------


@actor(like="caseworker")
def caseworker_publisher(s):
    """A caseworker of ``team`` a team lead of the team allowed to publish consultation hours."""
    user = s.factory.user("caseworker", team=s.team)
    lead = s.factory.user("team_lead", team=s.team)
    s.factory.s.add(ConsultationPublisher(user_id=user.id, team_id=s.team.id, granted_by_id=lead.id))
    s.factory.s.commit()
    return user


# --- the public pages: the same for everyone, logged in or not --------------------------------------

route("GET", "/sprechstunden", "/sprechstunden", everyone(200))
route(
    "GET",
    "/sprechstunden",
    lambda s: f"/sprechstunden?stadtteil={s.hour.id and s.district.id}",
    everyone(200),
    name="filtered",
)
route("GET", "/sprechstunden", "/sprechstunden?stadtteil=999999", everyone(400), name="unknown district")
route("GET", "/sprechstunden/<any(einfach, en):fassung>", lambda s: s.hour and "/sprechstunden/einfach", everyone(200))
route(
    "GET",
    "/sprechstunden/<any(einfach, en):fassung>",
    lambda s: s.hour and "/sprechstunden/en",
    everyone(200),
    name="en",
)
route(
    "GET", "/sprechstunden/orte/<int:location_id>", lambda s: f"/sprechstunden/orte/{s.hour.location_id}", everyone(200)
)
route(
    "GET", "/sprechstunden/orte/<int:location_id>", "/sprechstunden/orte/999999", everyone(MISSING), name="unknown id"
)
route(
    "GET",
    "/sprechstunden/orte/<int:location_id>",
    lambda s: f"/sprechstunden/orte/{s.location.id}",
    everyone(MISSING),
    name="a place without consultation hours",
)
route(
    "GET",
    "/sprechstunden/<any(einfach, en):fassung>/orte/<int:location_id>",
    lambda s: f"/sprechstunden/en/orte/{s.hour.location_id}",
    everyone(200),
)
route("GET", "/sprechstunden/kalender.ics", lambda s: s.hour and "/sprechstunden/kalender.ics", everyone(200))
route(
    "GET",
    "/sprechstunden/stadtteile/<int:district_id>/kalender.ics",
    lambda s: f"/sprechstunden/stadtteile/{s.hour.id and s.district.id}/kalender.ics",
    everyone(200),
)
route(
    "GET",
    "/sprechstunden/stadtteile/<int:district_id>/kalender.ics",
    "/sprechstunden/stadtteile/999999/kalender.ics",
    everyone(MISSING),
    name="unknown id",
)
route(
    "GET",
    "/sprechstunden/orte/<int:location_id>/kalender.ics",
    lambda s: f"/sprechstunden/orte/{s.hour.location_id}/kalender.ics",
    everyone(200),
)
route(
    "GET",
    "/sprechstunden/orte/<int:location_id>/aushang.pdf",
    lambda s: f"/sprechstunden/orte/{s.hour.location_id}/aushang.pdf",
    everyone(200),
)

# --- staff pages ----------------------------------------------------------------------------------

H = "/team/sprechstunden"
TEAM = {"team_lead": 200, "caseworker": 200}
ALL_STAFF = {**TEAM, "team_lead_other_team": 200, "caseworker_other_team": 200}
PUBLISHERS = {"team_lead": 200, "caseworker_publisher": 200, "caseworker": 403}


def _hour_form(s, **extra):
    today = berlin_today()
    return {
        "title": "Sprechstunde des Jobcenters",
        "location_id": str(s.hour.location_id),
        "recurrence": "weekly",
        "weekday": "1",
        "week_of_month": "1",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=90)).isoformat(),
        "start_time": "10:00",
        "end_time": "12:00",
        "topic_ids": [str(s.hour_topic.id)],
        "languages": ["de"],
        "contact_office": "Jobcenter MainArbeit",
        "contact_phone": "069 80053-0",
        "contact_email": "",
        "status": "published",
        "version": str(s.hour.version),
        **extra,
    }


def on_hour(**named):
    """Routes of one hour: non-staff are refused before the hour is loaded (403), another team's
    staff do not learn it exists (404)."""
    return protected(403, team_lead_other_team=404, caseworker_other_team=404, **named)


def _newest_hour(s):
    s.factory.s.commit()
    try:
        return f"{H}/{s.factory.s.execute(select(func.max(ConsultationHour.id))).scalar_one()}"
    finally:
        s.factory.s.commit()


def _hour_page(name="hour"):
    return Redirect(lambda s: f"{H}/{getattr(s, name).id}")


route("GET", H, H, protected(403, **ALL_STAFF))
route("GET", f"{H}/neu", f"{H}/neu", protected(403, team_lead_other_team=200, **PUBLISHERS))
route(
    "POST",
    f"{H}/neu",
    f"{H}/neu",
    protected(
        403,
        team_lead=Redirect(_newest_hour),
        caseworker_publisher=Redirect(_newest_hour),
        # Every team's lead publishes its own team's hours, at any neighbourhood office.
        team_lead_other_team=Redirect(_newest_hour),
    ),
    data=_hour_form,
)
route("GET", f"{H}/<int:hour_id>", lambda s: f"{H}/{s.hour.id}", on_hour(**TEAM))
route(
    "GET", f"{H}/<int:hour_id>", f"{H}/999999", protected(403, **dict.fromkeys(ALL_STAFF, MISSING)), name="unknown id"
)
route("GET", f"{H}/<int:hour_id>/bearbeiten", lambda s: f"{H}/{s.hour.id}/bearbeiten", on_hour(**PUBLISHERS))
route(
    "POST",
    f"{H}/<int:hour_id>/bearbeiten",
    lambda s: f"{H}/{s.hour.id}/bearbeiten",
    on_hour(team_lead=_hour_page(), caseworker_publisher=_hour_page(), caseworker=403),
    data=_hour_form,
)
route(
    "GET",
    f"{H}/<int:hour_id>/ausnahmen/neu",
    lambda s: f"{H}/{s.hour.id}/ausnahmen/neu",
    on_hour(**PUBLISHERS),
)
route(
    "POST",
    f"{H}/<int:hour_id>/ausnahmen/neu",
    lambda s: f"{H}/{s.hour.id}/ausnahmen/neu",
    on_hour(team_lead=_hour_page(), caseworker_publisher=_hour_page(), caseworker=403),
    data=lambda s: {"day": _future_day(s.hour).isoformat(), "kind": "cancelled", "note": "Fortbildung"},
)
route(
    "POST",
    f"{H}/<int:hour_id>/ausnahmen/<int:exception_id>/aufheben",
    lambda s: f"{H}/{s.hour.id}/ausnahmen/{s.hour_exception.id}/aufheben",
    on_hour(team_lead=_hour_page(), caseworker_publisher=_hour_page(), caseworker=403),
)
route(
    "POST",
    f"{H}/<int:hour_id>/ausnahmen/<int:exception_id>/aufheben",
    lambda s: f"{H}/{s.hour.id}/ausnahmen/{s.other_exception.id}/aufheben",
    on_hour(team_lead=404, caseworker=403, caseworker_publisher=404),
    name="of another hour",
)
VISIT = {"visitors": "4", "conferences_suggested": "1", "note": "Viele Fragen zum Bildungspaket."}
route("GET", f"{H}/<int:hour_id>/zahlen/neu", lambda s: f"{H}/{s.hour.id}/zahlen/neu", on_hour(**TEAM))
route(
    "POST",
    f"{H}/<int:hour_id>/zahlen/neu",
    lambda s: f"{H}/{s.hour.id}/zahlen/neu",
    on_hour(team_lead=_hour_page(), caseworker=_hour_page()),
    data=lambda s: {**VISIT, "day": _past_day(s.hour).isoformat(), f"topic_{s.hour_topic.id}": "2"},
)
route(
    "GET",
    f"{H}/<int:hour_id>/zahlen/<int:visit_id>",
    lambda s: f"{H}/{s.hour.id}/zahlen/{s.hour_visit.id}",
    on_hour(**TEAM),
)
route(
    "POST",
    f"{H}/<int:hour_id>/zahlen/<int:visit_id>",
    lambda s: f"{H}/{s.hour.id}/zahlen/{s.hour_visit.id}",
    on_hour(team_lead=_hour_page(), caseworker=_hour_page()),
    data=lambda s: {**VISIT, "day": s.hour_visit.day.isoformat(), "version": "1"},
)
route(
    "GET",
    f"{H}/<int:hour_id>/zahlen/<int:visit_id>",
    lambda s: f"{H}/{s.hour.id}/zahlen/{s.other_visit.id}",
    on_hour(team_lead=404, caseworker=404),
    name="of another hour",
)
PUBLISHER_RULE = f"{H}/veroeffentlichen/<int:user_id>/<any(erlauben, entziehen):change>"
for change in ("erlauben", "entziehen"):
    route(
        "POST",
        PUBLISHER_RULE,
        (lambda c: lambda s: f"{H}/veroeffentlichen/{s.team_caseworker.id}/{c}")(change),
        protected(404, team_lead=Redirect(H)),
        name=change,
    )
route(
    "POST",
    PUBLISHER_RULE,
    lambda s: f"{H}/veroeffentlichen/{s.other_team_caseworker.id}/erlauben",
    protected(404, team_lead_other_team=Redirect(H)),
    name="a caseworker of another team",
)

# --- the date poll ------------------------------------------------------------------------------------

P = "/konferenzen/<int:conference_id>/terminabstimmung"
ASKED = {"partner": 200, "partner_declined": 200, "partner_not_invited": 200, "partner_other_case": 200}


def _to_poll(s):
    return f"/konferenzen/{s.poll.conference_id}/terminabstimmung"


def _poll_form(s):
    day = berlin_today() + timedelta(days=14)
    data = {"agencies": [str(s.agency.id)]}
    for i in range(2):
        data[f"slots-{i}-day"] = (day + timedelta(days=i)).isoformat()
        data[f"slots-{i}-start_time"] = "10:00"
        data[f"slots-{i}-end_time"] = "11:00"
        data[f"slots-{i}-location_id"] = str(s.location.id)
    return data


route(
    "GET",
    f"{P}/neu",
    lambda s: f"/konferenzen/{s.conference.id}/terminabstimmung/neu",
    protected(404, team_lead=200, caseworker=200, partner=403, partner_declined=403),
)
route(
    "POST",
    f"{P}/neu",
    lambda s: f"/konferenzen/{s.conference.id}/terminabstimmung/neu",
    protected(
        404,
        team_lead=Redirect(lambda s: f"/konferenzen/{s.conference.id}/terminabstimmung"),
        caseworker=Redirect(lambda s: f"/konferenzen/{s.conference.id}/terminabstimmung"),
        partner=403,
        partner_declined=403,
    ),
    data=_poll_form,
)
route("GET", P, lambda s: _to_poll(s), protected(404, team_lead=200, caseworker=200, **ASKED))
route(
    "GET",
    P,
    lambda s: f"/konferenzen/{s.held_conference.id}/terminabstimmung",
    protected(404, team_lead=MISSING, caseworker=MISSING),
    name="a conference without a poll",
)
route(
    "POST",
    f"{P}/antwort",
    lambda s: f"{_to_poll(s)}/antwort",
    protected(
        404,
        team_lead=403,
        caseworker=403,
        **{name: Redirect(_to_poll) for name in ASKED},
    ),
    data=lambda s: {**{f"slot_{slot_id}": "yes" for slot_id in _slot_ids(s)}, "version": _participant_version(s)},
)
route(
    "POST",
    f"{P}/entscheidung",
    lambda s: f"{_to_poll(s)}/entscheidung",
    protected(
        404,
        team_lead=Redirect(lambda s: f"/konferenzen/{s.poll.conference_id}"),
        caseworker=Redirect(lambda s: f"/konferenzen/{s.poll.conference_id}"),
        **dict.fromkeys(ASKED, 403),
    ),
    data=lambda s: {"slot": str(_slot_ids(s)[0]), "version": "1"},
)
