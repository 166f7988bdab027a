"""Consultation hours: the series and its dates, exceptions, anonymous figures, who publishes,
and what the public pages, feeds and posters show.

The recurrence is an RFC 5545 RRULE built and expanded by python-dateutil; Hessian public holidays
come from the ``holidays`` package. Times are Europe/Berlin wall-clock times: a series at 10:00
stays at 10:00 across the change to and from daylight-saving time.

Services take the session, objects, the actor and plain data, write the audit trail (ids and codes
only) and never commit; the route does.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dateutil.rrule import MONTHLY, WEEKLY, rrule, rrulestr
from dateutil.rrule import weekday as rrule_weekday
from flask_babel import lazy_gettext as _l
from icalendar import vRecur
from sqlalchemy import func, or_, select

from app import audit, pii
from app.accounts.models import Role, User
from app.agencies.models import District, Location, LocationKind
from app.clock import BERLIN, berlin_today, utcnow
from app.consultations.models import (
    ConsultationException,
    ConsultationHour,
    ConsultationPublisher,
    ConsultationStatus,
    ConsultationTopic,
    ConsultationVisit,
    ExceptionKind,
    Recurrence,
)
from app.forms import check_version
from app.workdays import holiday_name

# Where consultation hours take place (DESIGN.md section 3): in the neighbourhood.
PUBLIC_KINDS = (LocationKind.NEIGHBOURHOOD_OFFICE, LocationKind.PARTNER_PREMISES)
# A series runs for at most three years; a date is moved by at most 31 days.
MAX_SERIES_DAYS = 3 * 366
MAX_MOVE_DAYS = 31
MAX_COUNT = 500  # visitors (or any other figure) of one date


class ConsultationError(Exception):
    """A refusal the user can fix, shown at ``field`` of the form."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


# --- the recurrence -------------------------------------------------------------------------


def build_rrule(recurrence: str, weekday: int, week_of_month: int | None, starts_on: date) -> str:
    """The RRULE (without DTSTART and UNTIL) for a form's choice, written by dateutil."""
    day = rrule_weekday(weekday)
    if recurrence == Recurrence.MONTHLY:
        rule = rrule(MONTHLY, byweekday=day(week_of_month or 1), dtstart=datetime.combine(starts_on, time()))
    else:
        interval = 2 if recurrence == Recurrence.BIWEEKLY else 1
        rule = rrule(WEEKLY, interval=interval, byweekday=day, dtstart=datetime.combine(starts_on, time()))
    line = next(part for part in str(rule).splitlines() if part.startswith("RRULE:"))
    return line.removeprefix("RRULE:")


def rrule_choice(text: str) -> tuple[str, int, int | None]:
    """The form's choice (recurrence, weekday, week of month) back from a stored RRULE, read by
    icalendar's RRULE parser."""
    parts = vRecur.from_ical(text)
    byday = parts.get("BYDAY", ["MO"])[0]
    match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", byday)
    if match is None:  # only rules written by build_rrule are stored
        raise ValueError(f"unexpected BYDAY in a stored RRULE: {byday!r}")
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU").index(match.group(2))
    if parts["FREQ"][0] == "MONTHLY":
        return Recurrence.MONTHLY, weekday, int(match.group(1) or 1)
    interval = int(parts.get("INTERVAL", [1])[0])
    return (Recurrence.BIWEEKLY if interval == 2 else Recurrence.WEEKLY), weekday, None


def series_rule(hour: ConsultationHour) -> rrule:
    """The dates of the series as dateutil expands them: naive Europe/Berlin wall-clock starts."""
    start = datetime.combine(hour.starts_on, hour.start_time)
    until = datetime.combine(hour.ends_on, hour.start_time)
    return rrulestr(hour.rrule, dtstart=start).replace(until=until)


# One source for Hessian public holidays (also behind the conference forms' warnings).
hessian_holiday = holiday_name


class OccurrenceState:
    REGULAR = "regular"
    CANCELLED = "cancelled"
    MOVED = "moved"
    HOLIDAY = "holiday"


@dataclass
class Occurrence:
    hour_id: int | None  # None while a new series is checked before it is saved
    day: date  # the date of the series
    starts_at: datetime  # aware, Europe/Berlin (for a moved date: the new time)
    ends_at: datetime
    state: str = OccurrenceState.REGULAR
    note: str = ""
    holiday: str | None = None

    @property
    def takes_place(self) -> bool:
        return self.state in (OccurrenceState.REGULAR, OccurrenceState.MOVED)

    @property
    def series_start(self) -> datetime:
        """When the date was in the series (before any move): the RECURRENCE-ID."""
        if self.state == OccurrenceState.MOVED and self._series_start is not None:
            return self._series_start
        return self.starts_at

    _series_start: datetime | None = None


def _aware(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=BERLIN)


def occurrences(
    hour: ConsultationHour, start: date, end: date, exceptions=(), *, include_skipped: bool = True
) -> list[Occurrence]:
    """The dates of ``hour`` from ``start`` to ``end`` (both included), in time order.

    Hessian public holidays are skipped (state HOLIDAY); a cancelled date keeps its place
    (CANCELLED, with its note); a moved date appears at its new day and time (MOVED), and only
    there. ``include_skipped=False`` leaves out the dates that do not take place.
    """
    by_day = {e.day: e for e in exceptions}
    # A date moved into the window may come from up to MAX_MOVE_DAYS outside it.
    lo = datetime.combine(start - timedelta(days=MAX_MOVE_DAYS), time.min)
    hi = datetime.combine(end + timedelta(days=MAX_MOVE_DAYS), time.max)
    found = []
    for naive in series_rule(hour).between(lo, hi, inc=True):
        day = naive.date()
        exception = by_day.get(day)
        regular = Occurrence(hour.id, day, _aware(day, hour.start_time), _aware(day, hour.end_time))
        holiday = hessian_holiday(day)
        if holiday is not None and (exception is None or exception.kind != ExceptionKind.MOVED):
            regular.state, regular.holiday = OccurrenceState.HOLIDAY, holiday
        elif exception is not None and exception.kind == ExceptionKind.CANCELLED:
            regular.state, regular.note = OccurrenceState.CANCELLED, exception.note
        elif exception is not None and exception.kind == ExceptionKind.MOVED:
            moved = Occurrence(
                hour.id,
                day,
                _aware(exception.moved_on, exception.moved_start),
                _aware(exception.moved_on, exception.moved_end),
                OccurrenceState.MOVED,
                exception.note,
            )
            moved._series_start = regular.starts_at
            regular = moved
        shown_day = regular.starts_at.date()
        if start <= shown_day <= end and (include_skipped or regular.takes_place):
            found.append(regular)
    found.sort(key=lambda o: (o.starts_at, o.hour_id))
    return found


def describe(hour: ConsultationHour) -> str:
    """ "jeden Dienstag", "jeden zweiten Dienstag", "am ersten Dienstag im Monat" (translated)."""
    from app.consultations.models import WEEK_OF_MONTH, WEEKDAYS

    recurrence, weekday, week = rrule_choice(hour.rrule)
    name = WEEKDAYS.get(weekday, "")
    if recurrence == Recurrence.MONTHLY and week is not None:
        return str(_l("%(which)s %(weekday)s im Monat", which=WEEK_OF_MONTH.get(week, ""), weekday=name))
    if recurrence == Recurrence.BIWEEKLY:
        return str(_l("jeden zweiten %(weekday)s", weekday=name))
    return str(_l("jeden %(weekday)s", weekday=name))


# --- who publishes ----------------------------------------------------------------------------


def may_publish(session, user) -> bool:
    """Team leads, and caseworkers a team lead of their team allowed (while they are in it)."""
    if user.role == Role.TEAM_LEAD:
        return user.team_id is not None
    if user.role != Role.CASEWORKER or user.team_id is None:
        return False
    return (
        session.execute(
            select(ConsultationPublisher.id).where(
                ConsultationPublisher.user_id == user.id, ConsultationPublisher.team_id == user.team_id
            )
        ).first()
        is not None
    )


def team_caseworkers(session, team_id: int) -> list[tuple[User, bool]]:
    """The team's active caseworkers and whether each may publish."""
    granted = set(
        session.execute(select(ConsultationPublisher.user_id).where(ConsultationPublisher.team_id == team_id)).scalars()
    )
    users = session.execute(
        select(User)
        .where(User.team_id == team_id, User.role == Role.CASEWORKER, User.active.is_(True))
        .order_by(User.name)
    ).scalars()
    return [(u, u.id in granted) for u in users]


def set_publisher(session, actor, user, allowed: bool) -> None:
    """A team lead allows or stops a caseworker of their team publishing consultation hours."""
    row = session.execute(
        select(ConsultationPublisher).where(ConsultationPublisher.user_id == user.id)
    ).scalar_one_or_none()
    if allowed:
        if row is None:
            session.add(ConsultationPublisher(user_id=user.id, team_id=user.team_id, granted_by_id=actor.id))
        else:
            row.team_id, row.granted_by_id, row.granted_at = user.team_id, actor.id, utcnow()
    elif row is not None:
        session.delete(row)
    session.flush()
    audit.record(
        "consultation.publisher_granted" if allowed else "consultation.publisher_revoked",
        user,
        actor=actor,
        session=session,
        team_id=user.team_id,
    )


# --- the hours -----------------------------------------------------------------------------------


def location_choices(session, current_id=None) -> list[tuple[int, str]]:
    """Neighbourhood offices and partners' premises (active), for the form."""
    return [
        (loc_id, name)
        for loc_id, name in session.execute(
            select(Location.id, Location.name)
            .where(
                Location.kind.in_(PUBLIC_KINDS),
                or_(Location.active.is_(True), Location.id == current_id),
            )
            .order_by(Location.name)
        ).all()
    ]


def topic_choices(session, current=()) -> list[tuple[int, str]]:
    return [
        (topic_id, name)
        for topic_id, name in session.execute(
            select(ConsultationTopic.id, ConsultationTopic.name)
            .where(or_(ConsultationTopic.active.is_(True), ConsultationTopic.id.in_(list(current) or [-1])))
            .order_by(ConsultationTopic.name)
        ).all()
    ]


def _personal_mailbox(email: str) -> bool:
    """``vorname.nachname@``, ``t.mueller@``: a person's mailbox, not an office's."""
    local = email.split("@", 1)[0]
    tokens = [t for t in re.split(r"[._\-+0-9]+", local) if t]
    if len(tokens) < 2:
        return pii.is_first_name(tokens[0]) if tokens else False
    return any(pii.is_first_name(t) for t in tokens) or (len(tokens) == 2 and len(tokens[0]) == 1)


def _check_contact(session, data: dict) -> None:
    email = (data.get("contact_email") or "").strip()
    if not email:
        return
    taken = session.execute(select(User.id).where(func.lower(User.email) == email.lower())).first()
    if taken is not None or _personal_mailbox(email):
        raise ConsultationError(
            "contact_email",
            _l(
                "Bitte geben Sie ein Funktionspostfach der Stelle an (zum Beispiel "
                "sprechstunde@…), keine persönliche Adresse."
            ),
        )


HOUR_FIELDS = (
    "title",
    "location_id",
    "starts_on",
    "ends_on",
    "start_time",
    "end_time",
    "topic_ids",
    "languages",
    "step_free",
    "hearing_loop",
    "accessibility_note",
    "appointment_needed",
    "note",
    "contact_office",
    "contact_phone",
    "contact_email",
    "status",
)


def save_hour(session, actor, data: dict, hour: ConsultationHour | None = None, *, version=None, overridden_kinds=()):
    """Create or change a consultation hour (its series, place, topics and contact)."""
    if data["ends_on"] < data["starts_on"]:
        raise ConsultationError("ends_on", _l("Das Ende der Reihe muss nach ihrem Beginn liegen."))
    if (data["ends_on"] - data["starts_on"]).days > MAX_SERIES_DAYS:
        raise ConsultationError("ends_on", _l("Eine Reihe läuft höchstens drei Jahre."))
    allowed = {loc_id for loc_id, _name in location_choices(session, hour.location_id if hour else None)}
    if data["location_id"] not in allowed:
        raise ConsultationError(
            "location_id", _l("Sprechstunden finden in einem Stadtteilbüro oder bei einer Partnereinrichtung statt.")
        )
    _check_contact(session, data)
    text = build_rrule(data["recurrence"], data["weekday"], data.get("week_of_month"), data["starts_on"])
    values = {name: data[name] for name in HOUR_FIELDS}
    for name in ("title", "accessibility_note", "note", "contact_office", "contact_phone", "contact_email"):
        values[name] = (values[name] or "").strip()
    values["topic_ids"] = sorted(set(values["topic_ids"]))
    values["languages"] = list(dict.fromkeys(values["languages"]))
    created = hour is None
    if hour is None:
        hour = ConsultationHour(team_id=actor.team_id, created_by_id=actor.id, rrule=text, **values)
        session.add(hour)
    else:
        check_version(hour, version)
        hour.rrule = text
        for name, value in values.items():
            setattr(hour, name, value)
    hour.updated_at = utcnow()
    if not any(True for _ in _first_dates(hour)):
        raise ConsultationError("starts_on", _l("In diesem Zeitraum fällt kein Termin der Reihe."))
    session.flush()
    audit.record(
        "consultation_hour.created" if created else "consultation_hour.updated",
        hour,
        actor=actor,
        session=session,
        status=hour.status,
        location_id=hour.location_id,
    )
    audit.record_overrides(hour, actor, overridden_kinds, session=session)
    return hour


def _first_dates(hour):
    return series_rule(hour).xafter(datetime.combine(hour.starts_on, time.min), count=1, inc=True)


def exceptions_of(session, hour_ids) -> dict[int, list[ConsultationException]]:
    ids = list(hour_ids)
    found: dict[int, list] = {i: [] for i in ids}
    if not ids:
        return found
    for exc in session.execute(
        select(ConsultationException).where(ConsultationException.hour_id.in_(ids)).order_by(ConsultationException.day)
    ).scalars():
        found[exc.hour_id].append(exc)
    return found


def add_exception(session, hour, actor, data: dict, *, overridden_kinds=()) -> ConsultationException:
    """Cancel one date of the series, or move it (by at most a month), with a public note."""
    day = data["day"]
    in_series = {o.day for o in occurrences(hour, day, day, ())}
    if day not in in_series:
        raise ConsultationError("day", _l("An diesem Tag findet keine Sprechstunde der Reihe statt."))
    if session.execute(
        select(ConsultationException.id).where(
            ConsultationException.hour_id == hour.id, ConsultationException.day == day
        )
    ).first():
        raise ConsultationError("day", _l("Für diesen Termin gibt es schon eine Ausnahme. Heben Sie sie zuerst auf."))
    exception = ConsultationException(
        hour_id=hour.id, day=day, kind=data["kind"], note=(data.get("note") or "").strip(), created_by_id=actor.id
    )
    if data["kind"] == ExceptionKind.MOVED:
        moved_on, start, end = data.get("moved_on"), data.get("moved_start"), data.get("moved_end")
        if moved_on is None:
            raise ConsultationError("moved_on", _l("Bitte geben Sie an, auf welchen Tag der Termin verlegt wird."))
        if start is None or end is None:
            raise ConsultationError("moved_start", _l("Bitte geben Sie Beginn und Ende des verlegten Termins an."))
        if end <= start:
            raise ConsultationError("moved_end", _l("Das Ende muss nach dem Beginn liegen."))
        if abs((moved_on - day).days) > MAX_MOVE_DAYS:
            raise ConsultationError("moved_on", _l("Ein Termin kann höchstens einen Monat verlegt werden."))
        if hessian_holiday(moved_on) is not None:
            raise ConsultationError("moved_on", _l("Der neue Tag ist ein Feiertag in Hessen."))
        if moved_on < berlin_today():
            raise ConsultationError("moved_on", _l("Der neue Tag liegt in der Vergangenheit."))
        exception.moved_on, exception.moved_start, exception.moved_end = moved_on, start, end
    session.add(exception)
    hour.updated_at = utcnow()
    hour.version += 1
    session.flush()
    audit.record(
        f"consultation_hour.date_{exception.kind}",
        hour,
        actor=actor,
        session=session,
        exception_id=exception.id,
        day=day.isoformat(),
    )
    audit.record_overrides(hour, actor, overridden_kinds, session=session)
    return exception


def remove_exception(session, hour, exception, actor) -> None:
    """The date takes place as in the series again."""
    day = exception.day
    session.delete(exception)
    hour.updated_at = utcnow()  # the pages changed although no exception row is left to say so
    hour.version += 1
    session.flush()
    audit.record("consultation_hour.date_restored", hour, actor=actor, session=session, day=day.isoformat())


# --- figures after a date ----------------------------------------------------------------------


def held_dates(session, hour, today: date | None = None) -> list[date]:
    """Dates of the series that took place up to today (the ones figures can be recorded for)."""
    today = today or berlin_today()
    start = max(hour.starts_on, today - timedelta(days=366))
    found = occurrences(hour, start, today, exceptions_of(session, [hour.id])[hour.id], include_skipped=False)
    return [o.day for o in found if o.starts_at.date() <= today]


def record_visit(session, hour, actor, data: dict, visit=None, *, version=None, overridden_kinds=()):
    """Anonymous figures of one date: visitors, topics asked, referrals by agency type, and how
    often a case conference was suggested. Numbers only; the note passed the guard."""
    if data["day"] not in held_dates(session, hour):
        raise ConsultationError(
            "day", _l("Zahlen können nur für einen Termin der Reihe erfasst werden, der schon stattgefunden hat.")
        )
    visitors = data["visitors"]
    if data["conferences_suggested"] > visitors:
        raise ConsultationError(
            "conferences_suggested", _l("Es können nicht mehr Fallkonferenzen angeregt werden, als Personen da waren.")
        )
    other = session.execute(
        select(ConsultationVisit.id).where(
            ConsultationVisit.hour_id == hour.id,
            ConsultationVisit.day == data["day"],
            ConsultationVisit.id != (visit.id if visit else -1),
        )
    ).first()
    if other is not None:
        raise ConsultationError("day", _l("Für diesen Termin sind schon Zahlen erfasst; bitte ändern Sie diese."))
    values = dict(
        day=data["day"],
        visitors=visitors,
        topics={str(k): v for k, v in data["topics"].items() if v},
        referrals={k: v for k, v in data["referrals"].items() if v},
        conferences_suggested=data["conferences_suggested"],
        note=(data.get("note") or "").strip(),
    )
    created = visit is None
    if created:
        visit = ConsultationVisit(hour_id=hour.id, recorded_by_id=actor.id, **values)
        session.add(visit)
    else:
        check_version(visit, version)
        for name, value in values.items():
            setattr(visit, name, value)
        visit.recorded_by_id, visit.recorded_at = actor.id, utcnow()
    session.flush()
    audit.record(
        "consultation_visit.recorded" if created else "consultation_visit.updated",
        visit,
        actor=actor,
        session=session,
        hour_id=hour.id,
    )
    audit.record_overrides(visit, actor, overridden_kinds, session=session)
    return visit


def visits_of(session, hour) -> list[ConsultationVisit]:
    return list(
        session.execute(
            select(ConsultationVisit).where(ConsultationVisit.hour_id == hour.id).order_by(ConsultationVisit.day.desc())
        ).scalars()
    )


# --- staff pages ------------------------------------------------------------------------------------


def team_hours(session, team_id: int) -> list[tuple[ConsultationHour, Location]]:
    return list(
        session.execute(
            select(ConsultationHour, Location)
            .join(Location, Location.id == ConsultationHour.location_id)
            .where(ConsultationHour.team_id == team_id)
            .order_by(ConsultationHour.status, Location.name, ConsultationHour.id)
        ).all()
    )


def topics_by_id(session) -> dict[int, ConsultationTopic]:
    return {t.id: t for t in session.execute(select(ConsultationTopic)).scalars()}


# --- the public pages ------------------------------------------------------------------------------

PUBLIC_WEEKS = 8  # the public list shows the dates of the next eight weeks


@dataclass
class PublicData:
    """What the public pages and feeds show: published hours at active places, nothing else."""

    hours: list  # ConsultationHour
    locations: dict  # id -> Location
    districts: dict  # id -> District
    topics: dict  # id -> ConsultationTopic
    exceptions: dict  # hour id -> [ConsultationException]
    changed_at: datetime  # the newest change of anything shown

    def occurrences(self, start: date, end: date, *, include_skipped: bool = True) -> list[Occurrence]:
        found = []
        for hour in self.hours:
            found += occurrences(hour, start, end, self.exceptions[hour.id], include_skipped=include_skipped)
        found.sort(key=lambda o: (o.starts_at, o.hour_id))
        return found

    def hour(self, hour_id) -> ConsultationHour:
        return next(h for h in self.hours if h.id == hour_id)


@dataclass
class PublicFilter:
    district_id: int | None = None
    topic_id: int | None = None
    location_id: int | None = None

    def keep(self, hour: ConsultationHour, location: Location) -> bool:
        return (
            (self.district_id is None or location.district_id == self.district_id)
            and (self.topic_id is None or self.topic_id in hour.topic_ids)
            and (self.location_id is None or hour.location_id == self.location_id)
        )


def public_data(session, f: PublicFilter | None = None, today: date | None = None) -> PublicData:
    """Published hours whose series has not ended, at active neighbourhood offices and partners'
    premises, with their places, districts, topics and exceptions: four queries."""
    today = today or berlin_today()
    f = f or PublicFilter()
    rows = session.execute(
        select(ConsultationHour, Location)
        .join(Location, Location.id == ConsultationHour.location_id)
        .where(
            ConsultationHour.status == ConsultationStatus.PUBLISHED,
            ConsultationHour.ends_on >= today,
            Location.active.is_(True),
            Location.kind.in_(PUBLIC_KINDS),
        )
        .order_by(ConsultationHour.id)
    ).all()
    hours = [h for h, loc in rows if f.keep(h, loc)]
    locations = {loc.id: loc for _h, loc in rows}
    districts = {d.id: d for d in session.execute(select(District).where(District.active.is_(True))).scalars()}
    topics = {t.id: t for t in session.execute(select(ConsultationTopic)).scalars()}
    # Withdrawn hours count too: taking one off changes the pages.
    newest_hour = session.execute(select(func.max(ConsultationHour.updated_at))).scalar()
    stamps = [
        newest_hour,
        *(loc.updated_at for loc in locations.values()),
        *(d.updated_at for d in districts.values()),
        *(t.updated_at for t in topics.values()),
        # The pages list the dates from today: they change at midnight.
        datetime.combine(today, time.min, tzinfo=BERLIN),
    ]
    changed_at = max(_aware_utc(s) for s in stamps if s is not None)
    return PublicData(hours, locations, districts, topics, exceptions_of(session, [h.id for h in hours]), changed_at)


def _aware_utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def fingerprint(data: PublicData, *parts) -> str:
    """A strong validator of what a page or feed shows: everything it is made from, hashed."""
    payload = {
        "hours": [
            [h.id, h.version, h.updated_at.isoformat(), h.rrule, h.location_id, sorted(h.topic_ids)] for h in data.hours
        ],
        "exceptions": [[e.id, e.day.isoformat(), e.kind] for rows in data.exceptions.values() for e in rows],
        "locations": [[loc.id, loc.updated_at.isoformat()] for loc in data.locations.values()],
        "districts": [[d.id, d.updated_at.isoformat()] for d in data.districts.values()],
        "topics": [[t.id, t.updated_at.isoformat()] for t in data.topics.values()],
        "changed": data.changed_at.isoformat(),
        "parts": [str(p) for p in parts],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def map_link(location: Location, district: District | None) -> str:
    """A plain link to the place on OpenStreetMap (a search for its address): no script, no map tiles."""
    from urllib.parse import quote

    words = [location.name, location.address or "", district.name if district else "", "Offenbach am Main"]
    return "https://www.openstreetmap.org/search?query=" + quote(", ".join(w for w in words if w))


def poster_month(today: date, month: str | None) -> tuple[date, date] | None:
    """The days a poster lists: the rest of this month by default, or the named month
    (``YYYY-MM``, from this month up to a year ahead). None for a month outside that."""
    if month:
        match = re.fullmatch(r"(\d{4})-(\d{2})", month)
        if not match:
            return None
        year, number = int(match.group(1)), int(match.group(2))
        if not 1 <= number <= 12:
            return None
        first = date(year, number, 1)
        if first < today.replace(day=1) or first > (today.replace(day=1) + timedelta(days=370)):
            return None
    else:
        first = today.replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return max(first, today), last


@dataclass
class PosterData:
    location: Location
    district: District | None
    dates: list = field(default_factory=list)
    hours: list = field(default_factory=list)
    month: date | None = None
