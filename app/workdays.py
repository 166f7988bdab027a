"""Working days in Offenbach: Hessian public holidays, weekends and office hours.

Conference dates and measure due dates on such days are not refused (a conference can be
held on a Saturday on purpose), but the forms warn and ask for a confirmation, as they do
for a place already booked. The holidays come from the ``holidays`` package (Germany,
subdivision "HE"), so they follow the Hessian law without a list of our own.
"""

from datetime import date, datetime, time
from functools import lru_cache

import holidays
from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _

from app.clock import berlin_today, to_local

SATURDAY, SUNDAY = 5, 6


@lru_cache(maxsize=32)
def _hessian_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DE", subdiv="HE", years=year, language="de")


def holiday_name(day: date) -> str | None:
    """The name of the Hessian public holiday on ``day`` ("Pfingstmontag"), or None."""
    return _hessian_holidays(day.year).get(day)


def office_hours() -> tuple[time, time]:
    """From ``OFFICE_HOURS_START`` to ``OFFICE_HOURS_END`` (Europe/Berlin), 08:00–18:00 by default."""
    config = current_app.config
    return time.fromisoformat(config["OFFICE_HOURS_START"]), time.fromisoformat(config["OFFICE_HOURS_END"])


def day_warnings(day: date) -> list[str]:
    """Why ``day`` is no working day: a Saturday, a Sunday, a Hessian public holiday."""
    found = []
    shown = format_date(day, "EEEE, d. MMMM y")
    if day.weekday() == SATURDAY:
        found.append(_("%(date)s ist ein Samstag.", date=shown))
    elif day.weekday() == SUNDAY:
        found.append(_("%(date)s ist ein Sonntag.", date=shown))
    name = holiday_name(day)
    if name:
        found.append(_("%(date)s ist in Hessen ein gesetzlicher Feiertag (%(name)s).", date=shown, name=name))
    return found


def due_warnings(day: date) -> list[str]:
    """What speaks against ``day`` as a measure's due date: it has passed already (a measure agreed
    late can still record one), or it is no working day."""
    found = []
    if day < berlin_today():
        found.append(_("%(date)s liegt in der Vergangenheit.", date=format_date(day, "EEEE, d. MMMM y")))
    return found + day_warnings(day)


def conference_warnings(starts_at: datetime, ends_at: datetime) -> list[str]:
    """What speaks against a conference from ``starts_at`` to ``ends_at`` (UTC): its day, and times
    outside the office hours."""
    start, end = to_local(starts_at), to_local(ends_at)
    found = day_warnings(start.date())
    opens, closes = office_hours()
    if start.time() < opens or end.time() > closes or end.date() != start.date():
        found.append(
            _(
                "Die Zeit liegt außerhalb der Bürozeiten (%(opens)s bis %(closes)s Uhr).",
                opens=opens.strftime("%H:%M"),
                closes=closes.strftime("%H:%M"),
            )
        )
    return found
