"""Jinja filters: dates and times in the user's language, in Europe/Berlin."""

from datetime import date, datetime

from flask_babel import format_date, format_datetime, format_time
from wtforms import SelectField, SelectMultipleField

from app.agencies.models import place_text
from app.clock import local_day, to_local


def datetime_de(value: datetime | str | None) -> str:
    # "Mo., 14. Dez. 2026, 10:00"; frozen minutes hold ISO text.
    if value is None:
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(to_local(value), "EEE, d. MMM y, HH:mm")


def date_de(value: date | datetime | str | None) -> str:
    if value is None:
        return "–"
    return format_date(local_day(value), "EEE, d. MMM y")


def time_de(value: datetime | str | None) -> str:
    """The time of day in Berlin: "10:00"."""
    if value is None:
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_time(to_local(value), "HH:mm")


def place(location) -> str:
    """A location (a row, or the dict frozen in final minutes) as one line without repeats."""
    get = location.get if isinstance(location, dict) else lambda key: getattr(location, key, None)
    return place_text(get("name") or "", get("address"))


def is_select(field) -> bool:
    """A single-choice select (``ChoiceField`` too), shown in KERN's select markup."""
    return isinstance(field, SelectField) and not isinstance(field, SelectMultipleField)


def init_app(app):
    app.jinja_env.globals["is_select"] = is_select
    app.jinja_env.filters["datetime"] = datetime_de
    app.jinja_env.filters["date"] = date_de
    app.jinja_env.filters["time"] = time_de
    app.jinja_env.filters["place"] = place
