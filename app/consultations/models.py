"""Consultation hours in the neighbourhood (Sprechstunden im Stadtteil, DESIGN.md section 3).

The Jobcenter's recurring public office hours at a Stadtteilbüro or a partner's premises. The
recurrence is an iCalendar RRULE (RFC 5545) kept as text and expanded by python-dateutil;
single dates are cancelled or moved through ``ConsultationException``; Hessian public holidays
are skipped when the dates are expanded (``services.occurrences``). After a date, staff record
anonymous figures only (``ConsultationVisit``). Nothing here names a person: the contact is an
office, the figures are numbers.
"""

from datetime import date, datetime, time
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import JSON, Column, Field, SQLModel, Text

from app.clock import utcnow
from app.db import one_of


class ConsultationStatus(StrEnum):
    DRAFT = "draft"  # being prepared: not on the public pages
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"  # taken off the public pages (kept: its figures stay)


CONSULTATION_STATUS = {
    ConsultationStatus.DRAFT: _l("Entwurf (nicht öffentlich)"),
    ConsultationStatus.PUBLISHED: _l("veröffentlicht"),
    ConsultationStatus.WITHDRAWN: _l("zurückgezogen (nicht öffentlich)"),
}


class Recurrence(StrEnum):
    """How a series repeats; each becomes an RRULE (``services.build_rrule``)."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"  # the n-th (or last) weekday of every month, e.g. "first Tuesday"


RECURRENCE = {
    Recurrence.WEEKLY: _l("jede Woche"),
    Recurrence.BIWEEKLY: _l("jede zweite Woche"),
    Recurrence.MONTHLY: _l("einmal im Monat"),
}

WEEKDAYS = {
    0: _l("Montag"),
    1: _l("Dienstag"),
    2: _l("Mittwoch"),
    3: _l("Donnerstag"),
    4: _l("Freitag"),
    5: _l("Samstag"),
}

# Which week of the month a monthly series takes (RRULE BYDAY=1TU ... -1TU).
WEEK_OF_MONTH = {
    1: _l("am ersten"),
    2: _l("am zweiten"),
    3: _l("am dritten"),
    4: _l("am vierten"),
    -1: _l("am letzten"),
}

# Languages a consultation hour can be held in (ISO 639-1), in the order the form offers them.
LANGUAGES = {
    "de": _l("Deutsch"),
    "en": _l("Englisch"),
    "tr": _l("Türkisch"),
    "ar": _l("Arabisch"),
    "ru": _l("Russisch"),
    "uk": _l("Ukrainisch"),
    "pl": _l("Polnisch"),
    "ro": _l("Rumänisch"),
    "bg": _l("Bulgarisch"),
    "el": _l("Griechisch"),
    "it": _l("Italienisch"),
    "fa": _l("Persisch (Farsi/Dari)"),
    "ti": _l("Tigrinya"),
    "so": _l("Somali"),
    "fr": _l("Französisch"),
    "es": _l("Spanisch"),
}


class ExceptionKind(StrEnum):
    CANCELLED = "cancelled"
    MOVED = "moved"


EXCEPTION_KIND = {
    ExceptionKind.CANCELLED: _l("fällt aus"),
    ExceptionKind.MOVED: _l("verlegt"),
}


class ConsultationTopic(SQLModel, table=True):
    """A topic of consultation hours (BuT – Bildung und Teilhabe, Bürgergeld/Antrag, ...): a list
    the admins keep, in German, English and Leichte Sprache."""

    __tablename__ = "consultation_topic"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    name_en: str = Field(default="", max_length=120)
    name_easy: str = Field(default="", max_length=200)  # Leichte Sprache
    active: bool = Field(default=True)
    updated_at: datetime = Field(default_factory=utcnow)


class ConsultationHour(SQLModel, table=True):
    __tablename__ = "consultation_hour"
    __table_args__ = (
        Index("ix_consultation_hour_status_location", "status", "location_id"),
        one_of("status", ConsultationStatus, "ck_consultation_hour_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # The team that holds it: its staff who may publish keep it up to date.
    team_id: int = Field(foreign_key="team.id", index=True)
    location_id: int = Field(foreign_key="location.id")
    title: str = Field(max_length=160)
    # RFC 5545 RRULE without DTSTART and UNTIL (e.g. "FREQ=MONTHLY;BYDAY=1TU"): the series runs
    # from ``starts_on`` to ``ends_on``, at ``start_time``–``end_time`` Europe/Berlin wall-clock time.
    rrule: str = Field(max_length=200)
    starts_on: date
    ends_on: date
    start_time: time
    end_time: time
    topic_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    languages: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    step_free: bool = Field(default=False)
    hearing_loop: bool = Field(default=False)
    accessibility_note: str = Field(default="", max_length=300)
    appointment_needed: bool = Field(default=False)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))  # public, e.g. what to bring
    # An office, never a person: the office's name, switchboard and functional mailbox.
    contact_office: str = Field(max_length=160)
    contact_phone: str = Field(default="", max_length=40)
    contact_email: str = Field(default="", max_length=254)
    status: str = Field(default=ConsultationStatus.DRAFT, max_length=12)
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    # Raised by every change of the hour or of its exceptions: the public pages' Last-Modified.
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class ConsultationException(SQLModel, table=True):
    """One date of a series cancelled, or moved to another day or time, with a public note."""

    __tablename__ = "consultation_exception"
    __table_args__ = (
        UniqueConstraint("hour_id", "day", name="uq_consultation_exception_hour_day"),
        one_of("kind", ExceptionKind, "ck_consultation_exception_kind"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hour_id: int = Field(foreign_key="consultation_hour.id", index=True)
    day: date  # the date of the series it replaces
    kind: str = Field(max_length=10)
    moved_on: date | None = None
    moved_start: time | None = None
    moved_end: time | None = None
    note: str = Field(default="", max_length=300)
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class ConsultationVisit(SQLModel, table=True):
    """Anonymous figures of one date: numbers only, never who came."""

    __tablename__ = "consultation_visit"
    __table_args__ = (UniqueConstraint("hour_id", "day", name="uq_consultation_visit_hour_day"),)
    id: int | None = Field(default=None, primary_key=True)
    hour_id: int = Field(foreign_key="consultation_hour.id", index=True)
    day: date
    visitors: int
    # {topic id: how many asked about it}, {agency type: referrals made}
    topics: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    referrals: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    conferences_suggested: int = Field(default=0)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    recorded_by_id: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class ConsultationPublisher(SQLModel, table=True):
    """A caseworker a team lead of their team allowed to publish consultation hours. The
    permission holds only while the caseworker is in that team."""

    __tablename__ = "consultation_publisher"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True)
    team_id: int = Field(foreign_key="team.id")
    granted_by_id: int = Field(foreign_key="user_account.id")
    granted_at: datetime = Field(default_factory=utcnow)
