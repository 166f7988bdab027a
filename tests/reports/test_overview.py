"""The team lead's overview: right figures for the own team only, a fixed number of queries."""

import re
from datetime import timedelta

from app.clock import berlin_today, utcnow
from tests.conftest import get_counting_queries, login_as


def _team_with_data(factory, team):
    worker = factory.user("caseworker", team=team, name="Karla Fallmanagerin")
    open_case = factory.case(caseworker=worker)
    factory.case(caseworker=worker, status="closed", closed_at=utcnow() - timedelta(days=10))
    soon = factory.conference(open_case, starts_at=utcnow() + timedelta(days=3), organiser=worker)
    held = factory.conference(open_case, starts_at=utcnow() - timedelta(days=5), status="held", organiser=worker)
    factory.measure(held, due_on=berlin_today() - timedelta(days=2))
    factory.measure(held, due_on=berlin_today() - timedelta(days=2), status="done")
    factory.measure(soon, due_on=berlin_today() + timedelta(days=9))
    return worker, held


def test_team_lead_sees_own_team_figures(app, client, factory):
    team = factory.team("Team Nord")
    lead = factory.user("team_lead", team=team)
    worker, held = _team_with_data(factory, team)
    _team_with_data(factory, factory.team("Team Süd"))  # must not be counted
    login_as(client, app, lead)
    r = client.get("/team")
    assert r.status_code == 200
    page = " ".join(re.sub(r"<[^>]+>", " ", r.get_data(as_text=True)).split())
    assert "Teamübersicht" in page
    assert "Offene Fälle</dt>" in r.get_data(as_text=True)
    assert "Karla Fallmanagerin 1 1 1" in page  # open cases, conferences in 30 days, overdue measures
    assert "In den letzten 12 Monaten abgeschlossene Fälle 1" in page
    assert "Überfällige Maßnahmen offener Fälle 1" in page
    assert f"/konferenzen/{held.id}/protokoll" in r.get_data(as_text=True)


def test_caseworker_is_refused(app, client, factory):
    login_as(client, app, factory.user("caseworker"))
    assert client.get("/team").status_code == 403


def test_query_count_does_not_grow_with_data(app, client, factory):
    team = factory.team()
    lead = factory.user("team_lead", team=team)
    login_as(client, app, lead)

    def queries():
        n, response = get_counting_queries(app, client, "/team")
        assert response.status_code == 200
        return n

    _team_with_data(factory, team)
    small = queries()
    for _ in range(5):
        _team_with_data(factory, team)
    assert queries() == small
