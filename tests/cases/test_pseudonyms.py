"""Pseudonyms FK-<year>-<nnnn>: generated, unique under concurrency, never reused."""

import threading

import pytest
from sqlalchemy import select

from app import db, high_water
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


# --- several application servers (issue 17) ----------------------------------------------


def _second_server(app, mark_file):
    """Another application server on the same database, with the given high-water file."""
    from app import create_app

    return create_app({**app.config, "PSEUDONYM_HIGH_WATER": str(mark_file)})


@pytest.mark.committed
def test_two_servers_sharing_the_mark_never_hand_out_a_number_twice(app, session, caseworker, district):
    """Both servers write the one high-water file (shared storage) while opening cases at once:
    every number once, and the file holds the highest."""
    other = _second_server(app, app.config["PSEUDONYM_HIGH_WATER"])
    per_server = 4
    barrier = threading.Barrier(2 * per_server)
    results, errors = [], []

    def open_one(server):
        try:
            with server.test_request_context():
                s = db.get_session()
                barrier.wait()
                case = _open(s, caseworker, district)
                s.commit()
                results.append(case.pseudonym)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=open_one, args=(server,)) for server in (app, other) * per_server]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with other.app_context():
        db.engine().dispose()
    assert not errors
    assert len(set(results)) == len(results) == 2 * per_server
    year = int(results[0][3:7])
    assert high_water.read(app.config["PSEUDONYM_HIGH_WATER"])[year] == max(int(p[8:]) for p in results)


@pytest.mark.committed
def test_a_server_with_a_mark_of_its_own_notices_and_catches_up(app, session, caseworker, district, tmp_path, caplog):
    """A misconfigured second server (its own file, not the shared one): its first number shows
    that the file missed the other server's numbers; it says so and raises its file."""
    with in_request(app, session):
        first = _open(session, caseworker, district)
        second = _open(session, caseworker, district)
    year = int(first.pseudonym[3:7])
    own_file = tmp_path / "own-high-water.json"
    other = _second_server(app, own_file)
    try:
        with other.test_request_context():
            s = db.get_session()
            with caplog.at_level("WARNING", logger="app.cases.services"):
                third = services.next_pseudonym(s, year)
            s.commit()
    finally:
        with other.app_context():
            db.engine().dispose()
    assert int(third[8:]) == int(second.pseudonym[8:]) + 1
    assert "Hochwassermarke" in caplog.text and "gemeinsam" in caplog.text
    assert high_water.read(own_file)[year] == int(third[8:])
