"""Minutes (Protokoll): versions, partners' comments and the rendered PDFs."""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import JSON, Column, Field, SQLModel, Text

from app.clock import utcnow
from app.db import one_of


class MinutesStatus(StrEnum):
    DRAFT = "draft"
    FINAL = "final"
    REPLACED = "replaced"  # by a correction, which names it


MINUTES_STATUS = {
    MinutesStatus.DRAFT: _l("Entwurf"),
    MinutesStatus.FINAL: _l("gültig"),
    MinutesStatus.REPLACED: _l("ersetzt"),
}


class Minutes(SQLModel, table=True):
    """Protokoll: a draft, then final versions; a correction is a new version."""

    __tablename__ = "minutes"
    __table_args__ = (
        UniqueConstraint("conference_id", "version_number", name="uq_minutes_conference_version"),
        one_of("status", MinutesStatus, "ck_minutes_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    version_number: int = Field(default=1)
    status: str = Field(default=MinutesStatus.DRAFT, max_length=10)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    summary_categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Each decision with its own data categories: [{"text": ..., "categories": [...]}, ...].
    decisions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    next_date_note: str = Field(default="", max_length=300)
    # The day agreed for the next conference, if any: the follow-up form starts with it.
    next_date: date | None = None
    replaces_id: int | None = Field(default=None, foreign_key="minutes.id")
    correction_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    comments_until: date | None = None
    finalised_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    finalised_at: datetime | None = Field(default=None, index=True)
    pdf_sha256: str | None = Field(default=None, max_length=64)
    pdf_size: int | None = None
    # What the minutes show (participants, agenda, notes, measures, next date), frozen at
    # finalisation: every rendering of this version, for any reader, is made from it.
    content: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class MinutesComment(SQLModel, table=True):
    __tablename__ = "minutes_comment"
    id: int | None = Field(default=None, primary_key=True)
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
    id: int | None = Field(default=None, primary_key=True)
    minutes_id: int = Field(foreign_key="minutes.id", index=True)
    variant: str = Field(max_length=200)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
