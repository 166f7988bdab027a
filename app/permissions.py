"""The one policy module: every "may this user do this to this object" is answered here.

Routes call ``authorize(action, obj)`` after loading the object. Rules are plain
functions registered per action; a domain adds rules, never checks of its own.
A refusal is written to the audit trail and answered with 403, or with 404 where the
user must not learn that the object exists.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import abort, g, has_request_context
from flask_login import current_user
from sqlalchemy import select

from app import audit, db
from app.accounts.models import Role
from app.cases.models import DATA_CATEGORIES, OBSTACLE_CATEGORIES, Case, CaseStatus, Consent
from app.clock import berlin_today, utcnow
from app.conferences.models import Conference, ConferenceStatus, Invitation, InvitationStatus, NoteVisibility
from app.minutes.models import MinutesStatus

Rule = Callable[..., bool]
_RULES: dict[str, tuple[Rule, bool]] = {}


def rule(action: str, *, hide: bool = False):
    """Register the rule for ``action``. ``hide``: refuse with 404 instead of 403."""

    def register(fn: Rule) -> Rule:
        if action in _RULES:
            raise RuntimeError(f"rule for {action!r} registered twice")
        _RULES[action] = (fn, hide)
        return fn

    return register


def can(user, action: str, obj=None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.active or not user.confirmed:
        return False
    fn, _hide = _RULES[action]
    return bool(fn(user, obj))


def authorize(action: str, obj=None, user=None) -> None:
    user = user if user is not None else current_user
    g.authorized = True
    if can(user, action, obj):
        return
    _fn, hide = _RULES[action]
    # Nothing the request did before the refusal is kept; the refusal itself is recorded.
    actor_id = getattr(user, "id", None)
    object_type, object_id = getattr(obj, "__tablename__", None), getattr(obj, "id", None)
    db.session.rollback()
    audit.record("access.refused", actor=actor_id, object_type=object_type, object_id=object_id, rule=action)
    db.session.commit()
    abort(404 if hide else 403)


def public(view):
    """Mark a view that needs no log-in (log-in page, password reset, health check)."""
    view.public = True
    return view


def authenticated_only(view):
    """Mark a view any logged-in, active user may call (own account, log-out)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.authorized = True
        return view(*args, **kwargs)

    wrapper.authenticated_only = True
    return wrapper


# --- roles -----------------------------------------------------------------------


def is_admin(user) -> bool:
    return user.role == Role.ADMIN


def is_staff(user) -> bool:
    return user.role in (Role.CASEWORKER, Role.TEAM_LEAD)


def is_team_lead(user) -> bool:
    return user.role == Role.TEAM_LEAD


def is_partner(user) -> bool:
    return user.role == Role.PARTNER and user.agency_id is not None


def is_controlling(user) -> bool:
    """Steuerung: aggregated figures of all teams, no case pages (DESIGN.md section 2)."""
    return user.role == Role.CONTROLLING


# --- administration ----------------------------------------------------------------


@rule("admin.manage")
def _admin_manage(user, _obj=None):
    return is_admin(user)


@rule("account_change.list")
def _account_change_list(user, _obj=None):
    """Team leads see the proposed account changes their team is to confirm."""
    return is_team_lead(user) and user.team_id is not None


@rule("account_change.decide", hide=True)
def _account_change_decide(user, change):
    """Four eyes: a team lead of the confirming team decides; never the admin who proposed the
    change, nor the account it is about."""
    return (
        is_team_lead(user)
        and user.team_id is not None
        and user.team_id == change.confirming_team_id
        and change.proposed_by_id != user.id
        and change.user_id != user.id
    )


@rule("staff.area")
def _staff_area(user, _obj=None):
    return is_staff(user)


@rule("partner.area")
def _partner_area(user, _obj=None):
    return is_partner(user)


# --- lookups the rules repeat ----------------------------------------------------------
#
# A page asks the policy many times (every action button, every note's edit link), and each
# answer needs the same few rows. They are read once per request and kept in ``g`` for the
# rest of that request only: the next request reads them fresh, so a withdrawal or an
# expiry still ends access at once.


_MISSING = object()


def _per_request(name: str, key, load):
    if not has_request_context():
        return load()
    memo = g.setdefault("permission_lookups", {}).setdefault(name, {})
    value = memo.get(key, _MISSING)
    if value is _MISSING:
        value = memo[key] = load()
    return value


# --- cases (DESIGN.md section 4: staff see their own team's cases, admins none) ------------
#
# Rules for objects hanging off a case (conference, note, measure, minutes) go through the
# case's team. Other teams' objects are hidden (404), never merely refused.


def _team_of_case(case_id):

    def load():
        # The session's copy when the route loaded the case already (no query), else one read.
        case = db.session.get(Case, case_id) if case_id is not None else None
        return case.team_id if case is not None else None

    # A case never changes teams.
    return _per_request("team_of_case", case_id, load)


def same_team(user, case) -> bool:
    return is_staff(user) and case is not None and user.team_id is not None and case.team_id == user.team_id


@rule("case.list")
def _case_list(user, _obj=None):
    return is_staff(user)


@rule("case.create")
def _case_create(user, _obj=None):
    return is_staff(user) and user.team_id is not None


@rule("case.view", hide=True)
def _case_view(user, case):
    return same_team(user, case)


@rule("case.edit")
def _case_edit(user, case):
    # The caller has already passed case.view: a closed case is known, so 403.
    return same_team(user, case) and case.status == CaseStatus.OPEN


@rule("case.reopen")
def _case_reopen(user, case):
    return same_team(user, case) and case.status == CaseStatus.CLOSED


@rule("consent.manage")
def _consent_manage(user, case):
    return same_team(user, case) and case.status == CaseStatus.OPEN


@rule("consent.view", hide=True)
def _consent_view(user, consent):
    return consent is not None and is_staff(user) and _team_of_case(consent.case_id) == user.team_id


@rule("case.access_report", hide=True)
def _case_access_report(user, case):
    """Art. 15 GDPR / § 83 SGB X: the owning team produces what is stored about the case and who
    received or viewed it; nobody else learns the case exists."""
    return same_team(user, case)


@rule("report.network")
def _report_network(user, _obj=None):
    """The § 18 network report: aggregated figures only, small cells suppressed. A team lead
    sees their team's, the Steuerung all teams'."""
    return (is_team_lead(user) and user.team_id is not None) or is_controlling(user)


@rule("team.audit")
def _team_audit(user, _obj=None):
    return is_team_lead(user)


# --- consents and partner access ------------------------------------------------------


def valid_consent(case_id: int, agency_id: int, day=None):
    """The consent of ``agency_id`` for ``case_id`` that is valid on ``day`` (Berlin), or None.

    Read fresh in every request: a withdrawal or expiry ends access at once.
    """

    day = day or berlin_today()

    def load():
        rows = db.session.execute(
            select(Consent).where(
                Consent.case_id == case_id, Consent.agency_id == agency_id, Consent.superseded_at.is_(None)
            )
        ).scalars()
        return next((c for c in rows if c.is_valid_on(day)), None)

    return _per_request("valid_consent", (case_id, agency_id, day), load)


def partner_invitation(user, conference):
    """The partner's agency's live invitation to ``conference``, or None."""

    if not is_partner(user) or conference is None:
        return None
    return _per_request(
        "partner_invitation",
        (conference.id, user.agency_id),
        lambda: db.session.execute(
            select(Invitation).where(
                Invitation.conference_id == conference.id,
                Invitation.agency_id == user.agency_id,
                Invitation.status != InvitationStatus.CANCELLED,
            )
        ).scalar_one_or_none(),
    )


def known_partner_access(agency_id: int, invitations=(), consents=None, day=None) -> None:
    """A list of many conferences (the partner's history) reads their invitations and consents
    in two queries and hands them in here: the rules then decide each row from them, in this
    request only, as they would after reading them one by one. ``consents``: {case id: the
    agency's consent valid on ``day``, or None}."""
    if not has_request_context():
        return
    day = day or berlin_today()
    memo = g.setdefault("permission_lookups", {})
    for invitation in invitations:
        memo.setdefault("partner_invitation", {})[(invitation.conference_id, agency_id)] = invitation
    for case_id, consent in (consents or {}).items():
        memo.setdefault("valid_consent", {})[(case_id, agency_id, day)] = consent


def partner_consent(user, conference):
    """The consent through which a partner sees ``conference`` now, or None (no access)."""
    if partner_invitation(user, conference) is None:
        return None
    return valid_consent(conference.case_id, user.agency_id)


# --- what a reader sees of a conference (DESIGN.md section 4, "Consent-exact content") ------
#
# Every page, PDF and e-mail that shows a conference's content to someone takes it from
# ``visible_content``: the conference page and start page of a partner, the shared draft of the
# minutes, the partner's PDF, and the staff's preview of what an agency sees. Templates render
# what it returns and decide nothing themselves.


@dataclass(frozen=True)
class Reader:
    """Who reads a conference: the Jobcenter (``agency_id`` None, everything), or one partner
    agency within the scope of its consent for the case."""

    agency_id: int | None
    scope: frozenset = frozenset()
    consent_id: int | None = None  # the consent through which the agency reads (for the audit trail)

    @property
    def is_jobcenter(self) -> bool:
        return self.agency_id is None

    def shares(self, categories) -> bool:
        """An item reaches an agency only if it has categories and the consent names every one:
        nothing defaults to shared, an item without categories is for the Jobcenter only."""
        return self.is_jobcenter or (bool(categories) and set(categories) <= self.scope)

    def may_name(self, agency_id, reveals) -> bool:
        """Another agency is named only where the consent covers what its taking part reveals."""
        return self.is_jobcenter or agency_id == self.agency_id or set(reveals or ()) <= self.scope


JOBCENTER = Reader(None)


def reader_of(user, conference) -> Reader | None:
    """How ``user`` reads ``conference`` now, or None: no access."""
    if _staff_of_conference(user, conference):
        return JOBCENTER
    consent = partner_consent(user, conference)
    return Reader(user.agency_id, frozenset(consent.scope), consent.id) if consent is not None else None


def agency_reader(conference, agency_id: int) -> Reader | None:
    """What a partner of ``agency_id`` would read of ``conference`` now (the staff's preview):
    None while it has no live invitation or no valid consent."""
    live = db.session.execute(
        select(Invitation.id).where(
            Invitation.conference_id == conference.id,
            Invitation.agency_id == agency_id,
            Invitation.status != InvitationStatus.CANCELLED,
        )
    ).first()
    consent = valid_consent(conference.case_id, agency_id) if live else None
    return Reader(agency_id, frozenset(consent.scope), consent.id) if consent is not None else None


def visible_content(reader: Reader, content: dict, minutes=None, comments=()) -> dict:
    """What ``reader`` may see of a conference's ``content`` (``minutes.document.assemble``, live
    or frozen), of the ``minutes``' summary and decisions, and of the minutes' ``comments``
    (rows of comment, agency name, author name)."""
    return _split(reader, content, minutes, comments)[0]


def withheld_content(reader: Reader, content: dict, minutes=None) -> list[dict]:
    """What ``visible_content`` holds back from ``reader``: [{"kind", "text", "categories"}]; for
    staff only (the list, before sharing, of what each agency will not see)."""
    return _split(reader, content, minutes, ())[1]


def _split(reader: Reader, content: dict, minutes, comments) -> tuple[dict, list]:
    withheld: list[dict] = []

    def keep(kind, items, shared, text):
        kept = []
        for item in items:
            if shared(item):
                kept.append(item)
            else:
                withheld.append({"kind": kind, "text": text(item), "categories": item.get("categories", [])})
        return kept

    participants = []
    for p in content.get("participants", []):
        if reader.may_name(p.get("agency_id"), p.get("reveals", DATA_CATEGORIES)):
            participants.append(dict(p, own=p.get("agency_id") == reader.agency_id and not reader.is_jobcenter))
        else:
            # That another agency takes part is itself content: it is counted, not named.
            participants.append({"masked": True})
            withheld.append({"kind": "participant", "text": p.get("agency"), "categories": p.get("reveals", [])})

    attendees = []
    for person in content.get("attendees", []):
        if reader.is_jobcenter or set(person.get("reveals", DATA_CATEGORIES)) <= reader.scope:
            attendees.append(person)
        else:
            # Like another agency: that an interpreter or the person's own support was there is
            # itself content; it is counted, not described.
            attendees.append({"masked": True})
            withheld.append(
                {"kind": "attendee", "text": person.get("description"), "categories": person.get("reveals", [])}
            )

    def measure_shared(m):
        return (
            m.get("responsible_agency_id") is not None and m.get("responsible_agency_id") == reader.agency_id
        ) or reader.shares(m.get("categories", []))

    def measure_named(m):
        if m.get("responsible_agency_id") is None or reader.may_name(
            m["responsible_agency_id"], m.get("responsible_reveals", DATA_CATEGORIES)
        ):
            return dict(m, own=m.get("responsible_agency_id") == reader.agency_id and not reader.is_jobcenter)
        return dict(m, responsible_agency=None, responsible_masked=True, own=False)

    def note_shared(n):
        # An agency sees the notes shared with all and its own (even one it meant for the
        # Jobcenter only), in both cases only within its consent: after a consent narrows, its
        # own older notes outside the new scope are hidden from it too.
        if reader.is_jobcenter:
            return True
        own = n.get("agency_id") is not None and n.get("agency_id") == reader.agency_id
        return reader.shares(n.get("categories", [])) and (own or n.get("visibility") == NoteVisibility.SHARED)

    visible = {
        **{
            key: content.get(key)
            for key in (
                "pseudonym",
                "district",
                "starts_at",
                "ends_at",
                "location",
                "organiser",
                "person_attends",
                "person_attended",
                "next_conference",
            )
        },
        # The occasion is free text without categories: the Jobcenter's own heading.
        "occasion": content.get("occasion") if reader.is_jobcenter else None,
        "participants": participants,
        "attendees": attendees,
        "obstacles": keep(
            "obstacle",
            [
                {"code": code, "categories": list(OBSTACLE_CATEGORIES.get(code, DATA_CATEGORIES))}
                for code in content.get("obstacles", [])
            ],
            lambda o: reader.shares(o["categories"]),
            lambda o: o["code"],
        ),
        "agenda": keep(
            "agenda",
            content.get("agenda", []),
            lambda i: reader.shares(i.get("categories", [])),
            lambda i: i.get("title"),
        ),
        "notes": keep("note", content.get("notes", []), note_shared, lambda n: n.get("body")),
        "measures": [
            measure_named(m)
            for m in keep("measure", content.get("measures", []), measure_shared, lambda m: m.get("what"))
        ],
        "reviewed": [
            measure_named(m)
            for m in keep("measure", content.get("reviewed", []), measure_shared, lambda m: m.get("what"))
        ],
        "summary": None,
        "decisions": [],
        "next_date_note": None,
        "next_date": None,
        "comments": [row for row in comments if reader.is_jobcenter or row[0].agency_id == reader.agency_id],
        "reader": reader,
    }
    if minutes is not None:
        if reader.shares(minutes.summary_categories) and minutes.summary:
            visible["summary"] = minutes.summary
        elif minutes.summary:
            withheld.append({"kind": "summary", "text": minutes.summary, "categories": minutes.summary_categories})
        visible["decisions"] = keep(
            "decision",
            minutes.decisions or [],
            lambda d: reader.shares(d.get("categories", [])),
            lambda d: d.get("text"),
        )
        # The note on the next date is free text without categories, like the occasion.
        visible["next_date_note"] = minutes.next_date_note if reader.is_jobcenter else None
        # The agreed day itself is no free text and reveals no category: every reader sees it.
        next_date = getattr(minutes, "next_date", None)
        visible["next_date"] = next_date.isoformat() if next_date else None
    return visible, withheld


# --- conferences ------------------------------------------------------------------------


def _staff_of_conference(user, conference) -> bool:
    return is_staff(user) and conference is not None and _team_of_case(conference.case_id) == user.team_id


@rule("conference.create")
def _conference_create(user, case):
    return same_team(user, case) and case.status == CaseStatus.OPEN


@rule("conference.view", hide=True)
def _conference_view(user, conference):
    if _staff_of_conference(user, conference):
        return True
    return partner_consent(user, conference) is not None


@rule("conference.preview")
def _conference_preview(user, conference):
    """Staff of the conference see what an invited agency would see (read-only)."""
    return _staff_of_conference(user, conference)


@rule("conference.edit")
def _conference_edit(user, conference):
    return _staff_of_conference(user, conference) and conference.status in (
        ConferenceStatus.PLANNED,
        ConferenceStatus.HELD,
    )


@rule("conference.change")
def _conference_change(user, conference):
    # Date, place, agenda, invitations and cancellation: only while the conference is planned.
    return _staff_of_conference(user, conference) and conference.status == ConferenceStatus.PLANNED


@rule("conference.hold")
def _conference_hold(user, conference):

    return (
        _staff_of_conference(user, conference)
        and conference.status == ConferenceStatus.PLANNED
        and conference.starts_at <= utcnow()
    )


@rule("conference.follow_up")
def _conference_follow_up(user, conference):

    if not (
        _staff_of_conference(user, conference) and conference.status in (ConferenceStatus.HELD, ConferenceStatus.CLOSED)
    ):
        return False
    case = db.session.get(Case, conference.case_id)
    return case is not None and case.status == CaseStatus.OPEN


@dataclass(frozen=True)
class Reached:
    """A record reached through the conference its URL names (``/konferenzen/2/massnahmen/19``).

    The rules below check that the two belong together; a refusal is audited with the
    record's own type and id, so a probe of another conference's ids leaves a trace.
    """

    conference: Conference
    record: object

    @property
    def __tablename__(self) -> str:
        return self.record.__tablename__

    @property
    def id(self):
        return self.record.id


@rule("conference.part", hide=True)
def _conference_part(_user, reached):
    """A note, measure or invitation is reached only through its own conference."""
    return reached.record.conference_id == reached.conference.id


@rule("conference.review", hide=True)
def _conference_review(_user, reached):
    """A follow-up conference reviews the measures of the conference it follows, no others."""
    previous = reached.conference.previous_conference_id
    return previous is not None and reached.record.conference_id == previous


@rule("invitation.change", hide=True)
def _invitation_change(user, invitation):
    """Resend or withdraw: a live invitation of a conference the user may change (a cancelled one is gone)."""
    conference = db.session.get(Conference, invitation.conference_id)
    return invitation.status != InvitationStatus.CANCELLED and _conference_change(user, conference)


@rule("conference.answer")
def _conference_answer(user, conference):
    return conference.status == ConferenceStatus.PLANNED and partner_consent(user, conference) is not None


@rule("note.create")
def _note_create(user, conference):
    if conference.status not in (ConferenceStatus.PLANNED, ConferenceStatus.HELD):
        return False
    if _staff_of_conference(user, conference):
        return True
    # Partners write before the conference, and only with a live, not-declined invitation.
    inv = partner_invitation(user, conference)
    return (
        conference.status == ConferenceStatus.PLANNED
        and inv is not None
        and inv.status != InvitationStatus.DECLINED
        and valid_consent(conference.case_id, user.agency_id) is not None
    )


@rule("note.edit")
def _note_edit(user, note):

    conference = db.session.get(Conference, note.conference_id)
    if note.withdrawn_at is not None:
        return False
    if _staff_of_conference(user, conference):
        return note.agency_id is None and conference.status in (ConferenceStatus.PLANNED, ConferenceStatus.HELD)
    return (
        is_partner(user)
        and note.agency_id == user.agency_id
        and conference.status == ConferenceStatus.PLANNED
        and partner_consent(user, conference) is not None
    )


@rule("measure.update")
def _measure_update(user, measure):

    conference = db.session.get(Conference, measure.conference_id)
    if _staff_of_conference(user, conference):
        return True
    return (
        is_partner(user)
        and measure.responsible_agency_id == user.agency_id
        and valid_consent(measure.case_id, user.agency_id) is not None
        and partner_invitation(user, conference) is not None
    )


@rule("measure.edit_terms")
def _measure_edit_terms(user, measure):
    """What, who and by when: agreed in the conference, so fixed once its minutes are final
    (the conference is closed then). Status and outcome stay open to follow-up (measure.update)."""

    conference = db.session.get(Conference, measure.conference_id)
    return _staff_of_conference(user, conference) and conference.status in (
        ConferenceStatus.PLANNED,
        ConferenceStatus.HELD,
    )


# --- minutes ------------------------------------------------------------------------------


@rule("minutes.create")
def _minutes_create(user, conference):
    # The organiser writes the minutes of a held conference; finalising closes it.
    return (
        _staff_of_conference(user, conference)
        and conference.status == ConferenceStatus.HELD
        and conference.organiser_id == user.id
    )


@rule("minutes.comment")
def _minutes_comment(user, minutes):
    """Invited partners comment on a draft the organiser shared, until the set day."""

    if (
        minutes.status != MinutesStatus.DRAFT
        or minutes.comments_until is None
        or minutes.comments_until < berlin_today()
    ):
        return False
    return partner_consent(user, db.session.get(Conference, minutes.conference_id)) is not None


@rule("minutes.edit")
def _minutes_edit(user, minutes):

    conference = db.session.get(Conference, minutes.conference_id)
    return (
        minutes.status == MinutesStatus.DRAFT
        and _staff_of_conference(user, conference)
        and conference.organiser_id == user.id
    )


@rule("minutes.finalise")
def _minutes_finalise(user, minutes):

    conference = db.session.get(Conference, minutes.conference_id)
    return (
        minutes.status == MinutesStatus.DRAFT
        and _staff_of_conference(user, conference)
        and (conference.organiser_id == user.id or is_team_lead(user))
    )


@rule("minutes.correct")
def _minutes_correct(user, minutes):

    conference = db.session.get(Conference, minutes.conference_id)
    return (
        minutes.status == MinutesStatus.FINAL
        and _staff_of_conference(user, conference)
        and (conference.organiser_id == user.id or is_team_lead(user))
    )


@rule("minutes.download", hide=True)
def _minutes_download(user, minutes):

    conference = db.session.get(Conference, minutes.conference_id)
    if _staff_of_conference(user, conference):
        return minutes.status in (MinutesStatus.FINAL, MinutesStatus.REPLACED)
    return minutes.status == MinutesStatus.FINAL and partner_consent(user, conference) is not None


@rule("minutes.export")
def _minutes_export(user, _obj=None):
    return is_team_lead(user) and user.team_id is not None


@rule("team.overview")
def _team_overview(user, _obj=None):
    return is_team_lead(user) and user.team_id is not None


# --- consultation hours in the neighbourhood (issue 14) ------------------------------------------
#
# Staff of a team see their team's consultation hours and record the anonymous figures of their
# dates; publishing (creating, changing, cancelling or moving dates) is for team leads and the
# caseworkers a team lead of their team allowed. Another team's hours are hidden (404). The public
# pages need no rule: they are ``@public`` and show published hours only (app/consultations/public.py).


def may_publish_consultations(user) -> bool:
    from app.consultations.services import may_publish

    if not is_staff(user):
        return False
    return _per_request("may_publish", user.id, lambda: may_publish(db.session, user))


@rule("consultation.list")
def _consultation_list(user, _obj=None):
    return is_staff(user) and user.team_id is not None


@rule("consultation.publish")
def _consultation_publish(user, _obj=None):
    return may_publish_consultations(user)


@rule("consultation.view", hide=True)
def _consultation_view(user, hour):
    return is_staff(user) and hour is not None and user.team_id is not None and hour.team_id == user.team_id


@rule("consultation.edit")
def _consultation_edit(user, hour):
    return _consultation_view(user, hour) and may_publish_consultations(user)


@rule("consultation.record")
def _consultation_record(user, hour):
    """The figures of a date: any staff of the team that holds the hour."""
    return _consultation_view(user, hour)


@rule("consultation.publishers", hide=True)
def _consultation_publishers(user, target):
    """A team lead lets a caseworker of their own team publish (or stops it)."""
    return (
        is_team_lead(user)
        and user.team_id is not None
        and target is not None
        and target.role == Role.CASEWORKER
        and target.team_id == user.team_id
    )


@dataclass(frozen=True)
class ReachedHour:
    """An exception or figures reached through the hour its URL names."""

    hour: object
    record: object

    @property
    def __tablename__(self) -> str:
        return self.record.__tablename__

    @property
    def id(self):
        return self.record.id


@rule("consultation.part", hide=True)
def _consultation_part(_user, reached):
    return reached.record.hour_id == reached.hour.id


# --- finding a date (Terminabstimmung) ----------------------------------------------------------
#
# Staff of the conference's team run the poll. An agency sees it while it is asked (an active
# participant) and its consent for the case is valid now: a withdrawal or an expiry ends its access
# at once (and removes its answers, app/conferences/services/polls.py). Partners see the pseudonym,
# the proposed times and places only.


def poll_participant(user, poll):
    """The partner's agency's active participation in ``poll``, or None."""
    from app.conferences.models import ParticipantStatus, PollParticipant

    if not is_partner(user) or poll is None:
        return None
    return _per_request(
        "poll_participant",
        (poll.id, user.agency_id),
        lambda: db.session.execute(
            select(PollParticipant).where(
                PollParticipant.poll_id == poll.id,
                PollParticipant.agency_id == user.agency_id,
                PollParticipant.status == ParticipantStatus.ACTIVE,
            )
        ).scalar_one_or_none(),
    )


def _poll_conference(poll):
    return db.session.get(Conference, poll.conference_id)


@rule("poll.create")
def _poll_create(user, conference):
    return _staff_of_conference(user, conference) and conference.status == ConferenceStatus.PLANNED


@rule("poll.view", hide=True)
def _poll_view(user, poll):
    conference = _poll_conference(poll)
    if _staff_of_conference(user, conference):
        return True
    return poll_participant(user, poll) is not None and valid_consent(conference.case_id, user.agency_id) is not None


@rule("poll.answer")
def _poll_answer(user, poll):
    from app.conferences.models import PollStatus

    return (
        is_partner(user)
        and poll.status == PollStatus.OPEN
        and _poll_conference(poll).status == ConferenceStatus.PLANNED
        and _poll_view(user, poll)
    )


@rule("poll.decide")
def _poll_decide(user, poll):
    from app.conferences.models import PollStatus

    conference = _poll_conference(poll)
    return (
        _staff_of_conference(user, conference)
        and poll.status == PollStatus.OPEN
        and conference.status == ConferenceStatus.PLANNED
    )
