"""Scheduling: a conference's date, place and agenda; changes, cancellation, holding it."""

import re
import uuid
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app import audit
from app.agencies.models import Location
from app.clock import berlin_today, local_day, to_local, utcnow
from app.conferences.models import OPEN_MEASURE_STATUSES, AgendaItem, Conference, ConferenceStatus, Measure
from app.conferences.services import ConferenceError
from app.conferences.services.invitations import live_invitations
from app.conferences.services.notifications import schedule_of, send_invitation_mail, send_organiser_copy
from app.forms import check_version
from app.permissions import valid_consent


def location_choices(session, current_id=None):
    rows = session.execute(
        select(Location.id, Location.name)
        .where(or_(Location.active.is_(True), Location.id == current_id))
        .order_by(Location.name)
    ).all()
    return rows


def clashes(session, location_id: int, starts_at: datetime, ends_at: datetime, exclude_id=None) -> list:
    """Other conferences at the same place and overlapping time: (start, end) only, one query.

    Only times are returned: the clashing conference may belong to another team.
    """
    stmt = (
        select(Conference.starts_at, Conference.ends_at)
        .where(
            Conference.location_id == location_id,
            Conference.status.in_((ConferenceStatus.PLANNED, ConferenceStatus.HELD)),
            Conference.starts_at < ends_at,
            Conference.ends_at > starts_at,
        )
        .order_by(Conference.starts_at)
    )
    if exclude_id is not None:
        stmt = stmt.where(Conference.id != exclude_id)
    return session.execute(stmt).all()


def agenda_items(session, conference) -> list[AgendaItem]:
    return list(
        session.execute(
            select(AgendaItem).where(AgendaItem.conference_id == conference.id).order_by(AgendaItem.position)
        ).scalars()
    )


Row = tuple[str, list[str]]  # an agenda item as a form gives it: title, data categories


def _plan_agenda(existing: list[AgendaItem], rows: list[Row]):
    """Match new agenda rows to existing items so that discussion notes stay with their item.

    Same title → same item; the remaining rows take over the remaining items in order
    (a reworded item); what is left over is removed, which is refused for an item that
    already holds discussion notes.
    """
    unused = list(existing)
    plan: list[tuple[AgendaItem | None, Row]] = []
    for row in rows:
        match = next((item for item in unused if item.title == row[0]), None)
        if match is not None:
            unused.remove(match)
        plan.append((match, row))
    for i, (item, row) in enumerate(plan):
        if item is None and unused:
            plan[i] = (unused.pop(0), row)
    kept_with_notes = [item for item in unused if item.discussion.strip()]
    if kept_with_notes:
        raise ConferenceError(
            "agenda",
            _l(
                "Der Tagesordnungspunkt „%(title)s“ enthält schon Notizen aus der "
                "Besprechung und kann nicht entfernt werden.",
                title=kept_with_notes[0].title,
            ),
        )
    return plan, unused


def _apply_agenda(session, conference, plan, removed):
    for item in removed:
        session.delete(item)
    session.flush()
    for position, (item, (title, categories)) in enumerate(plan, start=1):
        categories = sorted(set(categories))
        if item is None:
            session.add(AgendaItem(conference_id=conference.id, position=position, title=title, categories=categories))
        elif item.title != title or item.position != position or sorted(item.categories) != categories:
            item.title, item.position, item.categories = title, position, categories
            item.version += 1


PAST = _l("Der Termin liegt in der Vergangenheit. Bitte wählen Sie einen Beginn ab jetzt.")


def _refuse_past(starts_at: datetime) -> None:
    """A new conference cannot lie in the past: its invitations would ask agencies to a meeting
    that is over."""
    if starts_at < utcnow():
        raise ConferenceError("day", PAST)


def schedule(
    session,
    case,
    actor,
    *,
    occasion: str,
    starts_at: datetime,
    ends_at: datetime,
    location_id: int,
    agenda: list[Row],
    person_attends: bool,
    overridden_kinds=(),
    previous=None,
) -> Conference:
    _refuse_past(starts_at)
    conference = Conference(
        case_id=case.id,
        occasion=occasion.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        location_id=location_id,
        organiser_id=actor.id,
        person_attends=person_attends,
        previous_conference_id=previous.id if previous else None,
        ical_uid=f"{uuid.uuid4()}@fallkonferenz",
    )
    session.add(conference)
    session.flush()
    plan, _removed = _plan_agenda([], agenda)
    _apply_agenda(session, conference, plan, [])
    audit.record(
        "conference.created",
        conference,
        actor=actor,
        session=session,
        case_id=case.id,
        previous_conference_id=conference.previous_conference_id,
    )
    audit.record_overrides(conference, actor, overridden_kinds, session=session)
    send_organiser_copy(session, conference, actor, kind="scheduled")
    return conference


def update_conference(
    session,
    conference,
    actor,
    *,
    version,
    occasion: str,
    starts_at: datetime,
    ends_at: datetime,
    location_id: int,
    agenda: list[Row],
    person_attends: bool,
    overridden_kinds=(),
) -> list[str]:
    """Save a changed conference; a new time or place goes out to every invited agency."""
    # A planned conference may move into the past: staff record a meeting that took place earlier
    # than planned. Only a new conference is refused there (``schedule``).
    new_day = to_local(starts_at).date()
    plan, removed = _plan_agenda(agenda_items(session, conference), agenda)
    if new_day != local_day(conference.starts_at):
        lapsing = [
            name
            for inv, name in live_invitations(session, conference)
            if valid_consent(conference.case_id, inv.agency_id, new_day) is None
        ]
        if lapsing:
            raise ConferenceError(
                "day",
                _l(
                    "Am neuen Datum gilt keine Einwilligung für: %(agencies)s. Ziehen Sie "
                    "diese Einladungen zuerst zurück oder wählen Sie ein anderes Datum.",
                    agencies=", ".join(lapsing),
                ),
            )
    check_version(conference, version)
    before = schedule_of(session, conference)
    changed = [
        name
        for name, value in (
            ("occasion", occasion.strip()),
            ("starts_at", starts_at),
            ("ends_at", ends_at),
            ("location_id", location_id),
            ("person_attends", person_attends),
        )
        if getattr(conference, name) != value
    ]
    reschedule = any(name in changed for name in ("starts_at", "ends_at", "location_id"))
    conference.occasion, conference.starts_at, conference.ends_at = occasion.strip(), starts_at, ends_at
    conference.location_id, conference.person_attends = location_id, person_attends
    conference.updated_at = utcnow()
    agenda_before = [(item.id, item.title, sorted(item.categories)) for item in agenda_items(session, conference)]
    _apply_agenda(session, conference, plan, removed)
    session.flush()
    if agenda_before != [(item.id, item.title, sorted(item.categories)) for item in agenda_items(session, conference)]:
        changed.append("agenda")
    if reschedule:
        conference.ical_sequence += 1
        conference.reminder_sent_at = None  # the new date gets its own reminder
        for inv, _name in live_invitations(session, conference):
            send_invitation_mail(session, conference, inv, actor, kind="update", before=before)
        send_organiser_copy(session, conference, actor, kind="updated", before=before)
    audit.record(
        "conference.updated",
        conference,
        actor=actor,
        session=session,
        fields=changed,
        sequence=conference.ical_sequence,
    )
    audit.record_overrides(conference, actor, overridden_kinds, session=session)
    return changed


def cancel_conference(session, conference, actor, *, version, reason: str, overridden_kinds=()) -> int:
    """Cancel and tell every agency with a live invitation; returns how many were told."""
    check_version(conference, version)
    conference.status = ConferenceStatus.CANCELLED
    conference.cancel_reason = reason.strip()
    conference.ical_sequence += 1
    conference.updated_at = utcnow()
    live = live_invitations(session, conference)
    for inv, _name in live:
        send_invitation_mail(session, conference, inv, actor, kind="conference_cancelled")
    from app.conferences.services.polls import cancel_open_poll  # polls build on this module

    cancel_open_poll(session, conference, actor)
    send_organiser_copy(session, conference, actor, kind="cancelled")
    audit.record("conference.cancelled", conference, actor=actor, session=session, sequence=conference.ical_sequence)
    audit.record_overrides(conference, actor, overridden_kinds, session=session)
    return len(live)


def mark_held(session, conference, actor) -> None:
    conference.status = ConferenceStatus.HELD
    conference.version += 1
    conference.updated_at = utcnow()
    audit.record("conference.held", conference, actor=actor, session=session)


# A date written into the note on the next date ("Folgetermin am 12.3.2027"), for minutes written
# before the agreed day had a field of its own.
_DATE_IN_TEXT = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?![\d.])")


def date_in_text(text: str) -> date | None:
    """The first valid German date (TT.MM.JJJJ or TT.MM.JJ) in ``text``, or None."""
    for day, month, year in _DATE_IN_TEXT.findall(text or ""):
        try:
            return date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
        except ValueError:
            continue
    return None


def agreed_next_date(session, previous) -> date | None:
    """The day the minutes of ``previous`` agreed for the next conference (their "Nächster Termin"),
    if it is still ahead: the follow-up form starts with it."""
    from app.minutes.models import Minutes

    minutes = session.execute(
        select(Minutes).where(Minutes.conference_id == previous.id).order_by(Minutes.version_number.desc()).limit(1)
    ).scalar_one_or_none()
    if minutes is None:
        return None
    day = minutes.next_date or date_in_text(minutes.next_date_note)
    return day if day is not None and day >= berlin_today() else None


def follow_up_agenda(session, previous) -> list[Row]:
    """The agenda a follow-up starts with: the earlier conference's open measures, for review,
    each with the measure's own data categories."""
    rows: list[Row] = [(str(_l("Überprüfung der vereinbarten Maßnahmen")), [])]
    for measure in open_measures(session, previous):
        what = " ".join(measure.what.split())
        rows.append((str(_l("Maßnahme prüfen: %(what)s", what=what[:240])), sorted(measure.categories)))
    return rows


def open_measures(session, conference) -> list[Measure]:
    return list(
        session.execute(
            select(Measure)
            .where(Measure.conference_id == conference.id, Measure.status.in_(OPEN_MEASURE_STATUSES))
            .order_by(Measure.due_on, Measure.id)
        ).scalars()
    )
