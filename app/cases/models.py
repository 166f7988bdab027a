"""Cases and the consent register, with the taxonomies they use (kept here, in one place)."""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index
from sqlmodel import JSON, Column, Field, SQLModel, Text

from app.clock import utcnow
from app.db import one_of

# Data categories: the scope of a consent and the tags of a note (DESIGN.md section 3).
DATA_CATEGORIES = {
    "general": _l("Allgemeine Lebenssituation"),
    "work": _l("Qualifikation und Arbeit"),
    "health": _l("Gesundheit"),
    "addiction": _l("Sucht"),
    "debt": _l("Schulden"),
    "housing": _l("Wohnen"),
    "family": _l("Familie und Pflege"),
    "residence": _l("Aufenthalt und Sprache"),
}

OBSTACLES = {
    "health": _l("Gesundheit"),
    "addiction": _l("Sucht"),
    "debt": _l("Schulden"),
    "housing": _l("Wohnen"),
    "childcare": _l("Kinderbetreuung"),
    "care": _l("Pflege von Angehörigen"),
    "language": _l("Sprache"),
    "qualification": _l("Qualifikation"),
    "mobility": _l("Mobilität"),
    "legal": _l("Rechtliche oder aufenthaltsrechtliche Fragen"),
}

# What a placement obstacle, shown to a partner, reveals: a partner sees an obstacle only
# where its consent covers these categories.
OBSTACLE_CATEGORIES = {
    "health": ("health",),
    "addiction": ("addiction",),
    "debt": ("debt",),
    "housing": ("housing",),
    "childcare": ("family",),
    "care": ("family",),
    "language": ("residence",),
    "qualification": ("work",),
    "mobility": ("general",),
    "legal": ("residence",),
}

AGE_BANDS = {
    "u25": _l("unter 25"),
    "25_34": _l("25 bis 34"),
    "35_49": _l("35 bis 49"),
    "50plus": _l("50 und älter"),
}

HOUSEHOLD_TYPES = {
    "single": _l("alleinlebend"),
    "single_parent": _l("alleinerziehend"),
    "couple": _l("Paar ohne Kinder"),
    "couple_children": _l("Paar mit Kindern"),
    "shared": _l("Wohngemeinschaft oder bei Angehörigen"),
    "other": _l("sonstige"),
}

CLOSE_REASONS = {
    "work": _l("Arbeit aufgenommen"),
    "training": _l("Ausbildung oder Qualifizierung begonnen"),
    "moved": _l("verzogen"),
    "not_eligible": _l("kein Leistungsanspruch mehr"),
    "other": _l("sonstiger Grund"),
}


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


CASE_STATUS = {CaseStatus.OPEN: _l("offen"), CaseStatus.CLOSED: _l("abgeschlossen")}


class PseudonymCounter(SQLModel, table=True):
    """The last number handed out per year: pseudonyms are never reused, not even after deletion."""

    __tablename__ = "pseudonym_counter"
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_number: int = Field(default=0)


class Case(SQLModel, table=True):
    __tablename__ = "case_file"
    __table_args__ = (
        Index("ix_case_file_team_status_created", "team_id", "status", "created_at"),
        # The team overview counts the cases closed within a year.
        Index("ix_case_file_team_status_closed", "team_id", "status", "closed_at"),
        # The case list of all statuses, newest or oldest first.
        Index("ix_case_file_team_created", "team_id", "created_at", "id"),
        # The case list filtered by district, newest first.
        Index("ix_case_file_team_status_district", "team_id", "status", "district_id", "created_at"),
        # Open cases per caseworker (team overview, case list filter).
        Index("ix_case_file_team_status_caseworker", "team_id", "status", "caseworker_id"),
        # Open cases without a planned conference, by pseudonym (start page).
        Index("ix_case_file_team_status_pseudonym", "team_id", "status", "pseudonym"),
        one_of("status", CaseStatus, "ck_case_file_status"),
        one_of("close_reason", CLOSE_REASONS, "ck_case_file_close_reason"),
    )
    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=20, unique=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    caseworker_id: int = Field(foreign_key="user_account.id", index=True)
    district_id: int = Field(foreign_key="district.id", index=True)
    age_band: str = Field(max_length=10)
    household_type: str = Field(max_length=20)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    goals: str = Field(default="", sa_column=Column(Text, nullable=False))
    # The person's number in the Jobcenter's main system: staff of the owning team only.
    internal_reference: str | None = Field(default=None, max_length=40)
    status: str = Field(default=CaseStatus.OPEN, max_length=10, index=True)
    close_reason: str | None = Field(default=None, max_length=20)
    closed_at: datetime | None = None
    # Retention (app/retention.py): when the case's content was deleted while its final minutes
    # are kept longer (RETENTION_MINUTES_YEARS > RETENTION_CASE_YEARS).
    content_deleted_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)  # optimistic locking: a stale form is refused


class CaseObstacle(SQLModel, table=True):
    """Placement obstacles of a case, one row each, so the case list can filter by index."""

    __tablename__ = "case_obstacle"
    case_id: int = Field(foreign_key="case_file.id", primary_key=True)
    obstacle: str = Field(max_length=20, primary_key=True, index=True)


class Consent(SQLModel, table=True):
    """A consent (Schweigepflichtentbindung) of the person for one agency.

    Never edited once recorded: a change is a new record naming the one it replaces;
    a withdrawal fills the withdrawal fields.
    """

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_case_agency", "case_id", "agency_id"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    agency_id: int = Field(foreign_key="agency.id", index=True)
    signed_on: date
    valid_until: date  # inclusive, a calendar day in Europe/Berlin
    scope: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    proof_reference: str = Field(max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    recorded_by_id: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow)
    replaces_id: int | None = Field(default=None, foreign_key="consent.id")
    withdrawn_on: date | None = None
    withdrawal_note: str = Field(default="", sa_column=Column(Text, nullable=False))
    withdrawn_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    withdrawn_recorded_at: datetime | None = None

    def is_valid_on(self, day: date) -> bool:
        if self.replaced_by_newer:
            return False
        if self.withdrawn_on is not None and self.withdrawn_on <= day:
            return False
        return self.signed_on <= day <= self.valid_until

    # Set by the service when a newer record replaces this one (kept for history).
    superseded_at: datetime | None = None

    @property
    def replaced_by_newer(self) -> bool:
        return self.superseded_at is not None

    def covers(self, categories) -> bool:
        return set(categories) <= set(self.scope)
