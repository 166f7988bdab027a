"""German dates and times: stored in naive UTC, shown in Europe/Berlin."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l

BERLIN = ZoneInfo("Europe/Berlin")


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(BERLIN)


def local_to_utc(value: datetime) -> datetime:
    """A naive Europe/Berlin wall-clock time, as typed into a form, to aware UTC."""
    return value.replace(tzinfo=BERLIN).astimezone(timezone.utc)


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
    init_globals(app)


ROLE_LABELS = {
    "admin": _l("Administration"),
    "team_lead": _l("Teamleitung"),
    "caseworker": _l("Fallmanagement"),
    "partner": _l("Partnereinrichtung"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def nav_items():
    """Main navigation for the current user's role: (url, label)."""
    from flask import url_for
    from flask_login import current_user

    from app.permissions import can, is_admin, is_staff

    if is_admin(current_user):
        from app.admin.routes import DIRECTORY

        return [(url_for("admin.users"), _l("Benutzer:innen"))] + [
            (url_for("admin.directory", kind=kind), entry.plural) for kind, entry in DIRECTORY.items()
        ]
    items = [(url_for("main.index"), _l("Start"))]
    if is_staff(current_user):
        items.append((url_for("cases.index"), _l("Fälle")))
        items.append((url_for("conferences.index"), _l("Fallkonferenzen")))
    if can(current_user, "team.overview"):
        items.append((url_for("reports.overview"), _l("Teamübersicht")))
    if can(current_user, "minutes.export"):
        items.append((url_for("minutes.export_form"), _l("Protokolle exportieren")))
    return items


def init_globals(app):
    from flask_babel import get_locale

    app.jinja_env.globals.update(role_label=role_label, nav_items=nav_items, get_locale=get_locale)


def berlin_today() -> date:
    """Today's calendar day in Europe/Berlin: consents expire at local midnight."""
    return datetime.now(BERLIN).date()
