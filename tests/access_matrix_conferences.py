"""Access-matrix entries for the conference routes (issue 4), in the vocabulary of
``tests/access_matrix.py``, which imports this module at its end.

The scenario: ``conference`` is a planned conference of a case of ``team``. ``agency`` (the
generic ``partner`` actor's agency) is invited and has a valid consent. Four more partner
actors probe the edges of DESIGN.md section 4:

- ``partner_not_invited``: its agency has a valid consent for the case, but no invitation;
- ``partner_consent_withdrawn``: invited (and accepted), consent withdrawn afterwards;
- ``partner_declined``: invited, consent valid, declined the invitation (may still look);
- ``partner_other_case``: invited to a conference of another case of the same team only.

``past_conference`` (planned, begun yesterday), ``held_conference`` and its follow-up
``follow_up_conference`` have no partner invited: partners get 404 there.
"""

from datetime import timedelta

from sqlalchemy import func, select

from app.clock import berlin_today, to_local, utcnow
from app.conferences.models import AgendaItem, Conference, Invitation
from tests.access_matrix import MISSING, Redirect, actor, obj, protected, route
from tests.conftest import agenda_fields, working_day

# --- objects -------------------------------------------------------------------------------


def _one(s, stmt):
    """One row, read on the factory's session; the transaction ends at once (SQLite's write lock)."""
    try:
        return s.factory.s.execute(stmt).scalar_one()
    finally:
        s.factory.s.commit()


def _later(days):
    return (utcnow() + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)


@obj
def conf_case(s):
    return s.factory.case(team=s.team, district=s.district)


@obj
def conference(s):
    """Planned, a week ahead; ``agency`` holds a valid consent and a pending invitation."""
    conf = s.factory.conference(s.conf_case, location=s.location, starts_at=_later(7))
    s.factory.s.add(AgendaItem(conference_id=conf.id, position=1, title="Situation"))
    s.factory.s.commit()
    s.factory.consent(s.conf_case, s.agency)
    s.factory.invitation(conf, s.agency)
    return conf


@obj
def agenda_item(s):
    return _one(s, select(AgendaItem).where(AgendaItem.conference_id == s.conference.id))


@obj
def invitation(s):
    return _one(
        s, select(Invitation).where(Invitation.conference_id == s.conference.id, Invitation.agency_id == s.agency.id)
    )


@obj
def partner_note(s):
    s.invitation  # noqa: B018  (the agency is invited)
    author = s.factory.user("partner", agency=s.agency)
    return s.factory.note(s.conference, author, categories=("general",))


@obj
def staff_note(s):
    return s.factory.note(s.conference, s.factory.user("caseworker", team=s.team), agency=None)


@obj
def measure(s):
    s.invitation  # noqa: B018
    return s.factory.measure(s.conference, responsible_kind="agency", agency=s.agency)


@obj
def past_conference(s):
    return s.factory.conference(s.conf_case, location=s.location, starts_at=_later(-1))


@obj
def held_conference(s):
    return s.factory.conference(s.conf_case, location=s.location, starts_at=_later(-14), status="held")


@obj
def follow_up_conference(s):
    return s.factory.conference(
        s.conf_case, location=s.location, starts_at=_later(3), previous_conference_id=s.held_conference.id
    )


@obj
def review_measure(s):
    return s.factory.measure(s.held_conference)


@obj
def agency_consent_only(s):
    agency = s.factory.agency()
    s.factory.consent(s.conf_case, agency)
    s.conference  # noqa: B018
    return agency


# --- actors ----------------------------------------------------------------------------------


@actor()
def partner_not_invited(s):
    return s.factory.user("partner", agency=s.agency_consent_only)


@actor()
def partner_consent_withdrawn(s):
    agency = s.factory.agency()
    s.factory.invitation(s.conference, agency, status="accepted")
    s.factory.consent(s.conf_case, agency, withdrawn_on=berlin_today())
    return s.factory.user("partner", agency=agency)


@actor()
def partner_declined(s):
    agency = s.factory.agency()
    s.factory.consent(s.conf_case, agency)
    s.factory.invitation(s.conference, agency, status="declined")
    return s.factory.user("partner", agency=agency)


@actor()
def partner_other_case(s):
    agency = s.factory.agency()
    other_case = s.factory.case(team=s.team, district=s.district)
    s.factory.consent(other_case, agency)
    s.factory.invitation(s.factory.conference(other_case, location=s.location, starts_at=_later(9)), agency)
    s.factory.consent(s.conf_case, agency)  # a consent alone opens nothing
    s.conference  # noqa: B018
    return s.factory.user("partner", agency=agency)


# --- routes ----------------------------------------------------------------------------------

STAFF = {"team_lead": 200, "caseworker": 200}
VIEWERS = {"partner": 403, "partner_declined": 403}  # see the conference, refused the action


def staff_only(ok=200, **named):
    """Staff of the team get ``ok``; partners who may see the conference 403; everyone else 404."""
    return protected(404, team_lead=ok, caseworker=ok, **{**VIEWERS, **named})


def to_conference(name="conference"):
    return Redirect(lambda s: f"/konferenzen/{getattr(s, name).id}")


def _newest_conference(s):
    s.factory.s.commit()
    return f"/konferenzen/{_one(s, select(func.max(Conference.id)))}"


def _form_of(conf_name, **extra):
    def data(s):
        conf = getattr(s, conf_name)
        local = to_local(conf.starts_at)
        return {
            "occasion": "Fallgespräch",
            "day": local.date().isoformat(),
            "start_time": local.strftime("%H:%M"),
            "end_time": to_local(conf.ends_at).strftime("%H:%M"),
            "location_id": str(s.location.id),
            **agenda_fields("Situation\nMaßnahmen"),
            "version": str(conf.version),
            **extra,
        }

    return data


def _new_form(s):
    day = working_day(20).isoformat()
    return {
        "occasion": "Fallgespräch",
        "day": day,
        "start_time": "10:00",
        "end_time": "11:00",
        "location_id": str(s.location.id),
        **agenda_fields("Situation"),
    }


C = "/konferenzen/<int:conference_id>"

# Every team's staff see their own team's list (here: an empty one for the other team).
route(
    "GET", "/konferenzen", "/konferenzen", protected(403, **STAFF, team_lead_other_team=200, caseworker_other_team=200)
)
# With the conference in the list (and its week, and its case's measures): the other team's
# staff get their own, empty lists, never this team's rows.
ALL_TEAMS = protected(403, **STAFF, team_lead_other_team=200, caseworker_other_team=200)
route(
    "GET",
    "/konferenzen",
    lambda s: f"/konferenzen?zeitraum=alle&ort={s.conference.location_id}",
    ALL_TEAMS,
    name="filtered",
)
route("GET", "/konferenzen/woche", "/konferenzen/woche", ALL_TEAMS)
route(
    "GET",
    "/konferenzen/woche",
    lambda s: f"/konferenzen/woche?datum={s.conference.starts_at.date().isoformat()}",
    ALL_TEAMS,
    name="the conference's week",
)
# Every partner has a history (empty where nothing is visible now: its rows are decided by the
# same rules as the conference page, tests/conferences/test_partner_history.py); staff have none.
PARTNERS = (
    "partner",
    "partner_not_invited",
    "partner_consent_withdrawn",
    "partner_declined",
    "partner_other_case",
    "partner_consent_expired",
    "partner_no_consent",
)
route(
    "GET",
    "/konferenzen/verlauf",
    lambda s: (s.conference, s.held_conference, "/konferenzen/verlauf")[-1],
    protected(403, **dict.fromkeys(PARTNERS, 200)),
)
route("GET", "/massnahmen", lambda s: (s.conference, "/massnahmen?stand=offen")[1], ALL_TEAMS)
route(
    "GET",
    "/faelle/<int:case_id>/konferenzen/neu",
    lambda s: f"/faelle/{s.conf_case.id}/konferenzen/neu",
    protected(404, **STAFF),
)
route(
    "POST",
    "/faelle/<int:case_id>/konferenzen/neu",
    lambda s: f"/faelle/{s.conf_case.id}/konferenzen/neu",
    protected(404, team_lead=Redirect(_newest_conference), caseworker=Redirect(_newest_conference)),
    data=_new_form,
)

route("GET", C, lambda s: f"/konferenzen/{s.conference.id}", protected(404, **STAFF, partner=200, partner_declined=200))

route("GET", f"{C}/bearbeiten", lambda s: f"/konferenzen/{s.conference.id}/bearbeiten", staff_only())
route(
    "POST",
    f"{C}/bearbeiten",
    lambda s: f"/konferenzen/{s.conference.id}/bearbeiten",
    staff_only(to_conference()),
    data=_form_of("conference"),
)
route("GET", f"{C}/absagen", lambda s: f"/konferenzen/{s.conference.id}/absagen", staff_only())
route(
    "POST",
    f"{C}/absagen",
    lambda s: f"/konferenzen/{s.conference.id}/absagen",
    staff_only(to_conference()),
    data=lambda s: {"reason": "Termin entfällt.", "version": "1"},
)
route(
    "POST",
    f"{C}/durchgefuehrt",
    lambda s: f"/konferenzen/{s.past_conference.id}/durchgefuehrt",
    protected(404, team_lead=to_conference("past_conference"), caseworker=to_conference("past_conference")),
)
route(
    "GET",
    f"{C}/folgekonferenz",
    lambda s: f"/konferenzen/{s.held_conference.id}/folgekonferenz",
    protected(404, **STAFF),
)
route(
    "POST",
    f"{C}/folgekonferenz",
    lambda s: f"/konferenzen/{s.held_conference.id}/folgekonferenz",
    protected(404, team_lead=Redirect(_newest_conference), caseworker=Redirect(_newest_conference)),
    data=_new_form,
)

route("GET", f"{C}/einladungen", lambda s: f"/konferenzen/{s.conference.id}/einladungen", staff_only())
route(
    "POST",
    f"{C}/einladungen",
    lambda s: f"/konferenzen/{s.conference.id}/einladungen",
    staff_only(to_conference()),
    data=lambda s: {"agencies": [str(s.agency_consent_only.id)]},
)
route(
    "POST",
    f"{C}/einladungen/<int:invitation_id>/erneut-senden",
    lambda s: f"/konferenzen/{s.conference.id}/einladungen/{s.invitation.id}/erneut-senden",
    staff_only(to_conference()),
)
route(
    "POST",
    f"{C}/einladungen/<int:invitation_id>/zurueckziehen",
    lambda s: f"/konferenzen/{s.conference.id}/einladungen/{s.invitation.id}/zurueckziehen",
    staff_only(to_conference()),
)

# Answering is the invited partner's, also after a first "no".
ANSWER = {"team_lead": 403, "caseworker": 403}
route(
    "GET",
    f"{C}/antwort",
    lambda s: f"/konferenzen/{s.invitation.conference_id}/antwort",
    protected(404, **ANSWER, partner=200, partner_declined=200),
)
route(
    "POST",
    f"{C}/antwort",
    lambda s: f"/konferenzen/{s.invitation.conference_id}/antwort",
    protected(404, **ANSWER, partner=to_conference(), partner_declined=to_conference()),
    data=lambda s: {"answer": "accepted", "comment": "Wir kommen zu zweit."},
)

NOTE = {"body": "Stellungnahme zur Lage.", "categories": ["general"], "visibility": "shared", "version": "1"}
route(
    "GET",
    f"{C}/stellungnahmen/neu",
    lambda s: f"/konferenzen/{s.invitation.conference_id}/stellungnahmen/neu",
    protected(404, **STAFF, partner=200, partner_declined=403),
)
route(
    "POST",
    f"{C}/stellungnahmen/neu",
    lambda s: f"/konferenzen/{s.invitation.conference_id}/stellungnahmen/neu",
    protected(
        404, team_lead=to_conference(), caseworker=to_conference(), partner=to_conference(), partner_declined=403
    ),
    data=lambda s: dict(NOTE),
)
# A partner's note: its agency edits it; staff and other agencies see it but may not change it.
route(
    "GET",
    f"{C}/stellungnahmen/<int:note_id>",
    lambda s: f"/konferenzen/{s.conference.id}/stellungnahmen/{s.partner_note.id}",
    protected(404, team_lead=403, caseworker=403, partner=200, partner_declined=403),
    name="partner note",
)
route(
    "POST",
    f"{C}/stellungnahmen/<int:note_id>",
    lambda s: f"/konferenzen/{s.conference.id}/stellungnahmen/{s.partner_note.id}",
    protected(404, team_lead=403, caseworker=403, partner=to_conference(), partner_declined=403),
    data=lambda s: dict(NOTE),
    name="partner note",
)
route(
    "POST",
    f"{C}/stellungnahmen/<int:note_id>/zurueckziehen",
    lambda s: f"/konferenzen/{s.conference.id}/stellungnahmen/{s.partner_note.id}/zurueckziehen",
    protected(404, team_lead=403, caseworker=403, partner=to_conference(), partner_declined=403),
    data=lambda s: {"version": "1"},
    name="partner note",
)
route(
    "GET",
    f"{C}/stellungnahmen/<int:note_id>",
    lambda s: f"/konferenzen/{s.conference.id}/stellungnahmen/{s.staff_note.id}",
    staff_only(),
    name="staff note",
)
route(
    "POST",
    f"{C}/stellungnahmen/<int:note_id>",
    lambda s: f"/konferenzen/{s.conference.id}/stellungnahmen/{s.staff_note.id}",
    staff_only(to_conference()),
    data=lambda s: dict(NOTE),
    name="staff note",
)
route(
    "POST",
    f"{C}/stellungnahmen/<int:note_id>/zurueckziehen",
    lambda s: f"/konferenzen/{s.conference.id}/stellungnahmen/{s.staff_note.id}/zurueckziehen",
    staff_only(to_conference()),
    data=lambda s: {"version": "1"},
    name="staff note",
)

route("GET", f"{C}/durchfuehrung", lambda s: f"/konferenzen/{s.conference.id}/durchfuehrung", staff_only())
route(
    "POST",
    f"{C}/durchfuehrung",
    lambda s: f"/konferenzen/{s.invitation.conference_id}/durchfuehrung",
    staff_only(to_conference()),
    data=lambda s: {
        "version": "1",
        "person_attended": "yes",
        f"attendance_{s.invitation.id}": "present",
        f"discussion_{s.agenda_item.id}": "Lage besprochen.",
    },
)

MEASURE = {
    "what": "Unterlagen sichten",
    "due_on": working_day(30).isoformat(),
    "status": "in_progress",
    "outcome": "Begonnen.",
    "version": "1",
}
route("GET", f"{C}/massnahmen/neu", lambda s: f"/konferenzen/{s.conference.id}/massnahmen/neu", staff_only())
route(
    "POST",
    f"{C}/massnahmen/neu",
    lambda s: f"/konferenzen/{s.conference.id}/massnahmen/neu",
    staff_only(to_conference()),
    data=lambda s: {**MEASURE, "responsible": "jobcenter"},
)
# The measure's responsible agency updates its status; another invited agency may not.
route(
    "GET",
    f"{C}/massnahmen/<int:measure_id>",
    lambda s: f"/konferenzen/{s.conference.id}/massnahmen/{s.measure.id}",
    staff_only(partner=200),
)
route(
    "POST",
    f"{C}/massnahmen/<int:measure_id>",
    lambda s: f"/konferenzen/{s.conference.id}/massnahmen/{s.measure.id}",
    staff_only(to_conference(), partner=to_conference()),
    data=lambda s: {**MEASURE, "responsible": f"agency:{s.agency.id}"},
)
route(
    "GET",
    f"{C}/ueberpruefung/<int:measure_id>",
    lambda s: f"/konferenzen/{s.follow_up_conference.id}/ueberpruefung/{s.review_measure.id}",
    protected(404, **STAFF),
)
route(
    "POST",
    f"{C}/ueberpruefung/<int:measure_id>",
    lambda s: f"/konferenzen/{s.follow_up_conference.id}/ueberpruefung/{s.review_measure.id}",
    protected(404, team_lead=to_conference("follow_up_conference"), caseworker=to_conference("follow_up_conference")),
    data=lambda s: {"status": "done", "outcome": "Erledigt.", "version": "1"},
)

# --- records of another conference, reached through this one (issue 10, finding 4) -------------
#
# ``other_conference`` is a second conference of the same case, ``agency`` invited to it too:
# everyone who may see it reaches its notes, measures and invitations by its own URLs. Through
# ``conference``'s URLs they are refused by the policy (404) and the refusal is audited.


@obj
def other_conference(s):
    s.conference  # noqa: B018  (the agency's consent for the case)
    conf = s.factory.conference(s.conf_case, location=s.location, starts_at=_later(8))
    s.factory.invitation(conf, s.agency)
    return conf


@obj
def other_note(s):
    return s.factory.note(s.other_conference, s.factory.user("partner", agency=s.agency), categories=("general",))


@obj
def other_measure(s):
    return s.factory.measure(s.other_conference, responsible_kind="agency", agency=s.agency)


@obj
def other_invitation(s):
    return _one(s, select(Invitation).where(Invitation.conference_id == s.other_conference.id))


@obj
def cancelled_invitation(s):
    return s.factory.invitation(s.conference, s.factory.agency(), status="cancelled")


def _through(path, name):
    return lambda s: f"/konferenzen/{s.conference.id}/{path}/{getattr(s, name).id}"


ELSEWHERE = "of another conference"
route(
    "GET", f"{C}/stellungnahmen/<int:note_id>", _through("stellungnahmen", "other_note"), protected(404), name=ELSEWHERE
)
route(
    "POST",
    f"{C}/stellungnahmen/<int:note_id>",
    _through("stellungnahmen", "other_note"),
    protected(404),
    data=lambda s: dict(NOTE),
    name=ELSEWHERE,
)
route(
    "POST",
    f"{C}/stellungnahmen/<int:note_id>/zurueckziehen",
    lambda s: _through("stellungnahmen", "other_note")(s) + "/zurueckziehen",
    protected(404),
    data=lambda s: {"version": "1"},
    name=ELSEWHERE,
)
route(
    "GET", f"{C}/massnahmen/<int:measure_id>", _through("massnahmen", "other_measure"), protected(404), name=ELSEWHERE
)
route(
    "POST",
    f"{C}/massnahmen/<int:measure_id>",
    _through("massnahmen", "other_measure"),
    protected(404),
    data=lambda s: {**MEASURE, "responsible": f"agency:{s.agency.id}"},
    name=ELSEWHERE,
)
# Invitations are staff business: partners who see the conference are refused the action first (403).
for action in ("erneut-senden", "zurueckziehen"):
    rule_ = f"{C}/einladungen/<int:invitation_id>/{action}"
    route(
        "POST",
        rule_,
        (lambda a: lambda s: _through("einladungen", "other_invitation")(s) + f"/{a}")(action),
        staff_only(404),
        name=ELSEWHERE,
    )
    route(
        "POST",
        rule_,
        (lambda a: lambda s: _through("einladungen", "cancelled_invitation")(s) + f"/{a}")(action),
        staff_only(404),
        name="cancelled",
    )
# A follow-up reviews the measures of the conference it follows; a measure of another is refused,
# and so is any review through a conference that follows none.
route(
    "GET",
    f"{C}/ueberpruefung/<int:measure_id>",
    lambda s: f"/konferenzen/{s.follow_up_conference.id}/ueberpruefung/{s.measure.id}",
    protected(404),
    name=ELSEWHERE,
)
route(
    "POST",
    f"{C}/ueberpruefung/<int:measure_id>",
    lambda s: f"/konferenzen/{s.follow_up_conference.id}/ueberpruefung/{s.measure.id}",
    protected(404),
    data=lambda s: {"status": "done", "outcome": "Erledigt.", "version": "1"},
    name=ELSEWHERE,
)
route(
    "GET",
    f"{C}/ueberpruefung/<int:measure_id>",
    lambda s: f"/konferenzen/{s.held_conference.id}/ueberpruefung/{s.review_measure.id}",
    protected(404),
    name="without a previous conference",
)
# An id that exists nowhere: an answer (404), not a refusal.
route(
    "GET",
    f"{C}/stellungnahmen/<int:note_id>",
    lambda s: f"/konferenzen/{s.conference.id}/stellungnahmen/999999",
    protected(404, team_lead=MISSING, caseworker=MISSING, partner=MISSING, partner_declined=MISSING),
    name="unknown id",
)
