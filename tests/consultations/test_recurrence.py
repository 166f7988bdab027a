"""The series of a consultation hour: RRULE through dateutil, Europe/Berlin wall-clock times
across the change to and from daylight-saving time, Hessian public holidays skipped, single dates
cancelled or moved."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.consultations.models import ConsultationException
from app.consultations.services import (
    OccurrenceState,
    build_rrule,
    hessian_holiday,
    occurrences,
    rrule_choice,
)
from tests.consultations.helpers import hour


def _hour(factory, **kw):
    return hour(factory, **kw)


def test_weekly_series_keeps_its_wall_clock_time_across_both_dst_changes(factory):
    # Tuesdays 10:00 from March to November 2026: summer time starts 29 March, ends 25 October.
    h = _hour(factory, weekday=1, starts_on=date(2026, 3, 3), ends_on=date(2026, 11, 3))
    found = occurrences(h, date(2026, 3, 1), date(2026, 11, 30))
    assert all(o.starts_at.strftime("%H:%M") == "10:00" for o in found)
    by_day = {o.day: o for o in found}
    assert by_day[date(2026, 3, 24)].starts_at.astimezone(UTC).hour == 9  # CET, UTC+1
    assert by_day[date(2026, 3, 31)].starts_at.astimezone(UTC).hour == 8  # CEST, UTC+2
    assert by_day[date(2026, 10, 20)].starts_at.astimezone(UTC).hour == 8
    assert by_day[date(2026, 10, 27)].starts_at.astimezone(UTC).hour == 9
    # Every Tuesday, no gap and no double date around the changes.
    days = [o.day for o in found]
    assert days[0] == date(2026, 3, 3) and days[-1] == date(2026, 11, 3)
    assert all(b - a == timedelta(days=7) for a, b in zip(days, days[1:], strict=False))


def test_hessian_holidays_are_skipped_and_named(factory):
    # Thursdays: Ascension (14 May 2026) and Corpus Christi (4 June 2026, a holiday in Hesse).
    h = _hour(factory, weekday=3, starts_on=date(2026, 5, 1), ends_on=date(2026, 6, 30))
    found = occurrences(h, date(2026, 5, 1), date(2026, 6, 30))
    states = {o.day: o.state for o in found}
    assert states[date(2026, 5, 14)] == OccurrenceState.HOLIDAY
    assert states[date(2026, 6, 4)] == OccurrenceState.HOLIDAY
    assert states[date(2026, 5, 21)] == OccurrenceState.REGULAR
    assert hessian_holiday(date(2026, 6, 4)) == "Fronleichnam"
    held = occurrences(h, date(2026, 5, 1), date(2026, 6, 30), include_skipped=False)
    assert date(2026, 5, 14) not in {o.day for o in held}
    # Mondays: Easter Monday and Whit Monday.
    monday = _hour(factory, weekday=0, starts_on=date(2026, 4, 1), ends_on=date(2026, 5, 31))
    skipped = {o.day for o in occurrences(monday, date(2026, 4, 1), date(2026, 5, 31)) if not o.takes_place}
    assert skipped == {date(2026, 4, 6), date(2026, 5, 25)}


def test_a_holiday_outside_hesse_is_not_skipped(factory):
    # Reformation Day (31 October) is a holiday in other states, not in Hesse; 2025 is a Friday.
    h = _hour(factory, weekday=4, starts_on=date(2025, 10, 1), ends_on=date(2025, 11, 30))
    found = {o.day: o.state for o in occurrences(h, date(2025, 10, 1), date(2025, 11, 30))}
    assert found[date(2025, 10, 31)] == OccurrenceState.REGULAR


def test_every_second_week_and_first_tuesday_of_the_month(factory):
    biweekly = _hour(factory, recurrence="biweekly", weekday=2, starts_on=date(2026, 1, 7), ends_on=date(2026, 3, 31))
    days = [o.day for o in occurrences(biweekly, date(2026, 1, 1), date(2026, 3, 31))]
    assert days[:3] == [date(2026, 1, 7), date(2026, 1, 21), date(2026, 2, 4)]
    monthly = _hour(
        factory, recurrence="monthly", weekday=1, week_of_month=1, starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30)
    )
    assert monthly.rrule in ("FREQ=MONTHLY;BYDAY=+1TU", "FREQ=MONTHLY;BYDAY=1TU")
    days = [o.day for o in occurrences(monthly, date(2026, 1, 1), date(2026, 6, 30))]
    assert days == [
        date(2026, 1, 6),
        date(2026, 2, 3),
        date(2026, 3, 3),
        date(2026, 4, 7),
        date(2026, 5, 5),
        date(2026, 6, 2),
    ]
    last_friday = build_rrule("monthly", 4, -1, date(2026, 1, 1))
    assert rrule_choice(last_friday) == ("monthly", 4, -1)


def test_cancelled_and_moved_dates_across_the_dst_change(factory):
    h = _hour(factory, weekday=1, starts_on=date(2026, 3, 3), ends_on=date(2026, 4, 28))
    cancelled = ConsultationException(
        hour_id=h.id, day=date(2026, 3, 24), kind="cancelled", note="Fortbildung", created_by_id=h.created_by_id
    )
    # Moved from the last Tuesday of winter time to the Wednesday after the change, 14:00.
    moved = ConsultationException(
        hour_id=h.id,
        day=date(2026, 3, 31),
        kind="moved",
        moved_on=date(2026, 4, 1),
        moved_start=time(14, 0),
        moved_end=time(16, 0),
        note="Raum belegt",
        created_by_id=h.created_by_id,
    )
    found = occurrences(h, date(2026, 3, 1), date(2026, 4, 30), [cancelled, moved])
    by_day = {o.day: o for o in found}
    assert by_day[date(2026, 3, 24)].state == OccurrenceState.CANCELLED
    assert by_day[date(2026, 3, 24)].note == "Fortbildung"
    m = by_day[date(2026, 3, 31)]
    assert m.state == OccurrenceState.MOVED
    assert m.starts_at == datetime(2026, 4, 1, 12, 0, tzinfo=UTC)  # 14:00 CEST
    assert m.series_start == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)  # 10:00 CEST, the date it replaces
    assert [o.starts_at.date() for o in found] == sorted(o.starts_at.date() for o in found)
    # Easter Monday is no Tuesday; Easter Tuesday is no holiday in Hesse: 7 April takes place.
    assert by_day[date(2026, 4, 7)].state == OccurrenceState.REGULAR


@pytest.mark.parametrize(
    "recurrence,weekday,week", [("weekly", 0, None), ("biweekly", 5, None), ("monthly", 2, 3), ("monthly", 4, -1)]
)
def test_the_stored_rule_reads_back_as_the_form_chose_it(recurrence, weekday, week):
    assert rrule_choice(build_rrule(recurrence, weekday, week, date(2026, 2, 1))) == (recurrence, weekday, week)
