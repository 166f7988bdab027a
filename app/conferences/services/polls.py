"""Finding a date (Terminabstimmung): the organiser proposes 2–8 slots for a planned conference and
asks the agencies with a valid consent; each answers yes / if need be / no per slot, in the app. The
organiser sees the answers best slot first, with clashes marked, and picks one: the conference gets
that date and place, and the invitations with calendar files go out as always
(``invitations.invite``); the other slots are released.

Consent (DESIGN.md section 4) applies as to the conference: an agency is asked only with a consent
valid now and on every proposed day; a withdrawal (``remove_agency``, called by the consent
services) or an expiry ends its access at once and removes its answers from the poll.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import audit, mail
from app.agencies.models import Agency, Location
from app.cases.models import Case
from app.clock import berlin_today, de_datetime, local_day, to_local, utcnow
from app.conferences.models import (
    Conference,
    ConferenceStatus,
    DatePoll,
    ParticipantStatus,
    PollAnswer,
    PollAnswerValue,
    PollParticipant,
    PollSlot,
    PollStatus,
    SlotStatus,
)
from app.conferences.services import ConferenceError
from app.conferences.services.invitations import invitation_options, invite, live_invitations
from app.conferences.services.notifications import location_text
from app.conferences.services.scheduling import agenda_items, clashes, update_conference
from app.forms import check_version
from app.permissions import valid_consent

MIN_SLOTS, MAX_SLOTS = 2, 8
REMIND_AFTER = timedelta(days=2)  # an agency that has not answered is reminded once, two days after
SCORE = {PollAnswerValue.YES: 2, PollAnswerValue.MAYBE: 1, PollAnswerValue.NO: 0}


def poll_link(conference_id: int) -> str:
    path = current_app.url_map.bind("localhost").build("conferences.poll", {"conference_id": conference_id})
    return current_app.config["BASE_URL"].rstrip("/") + path


def current_poll(session, conference) -> DatePoll | None:
    """The conference's open poll, else its latest one."""
    return session.execute(
        select(DatePoll)
        .where(DatePoll.conference_id == conference.id)
        .order_by((DatePoll.status == PollStatus.OPEN).desc(), DatePoll.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def slots_of(session, poll) -> list[tuple[PollSlot, Location]]:
    return list(
        session.execute(
            select(PollSlot, Location)
            .join(Location, Location.id == PollSlot.location_id)
            .where(PollSlot.poll_id == poll.id)
            .order_by(PollSlot.starts_at, PollSlot.position)
        ).all()
    )


def askable_agencies(session, conference, today: date | None = None) -> list[Agency]:
    """Active agencies with a consent for the case valid today (the ones a poll can ask)."""
    today = today or berlin_today()
    options = invitation_options(session, conference)
    candidates = {a.id: a for a, _consent in options.eligible}
    # Already invited agencies may take part in a poll for a new date too.
    for inv, _name, _user in options.invited:
        agency = session.get(Agency, inv.agency_id)
        if agency is not None and agency.active:
            candidates.setdefault(agency.id, agency)
    return sorted(
        (a for a in candidates.values() if valid_consent(conference.case_id, a.id, today) is not None),
        key=lambda a: a.name,
    )


Slot = tuple[datetime, datetime, int]  # starts (UTC), ends (UTC), location id


def create_poll(
    session, conference, actor, *, slots: list[Slot], agency_ids: list[int], answer_until: date | None
) -> DatePoll:
    if current_poll(session, conference) is not None and current_poll(session, conference).status == PollStatus.OPEN:
        raise ConferenceError("slots", _l("Für diese Fallkonferenz läuft schon eine Terminabstimmung."))
    if not MIN_SLOTS <= len(slots) <= MAX_SLOTS:
        raise ConferenceError(
            "slots", _l("Bitte schlagen Sie %(min)s bis %(max)s Termine vor.", min=MIN_SLOTS, max=MAX_SLOTS)
        )
    if len(set(slots)) != len(slots):
        raise ConferenceError("slots", _l("Jeder Termin darf nur einmal vorkommen."))
    now = utcnow()
    if any(start <= now for start, _end, _loc in slots):
        raise ConferenceError("slots", _l("Alle Termine müssen in der Zukunft liegen."))
    active_locations = set(session.execute(select(Location.id).where(Location.active.is_(True))).scalars())
    if any(loc not in active_locations for _s, _e, loc in slots):
        raise ConferenceError("slots", _l("Bitte wählen Sie für jeden Termin einen der angebotenen Orte."))
    if answer_until is not None and (
        answer_until < berlin_today() or answer_until > min(local_day(s) for s, _e, _l in slots)
    ):
        raise ConferenceError(
            "answer_until", _l("Die Antwortfrist muss zwischen heute und dem ersten vorgeschlagenen Termin liegen.")
        )
    askable = {a.id: a for a in askable_agencies(session, conference)}
    if not agency_ids or any(a not in askable for a in agency_ids):
        raise ConferenceError(
            "agencies", _l("Fragen können Sie nur Einrichtungen, für die eine gültige Einwilligung vorliegt.")
        )
    # Invited only where a consent holds on the day: so asked only where it holds on every proposed day.
    lapsing = sorted(
        {
            askable[a].name
            for a in agency_ids
            for start, _e, _loc in slots
            if valid_consent(conference.case_id, a, local_day(start)) is None
        }
    )
    if lapsing:
        raise ConferenceError(
            "agencies",
            _l(
                "Nicht an allen vorgeschlagenen Tagen gilt eine Einwilligung für: %(agencies)s. Wählen Sie "
                "andere Tage oder fragen Sie diese Einrichtungen nicht.",
                agencies=", ".join(lapsing),
            ),
        )
    poll = DatePoll(conference_id=conference.id, organiser_id=actor.id, answer_until=answer_until)
    session.add(poll)
    session.flush()
    for position, (start, end, location_id) in enumerate(sorted(slots), start=1):
        session.add(PollSlot(poll_id=poll.id, position=position, starts_at=start, ends_at=end, location_id=location_id))
    for agency_id in agency_ids:
        session.add(PollParticipant(poll_id=poll.id, agency_id=agency_id))
    session.flush()
    audit.record(
        "poll.created",
        poll,
        actor=actor,
        session=session,
        conference_id=conference.id,
        slots=len(slots),
        agency_ids=sorted(agency_ids),
    )
    for participant in participants(session, poll):
        _mail(session, poll, conference, participant, "poll_request")
    return poll


def participants(session, poll, *, active_only: bool = True) -> list[PollParticipant]:
    stmt = select(PollParticipant).where(PollParticipant.poll_id == poll.id)
    if active_only:
        stmt = stmt.where(PollParticipant.status == ParticipantStatus.ACTIVE)
    return list(session.execute(stmt.order_by(PollParticipant.id)).scalars())


def _mail(session, poll, conference, participant, template: str) -> None:
    agency = session.get(Agency, participant.agency_id)
    case = session.get(Case, conference.case_id)
    slots = [
        {
            "when": de_datetime(slot.starts_at),
            "until": to_local(slot.ends_at).strftime("%H:%M"),
            "where": location_text(loc),
        }
        for slot, loc in slots_of(session, poll)
        if slot.status == SlotStatus.PROPOSED
    ]
    mail.queue(
        [agency.contact_email],
        template,
        session=session,
        ref=participant,
        pseudonym=case.pseudonym,
        slots=slots,
        answer_until=poll.answer_until,
        link=poll_link(conference.id),
        organisation=current_app.config["ORGANISATION_NAME"],
    )
    audit.record(f"{template}.mailed", participant, session=session, poll_id=poll.id, agency_id=agency.id)


def answers_of(session, participant) -> dict[int, str]:
    return dict(
        session.execute(
            select(PollAnswer.slot_id, PollAnswer.answer).where(PollAnswer.participant_id == participant.id)
        ).all()
    )


def answer(session, poll, participant, actor, *, version, answers: dict[int, str], comment: str, overridden_kinds=()):
    """The agency's answer to every proposed slot, and one comment (which passed the guard)."""
    check_version(participant, version)
    proposed = [slot.id for slot, _loc in slots_of(session, poll) if slot.status == SlotStatus.PROPOSED]
    if set(answers) != set(proposed) or any(v not in set(PollAnswerValue) for v in answers.values()):
        raise ConferenceError("slots", _l("Bitte beantworten Sie jeden vorgeschlagenen Termin."))
    existing = {
        row.slot_id: row
        for row in session.execute(select(PollAnswer).where(PollAnswer.participant_id == participant.id)).scalars()
    }
    for slot_id, value in answers.items():
        row = existing.get(slot_id)
        if row is None:
            session.add(PollAnswer(participant_id=participant.id, slot_id=slot_id, answer=value))
        else:
            row.answer = value
    participant.comment = (comment or "").strip()
    participant.answered_at, participant.answered_by_id = utcnow(), actor.id
    session.flush()
    audit.record(
        "poll.answered",
        participant,
        actor=actor,
        session=session,
        poll_id=poll.id,
        answers={str(k): v for k, v in sorted(answers.items())},
    )
    audit.record_overrides(participant, actor, overridden_kinds, session=session)


def _remove(session, participant, actor, reason: str) -> None:
    for row in session.execute(select(PollAnswer).where(PollAnswer.participant_id == participant.id)).scalars():
        session.delete(row)
    participant.status, participant.removed_at, participant.comment = ParticipantStatus.REMOVED, utcnow(), ""
    participant.version += 1
    session.flush()
    audit.record(
        "poll.participant_removed",
        participant,
        actor=actor,
        session=session,
        poll_id=participant.poll_id,
        agency_id=participant.agency_id,
        reason=reason,
    )


def remove_agency(session, case_id: int, agency_id: int, actor, *, reason: str) -> int:
    """The agency's consent for the case ended (withdrawn, narrowed or expired): it leaves every open
    poll of the case's conferences, and its answers with it. Returns how many polls it left."""
    rows = list(
        session.execute(
            select(PollParticipant)
            .join(DatePoll, DatePoll.id == PollParticipant.poll_id)
            .join(Conference, Conference.id == DatePoll.conference_id)
            .where(
                Conference.case_id == case_id,
                DatePoll.status == PollStatus.OPEN,
                PollParticipant.agency_id == agency_id,
                PollParticipant.status == ParticipantStatus.ACTIVE,
            )
        ).scalars()
    )
    for participant in rows:
        _remove(session, participant, actor, reason)
    return len(rows)


def remove_without_consent(session, today: date | None = None) -> int:
    """Participants of open polls whose consent is no longer valid (expired): removed (cron)."""
    today = today or berlin_today()
    rows = session.execute(
        select(PollParticipant, Conference)
        .join(DatePoll, DatePoll.id == PollParticipant.poll_id)
        .join(Conference, Conference.id == DatePoll.conference_id)
        .where(DatePoll.status == PollStatus.OPEN, PollParticipant.status == ParticipantStatus.ACTIVE)
    ).all()
    removed = 0
    for participant, conference in rows:
        if valid_consent(conference.case_id, participant.agency_id, today) is None:
            _remove(session, participant, None, "consent_expired")
            removed += 1
    return removed


@dataclass
class SlotRow:
    slot: PollSlot
    location: Location
    answers: dict  # agency id -> answer
    yes: int = 0
    maybe: int = 0
    no: int = 0
    missing: int = 0
    location_clashes: list = field(default_factory=list)  # (start, end, what)
    organiser_clashes: list = field(default_factory=list)

    @property
    def score(self) -> tuple:
        # Best first: fewest "no", then most "yes", then most "if need be", then no clash, then earliest.
        return (self.no, -self.yes, -self.maybe, bool(self.location_clashes or self.organiser_clashes))


@dataclass
class PollTable:
    poll: DatePoll
    agencies: list  # Agency, in column order (active participants whose consent holds now)
    rows: list  # SlotRow, best first
    comments: dict  # agency id -> comment
    answered: set  # agency ids that answered


def table(session, poll, conference, today: date | None = None) -> PollTable:
    """The organiser's view: one row per slot, best first; an agency whose consent no longer holds
    is not shown (its answers do not count), even before the job removes it."""
    today = today or berlin_today()
    active = [
        p for p in participants(session, poll) if valid_consent(conference.case_id, p.agency_id, today) is not None
    ]
    agencies = {
        a.id: a
        for a in session.execute(select(Agency).where(Agency.id.in_([p.agency_id for p in active] or [-1]))).scalars()
    }
    by_participant = {p.id: p.agency_id for p in active}
    given: dict[int, dict[int, str]] = {}
    for row in session.execute(
        select(PollAnswer).where(PollAnswer.participant_id.in_(list(by_participant) or [-1]))
    ).scalars():
        given.setdefault(row.slot_id, {})[by_participant[row.participant_id]] = row.answer
    rows = []
    for slot, location in slots_of(session, poll):
        answers = given.get(slot.id, {})
        counted = [answers.get(p.agency_id) for p in active]
        row = SlotRow(
            slot,
            location,
            answers,
            yes=counted.count(PollAnswerValue.YES),
            maybe=counted.count(PollAnswerValue.MAYBE),
            no=counted.count(PollAnswerValue.NO),
            missing=counted.count(None),
        )
        row.location_clashes = location_bookings(session, slot, conference)
        row.organiser_clashes = organiser_bookings(session, slot, conference, poll.organiser_id)
        rows.append(row)
    rows.sort(key=lambda r: (r.score, r.slot.starts_at))
    ordered = sorted(agencies.values(), key=lambda a: a.name)
    comments = {p.agency_id: p.comment for p in active if p.comment}
    answered = {p.agency_id for p in active if p.answered_at is not None}
    return PollTable(poll, ordered, rows, comments, answered)


def location_bookings(session, slot, conference) -> list[tuple[datetime, datetime, str]]:
    """What else is at the slot's place then: other conferences, and consultation hours."""
    from app.consultations.models import ConsultationHour, ConsultationStatus
    from app.consultations.services import exceptions_of, occurrences

    found = [
        (start, end, str(_l("Fallkonferenz")))
        for start, end in clashes(session, slot.location_id, slot.starts_at, slot.ends_at, exclude_id=conference.id)
    ]
    day = local_day(slot.starts_at)
    hours = list(
        session.execute(
            select(ConsultationHour).where(
                ConsultationHour.location_id == slot.location_id,
                ConsultationHour.status == ConsultationStatus.PUBLISHED,
                ConsultationHour.starts_on <= day,
                ConsultationHour.ends_on >= day,
            )
        ).scalars()
    )
    exceptions = exceptions_of(session, [h.id for h in hours])
    for hour in hours:
        for o in occurrences(hour, day, day, exceptions[hour.id], include_skipped=False):
            if o.starts_at < slot.ends_at and o.ends_at > slot.starts_at:
                found.append((o.starts_at, o.ends_at, str(_l("Sprechstunde"))))
    return found


def organiser_bookings(session, slot, conference, organiser_id) -> list[tuple[datetime, datetime]]:
    """The organiser's other planned or held conferences overlapping the slot (times only)."""
    return list(
        session.execute(
            select(Conference.starts_at, Conference.ends_at).where(
                Conference.organiser_id == organiser_id,
                Conference.id != conference.id,
                Conference.status.in_((ConferenceStatus.PLANNED, ConferenceStatus.HELD)),
                Conference.starts_at < slot.ends_at,
                Conference.ends_at > slot.starts_at,
            )
        ).all()
    )


def decide(session, poll, conference, slot, actor, *, version) -> list:
    """Schedule the conference at ``slot``: date and place change (agencies already invited get the
    update), the asked agencies with a consent valid that day are invited with calendar files, the
    other slots are released. Returns the new invitations."""
    check_version(poll, version)
    if slot.poll_id != poll.id or slot.status != SlotStatus.PROPOSED:
        raise ConferenceError("slot", _l("Bitte wählen Sie einen der vorgeschlagenen Termine."))
    if slot.starts_at <= utcnow():
        raise ConferenceError("slot", _l("Dieser Termin liegt schon in der Vergangenheit."))
    update_conference(
        session,
        conference,
        actor,
        version=conference.version,
        occasion=conference.occasion,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        location_id=slot.location_id,
        agenda=[(item.title, list(item.categories)) for item in agenda_items(session, conference)],
        person_attends=conference.person_attends,
    )
    day = local_day(slot.starts_at)
    live = {inv.agency_id for inv, _name in live_invitations(session, conference)}
    to_invite = [
        p.agency_id
        for p in participants(session, poll)
        if p.agency_id not in live and valid_consent(conference.case_id, p.agency_id, day) is not None
    ]
    eligible = {agency.id for agency, _c in invitation_options(session, conference).eligible}
    to_invite = [a for a in to_invite if a in eligible]
    created = invite(session, conference, actor, agency_ids=to_invite, user_ids=[]) if to_invite else []
    for other, _loc in slots_of(session, poll):
        other.status = SlotStatus.CHOSEN if other.id == slot.id else SlotStatus.RELEASED
    poll.status, poll.decided_at = PollStatus.DECIDED, utcnow()
    session.flush()
    audit.record(
        "poll.decided",
        poll,
        actor=actor,
        session=session,
        conference_id=conference.id,
        slot_id=slot.id,
        invited=sorted(to_invite),
    )
    return created


def cancel_open_poll(session, conference, actor) -> None:
    """The conference was cancelled: its open poll ends and every proposed slot is released."""
    poll = current_poll(session, conference)
    if poll is None or poll.status != PollStatus.OPEN:
        return
    for slot, _loc in slots_of(session, poll):
        slot.status = SlotStatus.RELEASED
    poll.status = PollStatus.CANCELLED
    poll.version += 1
    session.flush()
    audit.record("poll.cancelled", poll, actor=actor, session=session, conference_id=conference.id)


def remind(session, now: datetime | None = None) -> int:
    """Once, two days after asking: agencies that have not answered an open poll (consent valid)."""
    now = now or utcnow()
    today = berlin_today()
    rows = session.execute(
        select(PollParticipant, DatePoll, Conference)
        .join(DatePoll, DatePoll.id == PollParticipant.poll_id)
        .join(Conference, Conference.id == DatePoll.conference_id)
        .where(
            DatePoll.status == PollStatus.OPEN,
            Conference.status == ConferenceStatus.PLANNED,
            PollParticipant.status == ParticipantStatus.ACTIVE,
            PollParticipant.answered_at.is_(None),
            PollParticipant.reminded_at.is_(None),
            PollParticipant.asked_at <= now - REMIND_AFTER,
        )
        .with_for_update(of=PollParticipant, skip_locked=True)
    ).all()
    sent = 0
    for participant, poll, conference in rows:
        if valid_consent(conference.case_id, participant.agency_id, today) is None:
            continue
        _mail(session, poll, conference, participant, "poll_reminder")
        participant.reminded_at = now
        sent += 1
    return sent


def partner_open_polls(session, user, today: date | None = None) -> list[tuple[DatePoll, Conference, str, bool]]:
    """Open polls the partner's agency is asked in (consent valid now): (poll, conference, pseudonym, answered)."""
    today = today or berlin_today()
    rows = session.execute(
        select(DatePoll, Conference, Case.pseudonym, PollParticipant.answered_at)
        .join(PollParticipant, PollParticipant.poll_id == DatePoll.id)
        .join(Conference, Conference.id == DatePoll.conference_id)
        .join(Case, Case.id == Conference.case_id)
        .where(
            DatePoll.status == PollStatus.OPEN,
            Conference.status == ConferenceStatus.PLANNED,
            PollParticipant.agency_id == user.agency_id,
            PollParticipant.status == ParticipantStatus.ACTIVE,
        )
        .order_by(DatePoll.id)
    ).all()
    return [
        (poll, conference, pseudonym, answered is not None)
        for poll, conference, pseudonym, answered in rows
        if valid_consent(conference.case_id, user.agency_id, today) is not None
    ]
