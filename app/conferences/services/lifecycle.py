"""Where a conference stands in its life, and what comes next (issue 13).

The stage is computed here, in one place, from the conference's status, its live invitations
and its minutes: geplant → eingeladen → durchgeführt → Protokoll im Entwurf → zur Anmerkung →
abgeschlossen (or abgesagt). The next action for the user looking at it is the first one the
policy (``permissions.can``) allows; what the policy does not allow yet, because its time has
not come, is said with the time from which it will be possible. Pages show the result through
``templates/conferences/_lifecycle.html`` and decide nothing themselves.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.accounts.models import User
from app.clock import berlin_today, utcnow
from app.conferences.models import Conference, ConferenceStatus, Invitation, InvitationStatus
from app.filters import date_de, datetime_de
from app.minutes.models import Minutes, MinutesStatus
from app.permissions import can, partner_invitation


class Stage(StrEnum):
    PLANNED = "planned"
    INVITED = "invited"
    HELD = "held"
    DRAFT = "draft"
    COMMENTS = "comments"
    CLOSED = "closed"


STAGES = {
    Stage.PLANNED: _l("geplant"),
    Stage.INVITED: _l("eingeladen"),
    Stage.HELD: _l("durchgeführt"),
    Stage.DRAFT: _l("Protokoll im Entwurf"),
    Stage.COMMENTS: _l("zur Anmerkung"),
    Stage.CLOSED: _l("abgeschlossen"),
}
ORDER = list(STAGES)

# What a step's state is called, in words: the indicator does not speak through colour alone.
STEP_STATES = {
    "done": _l("erledigt"),
    "current": _l("aktueller Schritt"),
    "skipped": _l("ausgelassen"),
    "open": _l("noch offen"),
}


@dataclass
class Step:
    stage: Stage
    label: str
    state: str  # done, current, skipped, open

    @property
    def state_label(self) -> str:
        return str(STEP_STATES[self.state])


@dataclass
class Action:
    label: str
    url: str
    method: str = "get"  # "post": a button in a form with the CSRF token


@dataclass
class Lifecycle:
    stage: Stage | None  # None: cancelled
    steps: list[Step]
    next_action: Action | None = None
    waiting: str | None = None  # what comes next without this user's doing
    not_yet: list[str] = field(default_factory=list)  # what is not possible yet, and from when

    @property
    def cancelled(self) -> bool:
        return self.stage is None


def current_minutes(session, conference) -> Minutes | None:
    """The newest version of the conference's minutes (draft or final), or None."""
    return session.execute(
        select(Minutes).where(Minutes.conference_id == conference.id).order_by(Minutes.version_number.desc()).limit(1)
    ).scalar_one_or_none()


def _invited(session, conference) -> bool:
    return (
        session.execute(
            select(Invitation.id)
            .where(Invitation.conference_id == conference.id, Invitation.status != InvitationStatus.CANCELLED)
            .limit(1)
        ).first()
        is not None
    )


def stage_of(conference: Conference, minutes: Minutes | None, invited: bool) -> Stage | None:
    """The stage from the conference's status, its minutes' newest version and whether an agency is
    invited; None for a cancelled conference."""
    if conference.status == ConferenceStatus.CANCELLED:
        return None
    if conference.status == ConferenceStatus.CLOSED or (minutes is not None and minutes.status != MinutesStatus.DRAFT):
        return Stage.CLOSED
    if conference.status == ConferenceStatus.HELD:
        if minutes is None:
            return Stage.HELD
        return Stage.COMMENTS if minutes.comments_until is not None else Stage.DRAFT
    return Stage.INVITED if invited else Stage.PLANNED


def _steps(stage: Stage | None, invited: bool, minutes: Minutes | None) -> list[Step]:
    if stage is None:
        return []
    reached = ORDER.index(stage)
    steps = []
    for i, s in enumerate(ORDER):
        if i == reached:
            state = "current"
        elif i > reached:
            state = "open"
        elif (s == Stage.INVITED and not invited) or (
            s == Stage.COMMENTS and (minutes is None or not minutes.comments_until)
        ):
            state = "skipped"  # invitations and the comment round are optional
        else:
            state = "done"
        steps.append(Step(s, str(STAGES[s]), state))
    return steps


def comments_running(minutes: Minutes | None) -> bool:
    """The comment round of a shared draft lasts until the end of its last day (Berlin)."""
    return (
        minutes is not None
        and minutes.status == MinutesStatus.DRAFT
        and minutes.comments_until is not None
        and minutes.comments_until >= berlin_today()
    )


def lifecycle(session, conference: Conference, user, invitations=None) -> Lifecycle:
    """``invitations``: the conference's invitations where the page has read them already."""
    # Only what the stage depends on is read: minutes once the conference is held, invitations
    # while it is planned (for a partner its own invitation says it, already read for the page).
    minutes = (
        current_minutes(session, conference)
        if conference.status in (ConferenceStatus.HELD, ConferenceStatus.CLOSED)
        else None
    )
    invited = partner_invitation(user, conference) is not None or (
        conference.status == ConferenceStatus.PLANNED
        and (
            _invited(session, conference)
            if invitations is None
            else any(inv.status != InvitationStatus.CANCELLED for inv in invitations)
        )
    )
    stage = stage_of(conference, minutes, invited)
    result = Lifecycle(stage, _steps(stage, invited, minutes))
    if stage is None:
        result.waiting = str(_l("Die Fallkonferenz ist abgesagt; es folgen keine weiteren Schritte."))
        return result
    if can(user, "conference.view", conference) and can(user, "conference.preview", conference):
        _staff_next(session, conference, minutes, stage, user, result)
    else:
        _partner_next(conference, minutes, stage, user, result)
    return result


def _minutes_page(conference, anchor=None) -> str:
    return url_for("minutes.page", conference_id=conference.id, _anchor=anchor)


def _before_start(conference, result) -> None:
    when = datetime_de(conference.starts_at)
    result.not_yet.append(str(_l("Als durchgeführt markieren: ab Beginn der Fallkonferenz am %(when)s.", when=when)))
    result.not_yet.append(
        str(
            _l(
                "Protokoll schreiben: ab Beginn am %(when)s, sobald die Fallkonferenz als durchgeführt markiert ist.",
                when=when,
            )
        )
    )


def _staff_next(session, conference, minutes, stage, user, result) -> None:
    if stage in (Stage.PLANNED, Stage.INVITED):
        if can(user, "conference.hold", conference):
            result.next_action = Action(
                str(_l("Als durchgeführt markieren")),
                url_for("conferences.mark_held", conference_id=conference.id),
                "post",
            )
            return
        if stage == Stage.PLANNED and can(user, "conference.change", conference):
            result.next_action = Action(
                str(_l("Einrichtungen einladen")), url_for("conferences.invite", conference_id=conference.id)
            )
        else:
            result.waiting = str(
                _l("Die Fallkonferenz findet am %(when)s statt.", when=datetime_de(conference.starts_at))
            )
        if conference.starts_at > utcnow():
            _before_start(conference, result)
        return
    if stage == Stage.HELD:
        if can(user, "minutes.create", conference):
            result.next_action = Action(str(_l("Protokoll schreiben")), _minutes_page(conference, "protokoll-form"))
        else:
            organiser = session.get(User, conference.organiser_id)
            result.waiting = str(_l("%(name)s (Moderation) schreibt das Protokoll.", name=organiser.name))
        return
    if stage in (Stage.DRAFT, Stage.COMMENTS):
        if comments_running(minutes):
            result.waiting = str(
                _l(
                    "Die Einrichtungen können bis einschließlich %(date)s Anmerkungen schreiben; "
                    "schließen Sie danach ab.",
                    date=date_de(minutes.comments_until),
                )
            )
        if stage == Stage.DRAFT and can(user, "minutes.edit", minutes):
            result.next_action = Action(
                str(_l("Entwurf zur Anmerkung freigeben")), _minutes_page(conference, "freigeben")
            )
            result.waiting = str(_l("Oder ohne Anmerkungsrunde: das Protokoll abschließen."))
            return
        if can(user, "minutes.finalise", minutes):
            result.next_action = Action(
                str(_l("Protokoll abschließen")), url_for("minutes.finalise", minutes_id=minutes.id)
            )
        else:
            organiser = session.get(User, conference.organiser_id)
            result.waiting = str(_l("%(name)s (Moderation) schließt das Protokoll ab.", name=organiser.name))
        return
    # Closed: the minutes are final.
    if can(user, "conference.follow_up", conference):
        result.next_action = Action(
            str(_l("Folgekonferenz planen")), url_for("conferences.follow_up", conference_id=conference.id)
        )
    elif minutes is not None:
        result.next_action = Action(str(_l("Protokoll ansehen")), _minutes_page(conference))


def _partner_next(conference, minutes, stage, user, result) -> None:
    if stage in (Stage.PLANNED, Stage.INVITED):
        invitation = partner_invitation(user, conference)
        if (
            can(user, "conference.answer", conference)
            and invitation is not None
            and (invitation.status == InvitationStatus.PENDING)
        ):
            result.next_action = Action(
                str(_l("Teilnahme zu- oder absagen")),
                url_for("conferences.view", conference_id=conference.id, _anchor="antwort"),
            )
        elif can(user, "note.create", conference):
            result.next_action = Action(
                str(_l("Stellungnahme schreiben")), url_for("conferences.note_new", conference_id=conference.id)
            )
        result.not_yet.append(
            str(
                _l(
                    "Protokoll: erst nach der Fallkonferenz am %(when)s, wenn das Jobcenter es vorlegt.",
                    when=datetime_de(conference.starts_at),
                )
            )
        )
        return
    if stage == Stage.COMMENTS and minutes is not None and can(user, "minutes.comment", minutes):
        result.next_action = Action(
            str(_l("Anmerkung zum Protokollentwurf schreiben")), _minutes_page(conference, "anmerkung")
        )
        return
    if stage == Stage.CLOSED and minutes is not None and can(user, "minutes.download", minutes):
        result.next_action = Action(
            str(_l("Protokoll herunterladen (PDF)")), url_for("minutes.download", minutes_id=minutes.id)
        )
        return
    result.waiting = str(_l("Das Jobcenter schreibt das Protokoll; Sie erhalten eine E-Mail, sobald es vorliegt."))
