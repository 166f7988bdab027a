"""Jinja filters: dates and times in the user's language, in Europe/Berlin."""
from datetime import date, datetime

from flask_babel import format_date, format_datetime

from app.clock import to_local


def datetime_de(value: datetime | None) -> str:
    # "Mo., 14. Dez. 2026, 10:00"
    if value is None:
        return "–"
    return format_datetime(to_local(value), "EEE, d. MMM y, HH:mm")


def date_de(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = to_local(value).date()
    return format_date(value, "EEE, d. MMM y")


def init_app(app):
    app.jinja_env.filters["datetime"] = datetime_de
    app.jinja_env.filters["date"] = date_de
