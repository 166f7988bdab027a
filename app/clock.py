"""Time: stored in UTC, shown in Europe/Berlin (DESIGN.md section 4), in one place.

Pages format with the user's language through the Jinja filters in ``app.filters``;
e-mails and PDFs are German whatever the sender's language, so their formats are here.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time

BERLIN = ZoneInfo("Europe/Berlin")


def utcnow() -> datetime:
    """Aware UTC: every stored time is UTC; pages convert to Europe/Berlin."""
    return datetime.now(UTC)


def berlin_today() -> date:
    """Today's calendar day in Europe/Berlin: consents expire at local midnight."""
    return datetime.now(BERLIN).date()


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (or earlier); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BERLIN)


def local_to_utc(value: datetime) -> datetime:
    """A naive Europe/Berlin wall-clock time, as typed into a form, to aware UTC."""
    return value.replace(tzinfo=BERLIN).astimezone(UTC)


def local_day(value) -> date:
    """A calendar day in Berlin from a date, a UTC datetime, or their ISO text (frozen minutes)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value


def _local(value) -> datetime:
    return to_local(datetime.fromisoformat(value) if isinstance(value, str) else value)


# --- German formats of e-mails and PDFs ------------------------------------------------------


def de_date(value) -> str:
    """ "Mo., 14. Dez. 2026" (DESIGN.md section 4)."""
    return "–" if value is None else format_date(local_day(value), "EEE, d. MMM y", locale="de_DE")


def de_datetime(value) -> str:
    """ "Mo., 14. Dez. 2026, 10:00"."""
    return "–" if value is None else format_datetime(_local(value), "EEE, d. MMM y, HH:mm", locale="de_DE")


def de_time(value) -> str:
    return format_time(_local(value), "HH:mm", locale="de_DE")


def de_short_date(value) -> str:
    """ "14.12.2026": for table cells of the minutes, where a weekday would crowd the column."""
    return "–" if value is None else format_date(local_day(value), "dd.MM.y", locale="de_DE")


def de_long_date(value) -> str:
    """ "Montag, 14. Dezember 2026": the date of the conference in the minutes' heading."""
    return format_date(local_day(value), "EEEE, d. MMMM y", locale="de_DE")


def de_stamp(value) -> str:
    """ "14. Dezember 2026, 10:00 Uhr": when a document was finalised."""
    return format_datetime(_local(value), "d. MMMM y, HH:mm 'Uhr'", locale="de_DE")
