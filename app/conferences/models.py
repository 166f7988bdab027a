"""Conferences and what hangs off them: invitations, agenda, notes, measures, minutes."""
from datetime import date, datetime
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, LargeBinary, UniqueConstraint, literal, text
from sqlmodel import JSON, Column, Field, SQLModel, Text

from app.db import utcnow

CONFERENCE_STATUS = {
    "planned": _l("geplant"),
    "held": _l("durchgeführt"),
    "closed": _l("abgeschlossen"),
    "cancelled": _l("abgesagt"),
}
INVITATION_STATUS = {
    "pending": _l("offen"),
    "accepted": _l("zugesagt"),
    "declined": _l("abgesagt"),
    "cancelled": _l("zurückgezogen"),
}
ATTENDANCE = {
    "present": _l("anwesend"),
    "excused": _l("entschuldigt"),
    "absent": _l("abwesend"),
}
NOTE_VISIBILITY = {
    "shared": _l("für alle Teilnehmenden"),
    "jobcenter": _l("nur für das Jobcenter"),
}
MEASURE_STATUS = {
    "agreed": _l("vereinbart"),
    "in_progress": _l("in Arbeit"),
    "done": _l("erledigt"),
    "not_done": _l("nicht erledigt"),
}
OPEN_MEASURE_STATUSES = ("agreed", "in_progress")
# The WHERE of the partial indexes of open measures. SQLite uses such an index only for a
# query that names the same values in its SQL text, not as bound parameters: see measure_open().
_OPEN_MEASURE_SQL = text("status IN (%s)" % ", ".join(f"'{s}'" for s in OPEN_MEASURE_STATUSES))
RESPONSIBLE_KINDS = {
    "agency": _l("Partnereinrichtung"),
    "jobcenter": _l("Jobcenter"),
    "person": _l("die Person selbst"),
}


class Conference(SQLModel, table=True):
    __tablename__ = "conference"
    __table_args__ = (
        Index("ix_conference_case_starts", "case_id", "starts_at"),
        # Lists in start order (id breaks ties); with the case, the team overview counts a
        # team's conferences in a period from the index alone.
        Index("ix_conference_status_starts", "status", "starts_at", "id", "case_id"),
        Index("ix_conference_location_starts", "location_id", "starts_at"),
        # Conferences per organiser in a period (team overview).
        Index("ix_conference_organiser_status_starts", "organiser_id", "status", "starts_at", "case_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    occasion: str = Field(max_length=200)
    starts_at: datetime
    ends_at: datetime
    location_id: int = Field(foreign_key="location.id")
    organiser_id: int = Field(foreign_key="user_account.id", index=True)
    status: str = Field(default="planned", max_length=12)
    cancel_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    person_attends: bool = Field(default=False)  # planned
    person_attended: Optional[bool] = None  # recorded in the conference
    previous_conference_id: Optional[int] = Field(default=None, foreign_key="conference.id", index=True)
    # iCalendar: one UID per conference, SEQUENCE raised with every change sent out.
    ical_uid: str = Field(max_length=100, unique=True)
    ical_sequence: int = Field(default=0)
    reminder_sent_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class Invitation(SQLModel, table=True):
    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("conference_id", "agency_id", name="uq_invitation_conference_agency"),
        Index("ix_invitation_agency_status", "agency_id", "status"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    user_id: Optional[int] = Field(default=None, foreign_key="user_account.id", index=True)  # named partner
    status: str = Field(default="pending", max_length=12)
    answer_comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    answered_at: Optional[datetime] = None
    answered_by_id: Optional[int] = Field(default=None, foreign_key="user_account.id")
    # Attendance per invited party, recorded in the conference (DESIGN: Attendance).
    attendance: Optional[str] = Field(default=None, max_length=10)
    sent_count: int = Field(default=0)
    last_sent_at: Optional[datetime] = None
    cancelled_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_item"
    id: Optional[int] = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    position: int
    title: str = Field(max_length=300)
    discussion: str = Field(default="", sa_column=Column(Text, nullable=False))
    version: int = Field(default=1)


class Note(SQLModel, table=True):
    """A Stellungnahme or note by staff (agency_id None) or a partner agency."""

    __tablename__ = "note"
    id: Optional[int] = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    author_id: int = Field(foreign_key="user_account.id", index=True)
    agency_id: Optional[int] = Field(default=None, foreign_key="agency.id", index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    visibility: str = Field(default="shared", max_length=10)
    withdrawn_at: Optional[datetime] = None
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
        Index("ix_measure_open_due", "due_on", "id",
              sqlite_where=_OPEN_MEASURE_SQL, postgresql_where=_OPEN_MEASURE_SQL),
        Index("ix_measure_open_agency_due", "responsible_agency_id", "due_on", "id",
              sqlite_where=_OPEN_MEASURE_SQL, postgresql_where=_OPEN_MEASURE_SQL),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    case_id: int = Field(foreign_key="case_file.id")
    what: str = Field(sa_column=Column(Text, nullable=False))
    responsible_kind: str = Field(max_length=10)  # agency, jobcenter, person
    responsible_agency_id: Optional[int] = Field(default=None, foreign_key="agency.id")
    due_on: date
    status: str = Field(default="agreed", max_length=12)
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False))
    reviewed_in_conference_id: Optional[int] = Field(default=None, foreign_key="conference.id", index=True)
    reminded_on: Optional[date] = None  # the day the last reminder went out: one per day at most
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class Minutes(SQLModel, table=True):
    """Protokoll: a draft, then final versions; a correction is a new version."""

    __tablename__ = "minutes"
    __table_args__ = (UniqueConstraint("conference_id", "version_number", name="uq_minutes_conference_version"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    version_number: int = Field(default=1)
    status: str = Field(default="draft", max_length=10)  # draft, final, replaced
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    decisions: str = Field(default="", sa_column=Column(Text, nullable=False))
    next_date_note: str = Field(default="", max_length=300)
    replaces_id: Optional[int] = Field(default=None, foreign_key="minutes.id")
    correction_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    comments_until: Optional[date] = None
    finalised_by_id: Optional[int] = Field(default=None, foreign_key="user_account.id")
    finalised_at: Optional[datetime] = Field(default=None, index=True)
    pdf_sha256: Optional[str] = Field(default=None, max_length=64)
    pdf_size: Optional[int] = None
    # What the minutes show (participants, agenda, notes, measures, next date), frozen at
    # finalisation: every rendering of this version, for any reader, is made from it.
    content: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class MinutesComment(SQLModel, table=True):
    __tablename__ = "minutes_comment"
    id: Optional[int] = Field(default=None, primary_key=True)
    minutes_id: int = Field(foreign_key="minutes.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    author_id: int = Field(foreign_key="user_account.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class MinutesPdf(SQLModel, table=True):
    """Rendered PDFs, apart from the minutes so lists never load them.

    ``variant`` "archive" is the locked archival document rendered at finalisation;
    partner renderings are cached per consent scope ("scope:debt,general,...").
    """

    __tablename__ = "minutes_pdf"
    __table_args__ = (UniqueConstraint("minutes_id", "variant", name="uq_minutes_pdf_variant"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    minutes_id: int = Field(foreign_key="minutes.id", index=True)
    variant: str = Field(max_length=200)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


def measure_open():
    """``Measure.status`` is one of OPEN_MEASURE_STATUSES, with the values written into the SQL
    so that SQLite can match the partial indexes of open measures."""
    return Measure.status.in_([literal(s, literal_execute=True) for s in OPEN_MEASURE_STATUSES])
