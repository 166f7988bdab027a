"""Conferences and what hangs off them: invitations, agenda, notes, attendance, measures."""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, UniqueConstraint, literal, text
from sqlmodel import JSON, Column, Field, SQLModel, Text

from app.cases.models import DATA_CATEGORIES
from app.clock import utcnow
from app.db import one_of


class ConferenceStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CLOSED = "closed"  # final minutes: nothing they show changes any more
    CANCELLED = "cancelled"


CONFERENCE_STATUS = {
    ConferenceStatus.PLANNED: _l("geplant"),
    ConferenceStatus.HELD: _l("durchgeführt"),
    ConferenceStatus.CLOSED: _l("abgeschlossen"),
    ConferenceStatus.CANCELLED: _l("abgesagt"),
}


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # withdrawn by staff, or the consent ended


INVITATION_STATUS = {
    InvitationStatus.PENDING: _l("offen"),
    InvitationStatus.ACCEPTED: _l("zugesagt"),
    InvitationStatus.DECLINED: _l("abgesagt"),
    InvitationStatus.CANCELLED: _l("zurückgezogen"),
}


class Attendance(StrEnum):
    PRESENT = "present"
    EXCUSED = "excused"
    ABSENT = "absent"


ATTENDANCE = {
    Attendance.PRESENT: _l("anwesend"),
    Attendance.EXCUSED: _l("entschuldigt"),
    Attendance.ABSENT: _l("abwesend"),
}


class NoteVisibility(StrEnum):
    SHARED = "shared"
    JOBCENTER = "jobcenter"


NOTE_VISIBILITY = {
    NoteVisibility.SHARED: _l("für alle Teilnehmenden"),
    NoteVisibility.JOBCENTER: _l("nur für das Jobcenter"),
}


class MeasureStatus(StrEnum):
    AGREED = "agreed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_DONE = "not_done"


MEASURE_STATUS = {
    MeasureStatus.AGREED: _l("vereinbart"),
    MeasureStatus.IN_PROGRESS: _l("in Arbeit"),
    MeasureStatus.DONE: _l("erledigt"),
    MeasureStatus.NOT_DONE: _l("nicht erledigt"),
}
OPEN_MEASURE_STATUSES = (MeasureStatus.AGREED, MeasureStatus.IN_PROGRESS)
# The WHERE of the partial indexes of open measures. SQLite uses such an index only for a
# query that names the same values in its SQL text, not as bound parameters: see measure_open().
_OPEN_MEASURE_SQL = text("status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_MEASURE_STATUSES)))


class ResponsibleKind(StrEnum):
    AGENCY = "agency"
    JOBCENTER = "jobcenter"
    PERSON = "person"


RESPONSIBLE_KINDS = {
    ResponsibleKind.AGENCY: _l("Partnereinrichtung"),
    ResponsibleKind.JOBCENTER: _l("Jobcenter"),
    ResponsibleKind.PERSON: _l("die Person selbst"),
}


class PersonKind(StrEnum):
    """Who besides the agencies themselves took part: never the person concerned by name."""

    AGENCY_STAFF = "agency_staff"  # someone of an invited agency: a name of its staff, or a role
    INTERPRETER = "interpreter"
    SUPPORT = "support"  # the person's own support: a companion, a legal guardian, a counsellor


PERSON_KINDS = {
    PersonKind.AGENCY_STAFF: _l("Fachkraft einer Einrichtung"),
    PersonKind.INTERPRETER: _l("Dolmetscher:in"),
    PersonKind.SUPPORT: _l("Begleitung der Person (Vertrauensperson)"),
}
# What the presence of a person without an agency reveals (DESIGN.md section 4): an interpreter the
# person's language; the person's own support may say anything (a legal guardian, an addiction
# counsellor), so only a reader whose consent covers every category is told of it. Agency staff
# reveal what their agency's taking part reveals, and are masked with it.
PERSON_REVEALS = {
    PersonKind.INTERPRETER: ["residence"],
    PersonKind.SUPPORT: list(DATA_CATEGORIES),
}


class Conference(SQLModel, table=True):
    __tablename__ = "conference"
    __table_args__ = (
        Index("ix_conference_case_starts", "case_id", "starts_at"),
        # Has this case a planned conference ahead? One probe per case on the start page (0014).
        Index("ix_conference_case_status_starts", "case_id", "status", "starts_at"),
        # Lists in start order (id breaks ties); with the case, the team overview counts a
        # team's conferences in a period from the index alone; with the end, the start pages
        # check "not over yet" in the index as they walk it (migration 0014).
        Index("ix_conference_status_starts", "status", "starts_at", "id", "case_id", "ends_at"),
        Index("ix_conference_location_starts", "location_id", "starts_at"),
        # The team's conference list and week view in start order, of every status: walked
        # from a point in time, each row's team read through its case, stopped after a page.
        Index("ix_conference_starts_case", "starts_at", "id", "case_id"),
        # Conferences per organiser in a period (team overview).
        Index("ix_conference_organiser_status_starts", "organiser_id", "status", "starts_at", "case_id"),
        one_of("status", ConferenceStatus, "ck_conference_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    occasion: str = Field(max_length=200)
    starts_at: datetime
    ends_at: datetime
    location_id: int = Field(foreign_key="location.id")
    organiser_id: int = Field(foreign_key="user_account.id", index=True)
    status: str = Field(default=ConferenceStatus.PLANNED, max_length=12)
    cancel_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    person_attends: bool = Field(default=False)  # planned
    person_attended: bool | None = None  # recorded in the conference
    previous_conference_id: int | None = Field(default=None, foreign_key="conference.id", index=True)
    # iCalendar: one UID per conference, SEQUENCE raised with every change sent out.
    ical_uid: str = Field(max_length=100, unique=True)
    ical_sequence: int = Field(default=0)
    reminder_sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class Invitation(SQLModel, table=True):
    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("conference_id", "agency_id", name="uq_invitation_conference_agency"),
        Index("ix_invitation_agency_status", "agency_id", "status"),
        one_of("status", InvitationStatus, "ck_invitation_status"),
        one_of("attendance", Attendance, "ck_invitation_attendance"),
    )
    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)  # named partner
    status: str = Field(default=InvitationStatus.PENDING, max_length=12)
    answer_comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    answered_at: datetime | None = None
    answered_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    # Attendance per invited party, recorded in the conference (DESIGN: Attendance).
    attendance: str | None = Field(default=None, max_length=10)
    sent_count: int = Field(default=0)
    last_sent_at: datetime | None = None
    cancelled_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_item"
    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    position: int
    title: str = Field(max_length=300)
    discussion: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Data categories of the title and the discussion; none: for the Jobcenter only.
    categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1)


class Note(SQLModel, table=True):
    """A Stellungnahme or note by staff (agency_id None) or a partner agency."""

    __tablename__ = "note"
    __table_args__ = (one_of("visibility", NoteVisibility, "ck_note_visibility"),)
    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    author_id: int = Field(foreign_key="user_account.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    visibility: str = Field(default=NoteVisibility.SHARED, max_length=10)
    withdrawn_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class Measure(SQLModel, table=True):
    """An agreed measure: who does what by when, followed up until done."""

    __tablename__ = "measure"
    __table_args__ = (
        Index("ix_measure_case_status", "case_id", "status"),
        # With the case: overdue measures of a team's open cases are counted from the index alone.
        Index("ix_measure_status_due", "status", "due_on", "case_id"),
        Index("ix_measure_agency_status_due", "responsible_agency_id", "status", "due_on"),
        # Open measures by due date, of everyone (staff start page, overdue counts) and per agency
        # (partner start page): the lists stop after a page instead of sorting every open measure.
        Index(
            "ix_measure_open_due", "due_on", "id", sqlite_where=_OPEN_MEASURE_SQL, postgresql_where=_OPEN_MEASURE_SQL
        ),
        Index(
            "ix_measure_open_agency_due",
            "responsible_agency_id",
            "due_on",
            "id",
            sqlite_where=_OPEN_MEASURE_SQL,
            postgresql_where=_OPEN_MEASURE_SQL,
        ),
        one_of("status", MeasureStatus, "ck_measure_status"),
        one_of("responsible_kind", ResponsibleKind, "ck_measure_responsible_kind"),
    )
    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    case_id: int = Field(foreign_key="case_file.id")
    what: str = Field(sa_column=Column(Text, nullable=False))
    # Data categories of what and outcome; none: for the Jobcenter only (and then no agency holds it).
    categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    responsible_kind: str = Field(max_length=10)
    responsible_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    due_on: date
    status: str = Field(default=MeasureStatus.AGREED, max_length=12)
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False))
    reviewed_in_conference_id: int | None = Field(default=None, foreign_key="conference.id", index=True)
    reminded_on: date | None = None  # the day the last reminder went out: one per day at most
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


def measure_open():
    """``Measure.status`` is one of OPEN_MEASURE_STATUSES, with the values written into the SQL
    so that SQLite can match the partial indexes of open measures."""
    return Measure.status.in_([literal(s.value, literal_execute=True) for s in OPEN_MEASURE_STATUSES])


class AttendingPerson(SQLModel, table=True):
    """A person present at the conference, recorded with the attendance: who of an agency (a name of
    its staff or a role), an interpreter, or the person's own support, each described without
    naming the person concerned (the anonymisation guard reads the description)."""

    __tablename__ = "attending_person"
    __table_args__ = (one_of("kind", PersonKind, "ck_attending_person_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    position: int
    kind: str = Field(max_length=14)
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    description: str = Field(default="", max_length=200)


# --- finding a date (Terminabstimmung, DESIGN.md section 3: DatePoll) ---------------------------


class PollStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    CANCELLED = "cancelled"


POLL_STATUS = {
    PollStatus.OPEN: _l("läuft"),
    PollStatus.DECIDED: _l("entschieden"),
    PollStatus.CANCELLED: _l("abgebrochen"),
}


class SlotStatus(StrEnum):
    PROPOSED = "proposed"
    CHOSEN = "chosen"
    RELEASED = "released"  # another slot was chosen, or the poll ended: the time is free again


class PollAnswerValue(StrEnum):
    YES = "yes"
    MAYBE = "maybe"  # "wenn nötig"
    NO = "no"


POLL_ANSWERS = {
    PollAnswerValue.YES: _l("ja"),
    PollAnswerValue.MAYBE: _l("wenn nötig"),
    PollAnswerValue.NO: _l("nein"),
}


class ParticipantStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"  # the consent ended: no access, its answers are gone from the poll


class DatePoll(SQLModel, table=True):
    """Proposed slots for a planned conference and the invited agencies' answers."""

    __tablename__ = "date_poll"
    __table_args__ = (one_of("status", PollStatus, "ck_date_poll_status"),)
    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    organiser_id: int = Field(foreign_key="user_account.id", index=True)
    status: str = Field(default=PollStatus.OPEN, max_length=10)
    answer_until: date | None = None  # asked of the agencies; the organiser may decide earlier
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    version: int = Field(default=1)


class PollSlot(SQLModel, table=True):
    __tablename__ = "poll_slot"
    __table_args__ = (
        Index("ix_poll_slot_location_starts", "location_id", "starts_at"),
        one_of("status", SlotStatus, "ck_poll_slot_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="date_poll.id", index=True)
    position: int
    starts_at: datetime
    ends_at: datetime
    location_id: int = Field(foreign_key="location.id")
    status: str = Field(default=SlotStatus.PROPOSED, max_length=10)


class PollParticipant(SQLModel, table=True):
    """An agency asked for its answers; one comment (guarded) with them."""

    __tablename__ = "poll_participant"
    __table_args__ = (
        UniqueConstraint("poll_id", "agency_id", name="uq_poll_participant_poll_agency"),
        Index("ix_poll_participant_agency_status", "agency_id", "status"),
        one_of("status", ParticipantStatus, "ck_poll_participant_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="date_poll.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    status: str = Field(default=ParticipantStatus.ACTIVE, max_length=10)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    asked_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime | None = None
    answered_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    reminded_at: datetime | None = None
    removed_at: datetime | None = None
    version: int = Field(default=1)


class PollAnswer(SQLModel, table=True):
    __tablename__ = "poll_answer"
    __table_args__ = (
        UniqueConstraint("participant_id", "slot_id", name="uq_poll_answer_participant_slot"),
        one_of("answer", PollAnswerValue, "ck_poll_answer_answer"),
    )
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="poll_participant.id", index=True)
    slot_id: int = Field(foreign_key="poll_slot.id", index=True)
    answer: str = Field(max_length=5)
