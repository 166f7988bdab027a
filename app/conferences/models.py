"""Conferences and what hangs off them: invitations, agenda, notes, attendance, measures."""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, UniqueConstraint, literal, text
from sqlmodel import JSON, Column, Field, SQLModel, Text

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
