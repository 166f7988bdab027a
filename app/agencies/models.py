from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlmodel import JSON, Column, Field, SQLModel

from app.clock import utcnow
from app.db import one_of


class AgencyType(StrEnum):
    EDUCATION = "education"
    HEALTH = "health"
    COUNSELLING = "counselling"
    YOUTH = "youth"
    NEIGHBOURHOOD_OFFICE = "neighbourhood_office"
    OTHER = "other"


AGENCY_TYPE_LABELS = {
    AgencyType.EDUCATION: _l("Bildungsträger"),
    AgencyType.HEALTH: _l("Gesundheitsförderung"),
    AgencyType.COUNSELLING: _l("Beratungsstelle"),
    AgencyType.YOUTH: _l("Jugendhilfe"),
    AgencyType.NEIGHBOURHOOD_OFFICE: _l("Stadtteilbüro"),
    AgencyType.OTHER: _l("Sonstige"),
}


class LocationKind(StrEnum):
    JOBCENTER_ROOM = "jobcenter_room"
    NEIGHBOURHOOD_OFFICE = "neighbourhood_office"
    PARTNER_PREMISES = "partner_premises"
    ONLINE = "online"


# What it reveals about the person that an agency of a type takes part (DESIGN.md section 4:
# a Suchtberatung at the table reveals addiction). Counselling and "other" cover several
# kinds of service, so their default is wide; set an agency's own list where it is narrower.
AGENCY_TYPE_REVEALS = {
    AgencyType.EDUCATION: ("work",),
    AgencyType.HEALTH: ("health",),
    AgencyType.COUNSELLING: ("addiction", "debt", "family", "residence"),
    AgencyType.YOUTH: ("family",),
    AgencyType.NEIGHBOURHOOD_OFFICE: ("general",),
    AgencyType.OTHER: ("general", "health", "addiction", "debt", "housing", "family", "residence"),
}


def reveals(agency) -> list[str]:
    """The data categories that ``agency`` taking part reveals: its own list, or its type's."""
    if agency.reveals is not None:
        return list(agency.reveals)
    return list(AGENCY_TYPE_REVEALS.get(agency.type, AGENCY_TYPE_REVEALS[AgencyType.OTHER]))


LOCATION_KIND_LABELS = {
    LocationKind.JOBCENTER_ROOM: _l("Raum im Jobcenter"),
    LocationKind.NEIGHBOURHOOD_OFFICE: _l("Stadtteilbüro"),
    LocationKind.PARTNER_PREMISES: _l("Räume einer Partnereinrichtung"),
    LocationKind.ONLINE: _l("Online (Videokonferenz)"),
}


class District(SQLModel, table=True):
    __tablename__ = "district"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    active: bool = Field(default=True)
    # The public consultation-hour pages name districts and places: their Last-Modified.
    updated_at: datetime = Field(default_factory=utcnow)


class Agency(SQLModel, table=True):
    __tablename__ = "agency"
    __table_args__ = (one_of("type", AgencyType, "ck_agency_type"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, unique=True)
    type: str = Field(max_length=30, index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    contact_email: str = Field(max_length=254)
    # The data categories that this agency's taking part reveals; None: its type's default.
    reveals: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)


def place_text(name: str, address: str | None) -> str:
    """A place as one line: its name, then the parts of its address the name does not say
    already ("Jobcenter, Besprechungsraum 2.14" with "Raum 2.14, 2. OG" is
    "Jobcenter, Besprechungsraum 2.14, 2. OG", not the room twice)."""
    said = " ".join(name.casefold().split())
    parts = [" ".join(p.split()) for p in (address or "").split(",")]
    rest = [p for p in parts if p and p.casefold() not in said]
    return ", ".join([name, *rest])


class Location(SQLModel, table=True):
    __tablename__ = "location"
    __table_args__ = (one_of("kind", LocationKind, "ck_location_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, unique=True)
    kind: str = Field(max_length=30)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    # A room or street address of the venue (not of a person), or the video link.
    address: str | None = Field(default=None, max_length=300)
    video_url: str | None = Field(default=None, max_length=500)
    active: bool = Field(default=True)
    updated_at: datetime = Field(default_factory=utcnow)
