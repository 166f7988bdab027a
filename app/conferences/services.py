"""Conferences: scheduling, invitations and their e-mails, notes, the record of the
conference, measures and their follow-up, reminders, and the start pages' lists.

Services take domain objects and plain data, write the audit trail and queue e-mails in
the caller's transaction; they never touch the request. The route commits once.
"""
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date, format_datetime
from flask import current_app
from sqlalchemy import and_, exists, func, or_, select

from app import audit, mail
from app.accounts.models import Role, User
from app.agencies.models import Agency, District, Location, LocationKind
from app.cases.models import Case, Consent
from app.conferences import calendar
from app.conferences.models import (OPEN_MEASURE_STATUSES, RESPONSIBLE_KINDS, AgendaItem, Conference,
                                    Invitation, Measure, Note, measure_open)
from app.db import utcnow
from app.filters import berlin_today, to_local
from app.forms import check_version
from app.permissions import partner_invitation, partner_sees_note, valid_consent

MEASURE_DUE_SOON_DAYS = 7  # start page: "due soon"
REMINDER_MEASURE_DAYS = 3  # reminders: due within three days
REMINDER_CONFERENCE_HOURS = 48  # reminders: conferences in the next two days
OVERDUE_REMINDER_EVERY_DAYS = 7  # an overdue measure is reminded again after a week


class ConferenceError(Exception):
    """A refusal the user can fix: shown at ``field`` of the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# --- small helpers ---------------------------------------------------------------------


def de_datetime(value: datetime) -> str:
    # E-mails are German whatever language the sender's session uses.
    return format_datetime(to_local(value), "EEE, d. MMM y, HH:mm", locale="de_DE")


def de_date(value: date) -> str:
    return format_date(value, "EEE, d. MMM y", locale="de_DE")


def local_day(conference) -> date:
    return to_local(conference.starts_at).date()


def conference_link(conference_id: int) -> str:
    """The conference page at BASE_URL: works in requests and in CLI commands alike."""
    path = current_app.url_map.bind("localhost").build("conferences.view", {"conference_id": conference_id})
    return current_app.config["BASE_URL"].rstrip("/") + path


def location_text(location: Location) -> str:
    if location.kind == LocationKind.ONLINE:
        # The video link itself is shown on the conference page, after log-in.
        return f"{location.name} (Link zur Videokonferenz auf der Konferenzseite)"
    return ", ".join(part for part in (location.name, location.address) if part)


def consent_valid_on(case_id_col, agency_id_col, day: date):
    """SQL twin of ``Consent.is_valid_on``: some consent of the agency for the case holds on ``day``."""
    return exists().where(
        Consent.case_id == case_id_col, Consent.agency_id == agency_id_col,
        Consent.superseded_at.is_(None), Consent.signed_on <= day, Consent.valid_until >= day,
        or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > day),
    )


def _override(session, obj, actor, kinds):
    if kinds:
        audit.record("pii.override", obj, actor=actor, session=session, kinds=list(kinds))


@dataclass
class Page:
    items: list
    number: int
    has_next: bool


def paginate(session, stmt, number: int, size: int) -> Page:
    """One query per list: fetch one row more than the page to learn whether another follows."""
    number = max(number or 1, 1)
    rows = session.execute(stmt.offset((number - 1) * size).limit(size + 1)).all()
    return Page(rows[:size], number, len(rows) > size)


# --- scheduling ------------------------------------------------------------------------------


def location_choices(session, current_id=None):
    rows = session.execute(
        select(Location.id, Location.name).where(or_(Location.active.is_(True), Location.id == current_id))
        .order_by(Location.name)
    ).all()
    return rows


def clashes(session, location_id: int, starts_at: datetime, ends_at: datetime, exclude_id=None) -> list:
    """Other conferences at the same place and overlapping time: (start, end) only, one query.

    Only times are returned: the clashing conference may belong to another team.
    """
    stmt = select(Conference.starts_at, Conference.ends_at).where(
        Conference.location_id == location_id, Conference.status.in_(("planned", "held")),
        Conference.starts_at < ends_at, Conference.ends_at > starts_at,
    ).order_by(Conference.starts_at)
    if exclude_id is not None:
        stmt = stmt.where(Conference.id != exclude_id)
    return session.execute(stmt).all()


def agenda_items(session, conference) -> list[AgendaItem]:
    return list(session.execute(
        select(AgendaItem).where(AgendaItem.conference_id == conference.id).order_by(AgendaItem.position)
    ).scalars())


def _plan_agenda(existing: list[AgendaItem], titles: list[str]):
    """Match new agenda lines to existing items so that discussion notes stay with their item.

    Same title → same item; the remaining lines take over the remaining items in order
    (a reworded item); what is left over is removed, which is refused for an item that
    already holds discussion notes.
    """
    unused = list(existing)
    plan: list[tuple[AgendaItem | None, str]] = []
    for title in titles:
        match = next((item for item in unused if item.title == title), None)
        if match is not None:
            unused.remove(match)
        plan.append((match, title))
    for i, (item, title) in enumerate(plan):
        if item is None and unused:
            plan[i] = (unused.pop(0), title)
    kept_with_notes = [item for item in unused if item.discussion.strip()]
    if kept_with_notes:
        raise ConferenceError("agenda", "Der Tagesordnungspunkt „%s“ enthält schon Notizen aus der Besprechung "
                              "und kann nicht entfernt werden." % kept_with_notes[0].title)
    return plan, unused


def _apply_agenda(session, conference, plan, removed):
    for item in removed:
        session.delete(item)
    session.flush()
    for position, (item, title) in enumerate(plan, start=1):
        if item is None:
            session.add(AgendaItem(conference_id=conference.id, position=position, title=title))
        elif item.title != title or item.position != position:
            item.title, item.position = title, position
            item.version += 1


def schedule(session, case, actor, *, occasion: str, starts_at: datetime, ends_at: datetime, location_id: int,
             agenda: list[str], person_attends: bool, overridden_kinds=(), previous=None) -> Conference:
    conference = Conference(
        case_id=case.id, occasion=occasion.strip(), starts_at=starts_at, ends_at=ends_at,
        location_id=location_id, organiser_id=actor.id, person_attends=person_attends,
        previous_conference_id=previous.id if previous else None,
        ical_uid=f"{uuid.uuid4()}@fallkonferenz",
    )
    session.add(conference)
    session.flush()
    plan, _removed = _plan_agenda([], agenda)
    _apply_agenda(session, conference, plan, [])
    audit.record("conference.created", conference, actor=actor, session=session, case_id=case.id,
                 previous_conference_id=conference.previous_conference_id)
    _override(session, conference, actor, overridden_kinds)
    return conference


def update_conference(session, conference, actor, *, version, occasion: str, starts_at: datetime,
                      ends_at: datetime, location_id: int, agenda: list[str], person_attends: bool,
                      overridden_kinds=()) -> list[str]:
    """Save a changed conference; a new time or place goes out to every invited agency."""
    new_day = to_local(starts_at).date()
    plan, removed = _plan_agenda(agenda_items(session, conference), agenda)
    if new_day != local_day(conference):
        lapsing = [name for inv, name in live_invitations(session, conference)
                   if valid_consent(conference.case_id, inv.agency_id, new_day) is None]
        if lapsing:
            raise ConferenceError("day", "Am neuen Datum gilt keine Einwilligung für: %s. Ziehen Sie diese "
                                  "Einladungen zuerst zurück oder wählen Sie ein anderes Datum." % ", ".join(lapsing))
    check_version(conference, version)
    changed = [name for name, value in (("occasion", occasion.strip()), ("starts_at", starts_at),
                                        ("ends_at", ends_at), ("location_id", location_id),
                                        ("person_attends", person_attends))
               if getattr(conference, name) != value]
    reschedule = any(name in changed for name in ("starts_at", "ends_at", "location_id"))
    conference.occasion, conference.starts_at, conference.ends_at = occasion.strip(), starts_at, ends_at
    conference.location_id, conference.person_attends = location_id, person_attends
    conference.updated_at = utcnow()
    before = [(item.id, item.title) for item in agenda_items(session, conference)]
    _apply_agenda(session, conference, plan, removed)
    session.flush()
    if before != [(item.id, item.title) for item in agenda_items(session, conference)]:
        changed.append("agenda")
    if reschedule:
        conference.ical_sequence += 1
        conference.reminder_sent_at = None  # the new date gets its own reminder
        for inv, _name in live_invitations(session, conference):
            send_invitation_mail(session, conference, inv, actor, kind="update")
    audit.record("conference.updated", conference, actor=actor, session=session, fields=changed,
                 sequence=conference.ical_sequence)
    _override(session, conference, actor, overridden_kinds)
    return changed


def cancel_conference(session, conference, actor, *, version, reason: str, overridden_kinds=()) -> None:
    check_version(conference, version)
    conference.status = "cancelled"
    conference.cancel_reason = reason.strip()
    conference.ical_sequence += 1
    conference.updated_at = utcnow()
    for inv, _name in live_invitations(session, conference):
        send_invitation_mail(session, conference, inv, actor, kind="conference_cancelled")
    audit.record("conference.cancelled", conference, actor=actor, session=session,
                 sequence=conference.ical_sequence)
    _override(session, conference, actor, overridden_kinds)


def mark_held(session, conference, actor) -> None:
    conference.status = "held"
    conference.version += 1
    conference.updated_at = utcnow()
    audit.record("conference.held", conference, actor=actor, session=session)


def follow_up_agenda(session, previous) -> list[str]:
    """The agenda a follow-up starts with: the earlier conference's open measures, for review."""
    lines = ["Überprüfung der vereinbarten Maßnahmen"]
    for measure in open_measures(session, previous):
        what = " ".join(measure.what.split())
        lines.append(f"Maßnahme prüfen: {what[:240]}")
    return lines


def open_measures(session, conference) -> list[Measure]:
    return list(session.execute(
        select(Measure).where(Measure.conference_id == conference.id, Measure.status.in_(OPEN_MEASURE_STATUSES))
        .order_by(Measure.due_on, Measure.id)
    ).scalars())


# --- invitations and their e-mails -------------------------------------------------------------


def live_invitations(session, conference) -> list[tuple[Invitation, str]]:
    """Invitations not cancelled, with the agency's name."""
    return list(session.execute(
        select(Invitation, Agency.name).join(Agency, Agency.id == Invitation.agency_id)
        .where(Invitation.conference_id == conference.id, Invitation.status != "cancelled")
        .order_by(Agency.name)
    ).all())


EMAIL_TEMPLATES = {
    "invitation": ("conference_invitation", "REQUEST"),
    "resend": ("conference_invitation", "REQUEST"),
    "update": ("conference_update", "REQUEST"),
    "conference_cancelled": ("conference_cancelled", "CANCEL"),
    "invitation_cancelled": ("invitation_cancelled", "CANCEL"),
}


def invitation_recipients(session, invitation) -> list[str]:
    agency = session.get(Agency, invitation.agency_id)
    to = [agency.contact_email]
    if invitation.user_id:
        named = session.get(User, invitation.user_id)
        if named is not None and named.active:
            to.append(named.email)
    return to


def _mail_context(session, conference) -> dict:
    case = session.get(Case, conference.case_id)
    location = session.get(Location, conference.location_id)
    organiser = session.get(User, conference.organiser_id)
    return {
        "pseudonym": case.pseudonym,
        "when": de_datetime(conference.starts_at),
        "until": to_local(conference.ends_at).strftime("%H:%M"),
        "location": location_text(location),
        "location_obj": location,
        "organiser": organiser,
        "link": conference_link(conference.id),
        "organisation": current_app.config["ORGANISATION_NAME"],
    }


def send_invitation_mail(session, conference, invitation, actor, *, kind: str) -> None:
    """One e-mail with its calendar file to the agency's contact address and its named person."""
    template, method = EMAIL_TEMPLATES[kind]
    ctx = _mail_context(session, conference)
    to = invitation_recipients(session, invitation)
    ics = calendar.calendar_file(conference, method=method, pseudonym=ctx["pseudonym"],
                                 location_text=ctx["location"], organiser=ctx["organiser"],
                                 attendees=to, link=ctx["link"])
    mail.queue(to, template, attachments=[calendar.attachment(ics, method)], session=session, ref=invitation,
               kind=kind, **{k: v for k, v in ctx.items() if k not in ("location_obj", "organiser")},
               organiser_name=ctx["organiser"].name)
    invitation.sent_count += 1
    invitation.last_sent_at = utcnow()
    audit.record("invitation.mailed", invitation, actor=actor, session=session, kind=kind, method=method,
                 sequence=conference.ical_sequence, conference_id=conference.id)


@dataclass
class InvitationOptions:
    eligible: list  # (agency, consent)
    refused: list  # (agency, reason)
    invited: list  # (invitation, agency name, named user name or None)
    people: list  # active partner users of eligible agencies: (user, agency name)


def _refusal_reason(consents: list[Consent], day: date) -> str:
    newest = max(consents, key=lambda c: (c.signed_on, c.id))
    if newest.withdrawn_on is not None and newest.withdrawn_on <= day:
        return "Einwilligung widerrufen am %s" % de_date(newest.withdrawn_on)
    if newest.valid_until < day:
        return "Einwilligung gilt nur bis %s, der Termin liegt danach" % de_date(newest.valid_until)
    if newest.signed_on > day:
        return "Einwilligung gilt erst ab %s" % de_date(newest.signed_on)
    return "keine am Termin gültige Einwilligung"


def invitation_options(session, conference) -> InvitationOptions:
    """Which agencies can be invited, and why the others cannot (DESIGN.md section 4)."""
    day = local_day(conference)
    invited_rows = session.execute(
        select(Invitation, Agency.name, User.name).join(Agency, Agency.id == Invitation.agency_id)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.conference_id == conference.id).order_by(Agency.name)
    ).all()
    live = {inv.agency_id for inv, _a, _u in invited_rows if inv.status != "cancelled"}
    rows = session.execute(
        select(Consent, Agency).join(Agency, Agency.id == Consent.agency_id)
        .where(Consent.case_id == conference.case_id, Consent.superseded_at.is_(None))
        .order_by(Agency.name)
    ).all()
    by_agency: dict[int, tuple[Agency, list[Consent]]] = {}
    for consent, agency in rows:
        by_agency.setdefault(agency.id, (agency, []))[1].append(consent)
    eligible, refused = [], []
    for agency, consents in by_agency.values():
        if agency.id in live:
            continue
        valid = next((c for c in consents if c.is_valid_on(day)), None)
        if not agency.active:
            refused.append((agency, "Einrichtung ist deaktiviert"))
        elif valid is None:
            refused.append((agency, _refusal_reason(consents, day)))
        else:
            eligible.append((agency, valid))
    eligible_ids = [agency.id for agency, _c in eligible]
    people = session.execute(
        select(User, Agency.name).join(Agency, Agency.id == User.agency_id)
        .where(User.agency_id.in_(eligible_ids), User.role == Role.PARTNER, User.active.is_(True))
        .order_by(Agency.name, User.name)
    ).all() if eligible_ids else []
    invited = [(inv, agency_name, user_name) for inv, agency_name, user_name in invited_rows]
    return InvitationOptions(eligible, refused, invited, list(people))


def invite(session, conference, actor, *, agency_ids: list[int], user_ids: list[int]) -> list[Invitation]:
    options = invitation_options(session, conference)
    eligible = {agency.id for agency, _c in options.eligible}
    if not agency_ids or any(a not in eligible for a in agency_ids):
        raise ConferenceError("agencies", "Diese Einrichtung kann nicht eingeladen werden: Für sie gilt am "
                              "Termin keine Einwilligung, oder sie ist schon eingeladen.")
    people = {user.id: user for user, _name in options.people}
    named: dict[int, int] = {}
    for user_id in user_ids:
        user = people.get(user_id)
        if user is None or user.agency_id not in agency_ids:
            raise ConferenceError("people", "Namentlich einladen können Sie nur Personen der ausgewählten "
                                  "Einrichtungen.")
        if user.agency_id in named:
            raise ConferenceError("people", "Pro Einrichtung kann eine Person namentlich eingeladen werden.")
        named[user.agency_id] = user.id
    previous = {inv.agency_id: inv for inv, _a, _u in options.invited}
    created = []
    for agency_id in agency_ids:
        inv = previous.get(agency_id)
        if inv is None:
            inv = Invitation(conference_id=conference.id, agency_id=agency_id)
            session.add(inv)
        else:
            # Invited again after a withdrawal: calendars hold the CANCEL, so raise the sequence.
            conference.ical_sequence += 1
            inv.status, inv.answer_comment, inv.answered_at, inv.answered_by_id = "pending", "", None, None
            inv.cancelled_at, inv.attendance = None, None
        inv.user_id = named.get(agency_id)
        session.flush()
        audit.record("invitation.created", inv, actor=actor, session=session, conference_id=conference.id,
                     agency_id=agency_id, user_id=inv.user_id)
        send_invitation_mail(session, conference, inv, actor, kind="invitation")
        created.append(inv)
    return created


def resend_invitation(session, conference, invitation, actor) -> None:
    send_invitation_mail(session, conference, invitation, actor, kind="resend")


def cancel_invitation(session, invitation, actor, *, reason: str, **details) -> bool:
    """End an invitation (withdrawn by staff, or the consent ended) with a calendar CANCEL.

    ``reason`` is a code for the audit trail ("withdrawn", "consent_withdrawn", ...);
    ``details`` (ids only) go there too. Returns whether an e-mail went out (only for a
    conference still planned).
    """
    if invitation.status == "cancelled":
        return False
    conference = session.get(Conference, invitation.conference_id)
    invitation.status = "cancelled"
    invitation.cancelled_at = utcnow()
    audit.record("invitation.cancelled", invitation, actor=actor, session=session, reason=reason,
                 conference_id=conference.id, agency_id=invitation.agency_id, **details)
    if conference.status != "planned":
        return False
    conference.ical_sequence += 1
    send_invitation_mail(session, conference, invitation, actor, kind="invitation_cancelled")
    return True


def answer_invitation(session, invitation, actor, *, answer: str, comment: str, overridden_kinds=()) -> None:
    invitation.status = answer
    invitation.answer_comment = (comment or "").strip()
    invitation.answered_at = utcnow()
    invitation.answered_by_id = actor.id
    audit.record("invitation.answered", invitation, actor=actor, session=session, status=answer,
                 conference_id=invitation.conference_id)
    _override(session, invitation, actor, overridden_kinds)


# --- notes -----------------------------------------------------------------------------------------


def add_note(session, conference, actor, *, body: str, categories: list[str], visibility: str,
             overridden_kinds=()) -> Note:
    note = Note(conference_id=conference.id, author_id=actor.id,
                agency_id=actor.agency_id if actor.role == Role.PARTNER else None,
                body=body.strip(), categories=sorted(set(categories)), visibility=visibility)
    session.add(note)
    session.flush()
    audit.record("note.created", note, actor=actor, session=session, conference_id=conference.id,
                 categories=note.categories, visibility=visibility)
    _override(session, note, actor, overridden_kinds)
    return note


def edit_note(session, note, actor, *, version, body: str, categories: list[str], visibility: str,
              overridden_kinds=()) -> None:
    check_version(note, version)
    note.body, note.categories, note.visibility = body.strip(), sorted(set(categories)), visibility
    note.updated_at = utcnow()
    audit.record("note.updated", note, actor=actor, session=session, conference_id=note.conference_id,
                 categories=note.categories, visibility=visibility)
    _override(session, note, actor, overridden_kinds)


def withdraw_note(session, note, actor, *, version) -> None:
    check_version(note, version)
    note.withdrawn_at = utcnow()
    note.updated_at = note.withdrawn_at
    audit.record("note.withdrawn", note, actor=actor, session=session, conference_id=note.conference_id)


def note_category_choices(consent) -> list[str]:
    """Categories a partner may tag: those its consent covers. Staff (no consent) may tag all."""
    from app.cases.models import DATA_CATEGORIES

    if consent is None:
        return list(DATA_CATEGORIES)
    return [key for key in DATA_CATEGORIES if key in set(consent.scope)]


# --- in the conference -----------------------------------------------------------------------------


def record_conference(session, conference, actor, *, version, person_attended, attendance: dict,
                      discussion: dict, overridden_kinds=()) -> None:
    """Attendance per invited party, whether the person attended, discussion per agenda item."""
    check_version(conference, version)
    conference.person_attended = person_attended
    conference.updated_at = utcnow()
    for inv, _name in live_invitations(session, conference):
        if inv.id in attendance:
            inv.attendance = attendance[inv.id]
    for item in agenda_items(session, conference):
        if item.id in discussion and item.discussion != discussion[item.id]:
            item.discussion = discussion[item.id]
            item.version += 1
    audit.record("conference.recorded", conference, actor=actor, session=session,
                 attendance={str(k): v for k, v in attendance.items()}, person_attended=person_attended)
    _override(session, conference, actor, overridden_kinds)


def responsible_choices(session, conference) -> list[tuple[str, str]]:
    """Who can be responsible for a measure: the Jobcenter, the person, or an invited agency."""
    agencies = [(f"agency:{inv.agency_id}", name) for inv, name in live_invitations(session, conference)]
    return [("jobcenter", str(RESPONSIBLE_KINDS["jobcenter"])), ("person", str(RESPONSIBLE_KINDS["person"]))] + agencies


def parse_responsible(session, conference, value: str) -> tuple[str, int | None]:
    allowed = dict(responsible_choices(session, conference))
    if value not in allowed:
        raise ConferenceError("responsible", "Bitte wählen Sie das Jobcenter, die Person oder eine "
                              "eingeladene Einrichtung.")
    if value.startswith("agency:"):
        return "agency", int(value.split(":", 1)[1])
    return value, None


def responsible_value(measure) -> str:
    return f"agency:{measure.responsible_agency_id}" if measure.responsible_kind == "agency" else measure.responsible_kind


def add_measure(session, conference, actor, *, what: str, responsible: str, due_on: date, status: str,
                outcome: str, overridden_kinds=()) -> Measure:
    kind, agency_id = parse_responsible(session, conference, responsible)
    measure = Measure(conference_id=conference.id, case_id=conference.case_id, what=what.strip(),
                      responsible_kind=kind, responsible_agency_id=agency_id, due_on=due_on, status=status,
                      outcome=(outcome or "").strip())
    session.add(measure)
    session.flush()
    audit.record("measure.created", measure, actor=actor, session=session, conference_id=conference.id,
                 responsible_kind=kind, agency_id=agency_id, status=status)
    _override(session, measure, actor, overridden_kinds)
    return measure


def update_measure(session, measure, actor, *, version, what: str, responsible: str, due_on: date,
                   status: str, outcome: str, overridden_kinds=()) -> None:
    conference = session.get(Conference, measure.conference_id)
    kind, agency_id = parse_responsible(session, conference, responsible)
    check_version(measure, version)
    measure.what, measure.responsible_kind, measure.responsible_agency_id = what.strip(), kind, agency_id
    if measure.due_on != due_on:
        measure.reminded_on = None  # a new due date gets its own reminders
    measure.due_on, measure.status, measure.outcome = due_on, status, (outcome or "").strip()
    measure.updated_at = utcnow()
    audit.record("measure.updated", measure, actor=actor, session=session, status=status,
                 responsible_kind=kind, agency_id=agency_id)
    _override(session, measure, actor, overridden_kinds)


def update_measure_status(session, measure, actor, *, version, status: str, outcome: str,
                          review_conference=None, overridden_kinds=()) -> None:
    """A status change by the responsible partner, or the review in a follow-up conference."""
    check_version(measure, version)
    measure.status, measure.outcome = status, (outcome or "").strip()
    measure.updated_at = utcnow()
    if review_conference is not None:
        measure.reviewed_in_conference_id = review_conference.id
    audit.record("measure.reviewed" if review_conference is not None else "measure.status_changed", measure,
                 actor=actor, session=session, status=status,
                 review_conference_id=review_conference.id if review_conference is not None else None)
    _override(session, measure, actor, overridden_kinds)


def measures_for_review(session, follow_up) -> list[tuple[Measure, str | None]]:
    """Measures of the earlier conference that the follow-up reviews: still open, or reviewed here."""
    if follow_up.previous_conference_id is None:
        return []
    return list(session.execute(
        select(Measure, Agency.name).outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(_under_review(follow_up)).order_by(Measure.due_on, Measure.id)
    ).all())


def _under_review(follow_up):
    return and_(Measure.conference_id == follow_up.previous_conference_id,
                or_(Measure.status.in_(OPEN_MEASURE_STATUSES), Measure.reviewed_in_conference_id == follow_up.id))


# --- what a conference page shows: a fixed number of queries, however much the conference holds -----------


def measures_of(session, conference) -> list[tuple[Measure, str | None]]:
    return list(session.execute(
        select(Measure, Agency.name).outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(Measure.conference_id == conference.id).order_by(Measure.due_on, Measure.id)
    ).all())


def notes_of(session, conference) -> list[tuple[Note, str, str | None]]:
    """Notes with the author's name and agency name (None: Jobcenter)."""
    return list(session.execute(
        select(Note, User.name, Agency.name).join(User, User.id == Note.author_id)
        .outerjoin(Agency, Agency.id == Note.agency_id)
        .where(Note.conference_id == conference.id).order_by(Note.created_at, Note.id)
    ).all())


def _facts(session, conference):
    """The conference's case, district, place and organiser, in one query."""
    return session.execute(
        select(Case, District, Location, User).select_from(Conference)
        .join(Case, Case.id == Conference.case_id)
        .outerjoin(District, District.id == Case.district_id)
        .outerjoin(Location, Location.id == Conference.location_id)
        .outerjoin(User, User.id == Conference.organiser_id)
        .where(Conference.id == conference.id)
    ).one()


def staff_page(session, conference) -> dict:
    case, district, location, organiser = _facts(session, conference)
    invitations = session.execute(
        select(Invitation, Agency.name, User.name).join(Agency, Agency.id == Invitation.agency_id)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.conference_id == conference.id).order_by(Agency.name)
    ).all()
    # The conference this one follows up, and those that follow it up, in one query.
    linked = list(session.execute(
        select(Conference).where(or_(Conference.id == conference.previous_conference_id,
                                     Conference.previous_conference_id == conference.id))
        .order_by(Conference.starts_at, Conference.id)
    ).scalars())
    previous = next((c for c in linked if c.id == conference.previous_conference_id), None)
    follow_ups = [c for c in linked if c.previous_conference_id == conference.id]
    # This conference's measures, and the earlier conference's that it reviews, in one query.
    measures, review = [], []
    wanted = Measure.conference_id == conference.id
    if conference.previous_conference_id is not None:
        wanted = or_(wanted, _under_review(conference))
    for measure, agency_name in session.execute(
        select(Measure, Agency.name).outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(wanted).order_by(Measure.due_on, Measure.id)
    ).all():
        (measures if measure.conference_id == conference.id else review).append((measure, agency_name))
    return {
        "case": case,
        "district": district,
        "location": location,
        "organiser": organiser,
        "agenda": agenda_items(session, conference),
        "invitations": invitations,
        "notes": notes_of(session, conference),
        "measures": measures,
        "previous": previous,
        "follow_ups": follow_ups,
        "review": review,
    }


def partner_page(session, conference, user, consent) -> dict:
    """Only what DESIGN.md section 4 lets a partner see: never the internal reference, the
    summary, other conferences of the case, other agencies' answers, or notes outside the
    consent scope or meant for the Jobcenter only."""
    case, district, location, _organiser = _facts(session, conference)
    notes = [(note, author, agency) for note, author, agency in notes_of(session, conference)
             if partner_sees_note(consent, user.agency_id, note)]
    return {
        "pseudonym": case.pseudonym,
        "district": district,
        "location": location,
        "agenda": agenda_items(session, conference),
        # The live invitation through which the partner sees this page (read by the policy).
        "invitation": partner_invitation(user, conference),
        "notes": notes,
        "measures": measures_of(session, conference),
        "consent": consent,
    }


def team_conferences(session, team_id, *, upcoming: bool, number: int, size: int) -> Page:
    now = utcnow()
    stmt = (select(Conference, Case.pseudonym, Location.name)
            .join(Case, Case.id == Conference.case_id).join(Location, Location.id == Conference.location_id)
            .where(Case.team_id == team_id))
    if upcoming:
        stmt = stmt.where(Conference.ends_at >= now).order_by(Conference.starts_at, Conference.id)
    else:
        stmt = stmt.where(Conference.ends_at < now).order_by(Conference.starts_at.desc(), Conference.id.desc())
    return paginate(session, stmt, number, size)


# --- start pages: a fixed number of queries whatever the data ------------------------------------------


def staff_start(session, user, pages: dict, size: int) -> dict:
    now, today = utcnow(), berlin_today()
    team = user.team_id
    upcoming = (
        select(Conference, Case.pseudonym, Location.name)
        .join(Case, Case.id == Conference.case_id).join(Location, Location.id == Conference.location_id)
        .where(Case.team_id == team, Conference.status == "planned", Conference.ends_at >= now)
        .order_by(Conference.starts_at, Conference.id)
    )
    unanswered = (
        select(Invitation, Agency.name, Conference.id, Conference.starts_at, Case.pseudonym)
        .join(Conference, Conference.id == Invitation.conference_id).join(Case, Case.id == Conference.case_id)
        .join(Agency, Agency.id == Invitation.agency_id)
        .where(Case.team_id == team, Invitation.status == "pending", Conference.status == "planned",
               Conference.starts_at >= now)
        .order_by(Conference.starts_at, Agency.name, Invitation.id)
    )
    measures = (
        select(Measure, Case.pseudonym, Agency.name)
        .join(Case, Case.id == Measure.case_id).outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(Case.team_id == team, measure_open(),
               Measure.due_on <= today + timedelta(days=MEASURE_DUE_SOON_DAYS))
        .order_by(Measure.due_on, Measure.id)
    )
    planned = exists().where(Conference.case_id == Case.id, Conference.status == "planned",
                             Conference.starts_at >= now)
    last_held = (select(func.max(Conference.starts_at))
                 .where(Conference.case_id == Case.id, Conference.status.in_(("held", "closed")))
                 .correlate(Case).scalar_subquery())
    without_follow_up = (
        select(Case.id, Case.pseudonym, last_held.label("last_conference"))
        .where(Case.team_id == team, Case.status == "open", ~planned)
        .order_by(Case.pseudonym)
    )
    return {
        "upcoming": paginate(session, upcoming, pages.get("upcoming", 1), size),
        "unanswered": paginate(session, unanswered, pages.get("unanswered", 1), size),
        "measures": paginate(session, measures, pages.get("measures", 1), size),
        "without_follow_up": paginate(session, without_follow_up, pages.get("without_follow_up", 1), size),
        "today": today,
    }


def partner_start(session, user, pages: dict, size: int) -> dict:
    """The partner's lists: only conferences the agency may see now (invited, consent valid today)."""
    now, today = utcnow(), berlin_today()
    agency = user.agency_id
    invited = and_(Invitation.conference_id == Conference.id, Invitation.agency_id == agency,
                   Invitation.status != "cancelled")
    visible = consent_valid_on(Conference.case_id, agency, today)
    upcoming = (
        select(Conference, Invitation.status, Case.pseudonym, District.name, Location.name)
        .join(Invitation, invited).join(Case, Case.id == Conference.case_id)
        .join(District, District.id == Case.district_id).join(Location, Location.id == Conference.location_id)
        .where(Conference.status == "planned", Conference.ends_at >= now, visible)
        .order_by(Conference.starts_at, Conference.id)
    )
    awaiting = (
        select(Conference, Case.pseudonym, Location.name)
        .join(Invitation, invited).join(Case, Case.id == Conference.case_id)
        .join(Location, Location.id == Conference.location_id)
        .where(Invitation.status == "pending", Conference.status == "planned", Conference.starts_at >= now, visible)
        .order_by(Conference.starts_at, Conference.id)
    )
    measures = (
        select(Measure, Case.pseudonym)
        .join(Conference, Conference.id == Measure.conference_id).join(Invitation, invited)
        .join(Case, Case.id == Measure.case_id)
        .where(Measure.responsible_agency_id == agency, measure_open(), visible)
        .order_by(Measure.due_on, Measure.id)
    )
    return {
        "upcoming": paginate(session, upcoming, pages.get("upcoming", 1), size),
        "awaiting": paginate(session, awaiting, pages.get("awaiting", 1), size),
        "measures": paginate(session, measures, pages.get("measures", 1), size),
        "today": today,
    }


# --- reminders (flask send-reminders) -------------------------------------------------------------------


def _measure_due_for_reminder(today: date):
    """Open, due within three days or overdue, and not reminded at this stage yet.

    Stages: once before the due date, once when it has passed, then weekly while overdue.
    Whatever runs again on the same day finds ``reminded_on == today`` and sends nothing.
    """
    return and_(
        Measure.status.in_(OPEN_MEASURE_STATUSES),
        Measure.due_on <= today + timedelta(days=REMINDER_MEASURE_DAYS),
        or_(Measure.reminded_on.is_(None),
            and_(Measure.due_on < today, Measure.reminded_on <= Measure.due_on),
            Measure.reminded_on <= today - timedelta(days=OVERDUE_REMINDER_EVERY_DAYS)),
    )


def cancel_invitations_without_consent(session, today: date | None = None) -> int:
    """Cancel live invitations to planned conferences whose agency's consent has expired.

    Access already ends at expiry (checked on every request); this sends the agency the
    calendar CANCEL as a withdrawal does. Run by the ``send-reminders`` cron job.
    """
    today = today or berlin_today()
    stale = session.execute(
        select(Invitation).join(Conference, Conference.id == Invitation.conference_id)
        .where(Conference.status == "planned", Invitation.status.in_(["pending", "accepted", "declined"]),
               ~consent_valid_on(Conference.case_id, Invitation.agency_id, today))
    ).scalars().all()
    for invitation in stale:
        cancel_invitation(session, invitation, None, reason="consent_expired")
    return len(stale)


def send_reminders(session, now: datetime | None = None, today: date | None = None) -> tuple[int, int]:
    """Remind of conferences in the next two days and of measures due soon or overdue.

    Safe to run as often as cron likes: what was reminded is marked in the same
    transaction that queues the e-mails. Returns (conferences, measures) reminded.
    """
    now = now or utcnow()
    today = today or berlin_today()
    conferences = list(session.execute(
        select(Conference).where(Conference.status == "planned", Conference.starts_at > now,
                                 Conference.starts_at <= now + timedelta(hours=REMINDER_CONFERENCE_HOURS),
                                 Conference.reminder_sent_at.is_(None))
        .order_by(Conference.starts_at).with_for_update(skip_locked=True)
    ).scalars())
    for conference in conferences:
        ctx = _mail_context(session, conference)
        ctx = {k: v for k, v in ctx.items() if k not in ("location_obj", "organiser")}
        for inv, _name in live_invitations(session, conference):
            if inv.status == "declined" or valid_consent(conference.case_id, inv.agency_id, today) is None:
                continue
            mail.queue(invitation_recipients(session, inv), "conference_reminder", session=session, **ctx)
            audit.record("invitation.reminded", inv, session=session, conference_id=conference.id)
        organiser = session.get(User, conference.organiser_id)
        if organiser is not None and organiser.active:
            mail.queue([organiser.email], "conference_reminder", session=session, **ctx)
        conference.reminder_sent_at = now
        audit.record("conference.reminded", conference, session=session)

    rows = session.execute(
        select(Measure, Conference, Case, Agency)
        .join(Conference, Conference.id == Measure.conference_id).join(Case, Case.id == Measure.case_id)
        .outerjoin(Agency, Agency.id == Measure.responsible_agency_id)
        .where(_measure_due_for_reminder(today)).order_by(Measure.due_on, Measure.id)
        .with_for_update(of=Measure, skip_locked=True)
    ).all()
    per_recipient: dict[str, list[dict]] = {}
    reminded = 0
    for measure, conference, case, agency in rows:
        if measure.responsible_kind == "agency":
            # The agency hears of it only while it may see the conference.
            if (agency is None or not agency.active
                    or valid_consent(case.id, agency.id, today) is None
                    or session.execute(select(Invitation.id).where(
                        Invitation.conference_id == conference.id, Invitation.agency_id == agency.id,
                        Invitation.status != "cancelled")).first() is None):
                continue
            to = agency.contact_email
        else:
            caseworker = session.get(User, case.caseworker_id)
            if caseworker is None or not caseworker.active:
                caseworker = session.get(User, conference.organiser_id)
            if caseworker is None or not caseworker.active:
                continue
            to = caseworker.email
        per_recipient.setdefault(to, []).append({
            "pseudonym": case.pseudonym, "due": de_date(measure.due_on), "overdue": measure.due_on < today,
            "link": conference_link(conference.id),
        })
        measure.reminded_on = today
        audit.record("measure.reminded", measure, session=session, overdue=measure.due_on < today)
        reminded += 1
    for to, items in per_recipient.items():
        mail.queue([to], "measure_reminder", session=session, items=items,
                   organisation=current_app.config["ORGANISATION_NAME"])
    return len(conferences), reminded
