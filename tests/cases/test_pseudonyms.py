"""Pseudonyms FK-<year>-<nnnn>: generated, unique under concurrency, never reused."""

import threading

import pytest
from sqlalchemy import select

from app import db
from app.cases import services
from app.cases.models import Case, PseudonymCounter
from app.clock import berlin_today
from tests.cases.conftest import in_request

DATA = {
    "district_id": None,
    "age_band": "u25",
    "household_type": "single",
    "obstacles": [],
    "summary": "Sucht Ausbildungsplatz.",
    "goals": "",
    "internal_reference": "",
}


def _open(session, actor, district):
    return services.open_case(session, actor, {**DATA, "district_id": district.id})


def test_numbers_count_up_per_year(app, session):
    with in_request(app, session):
        assert [services.next_pseudonym(session, 2026) for _ in range(3)] == [
            "FK-2026-0001",
            "FK-2026-0002",
            "FK-2026-0003",
        ]
        assert services.next_pseudonym(session, 2027) == "FK-2027-0001"
        assert services.next_pseudonym(session, 2026) == "FK-2026-0004"


def test_more_than_four_digits_keep_the_pattern(app, session):
    session.add(PseudonymCounter(year=2026, last_number=9999))
    session.commit()
    with in_request(app, session):
        assert services.next_pseudonym(session, 2026) == "FK-2026-10000"


def test_never_reused_after_deletion(app, session, caseworker, district):
    with in_request(app, session):
        first = _open(session, caseworker, district)
        number = first.pseudonym
    session.delete(first)
    session.commit()
    with in_request(app, session):
        second = _open(session, caseworker, district)
    assert second.pseudonym != number and second.pseudonym[-4:] == "0002"


def test_pseudonym_taken_by_another_way_is_skipped(app, session, factory, caseworker, district):
    with in_request(app, session):
        year = int(_open(session, caseworker, district).pseudonym[3:7])
    imported = factory.case(team=None, caseworker=caseworker, district=district)
    imported.pseudonym = f"FK-{year}-0002"
    session.commit()
    with in_request(app, session):
        assert _open(session, caseworker, district).pseudonym == f"FK-{year}-0003"


@pytest.mark.committed
@pytest.mark.parametrize("first_of_year", [True, False], ids=["first-of-year", "counter-exists"])
def test_cases_opened_at_the_same_moment_get_different_pseudonyms(app, session, caseworker, district, first_of_year):
    """Several requests, each with its own session and connection, open a case at once."""
    if not first_of_year:
        session.add(PseudonymCounter(year=berlin_today().year, last_number=0))
        session.commit()
    workers = 6
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def open_one():
        try:
            with app.test_request_context():
                s = db.get_session()
                barrier.wait()
                case = _open(s, caseworker, district)
                s.commit()
                results.append(case.pseudonym)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=open_one) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(results) == workers and len(set(results)) == workers
    session.expire_all()
    stored = sorted(session.execute(select(Case.pseudonym)).scalars())
    assert stored == sorted(results)
    assert sorted(int(p[-4:]) for p in stored) == list(range(1, workers + 1))
