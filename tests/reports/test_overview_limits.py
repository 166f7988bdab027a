"""The team overview counts each figure only up to a limit and then says "more than"."""

import re
from datetime import timedelta

from app.clock import berlin_today, utcnow
from app.reports import services
from tests.conftest import login_as


def test_figures_beyond_the_limit_say_more_than(app, client, monkeypatch, factory):
    team = factory.team("Team Nord")
    lead = factory.user("team_lead", team=team)
    worker = factory.user("caseworker", team=team, name="Karla Fallmanagerin")
    for i in range(3):
        case = factory.case(caseworker=worker)
        factory.conference(case, starts_at=utcnow() + timedelta(days=3 + i), organiser=worker)
        held = factory.conference(case, starts_at=utcnow() - timedelta(days=5 + i), status="held", organiser=worker)
        factory.measure(held, due_on=berlin_today() - timedelta(days=2))
    monkeypatch.setattr(services, "COUNT_LIMIT", 2)
    monkeypatch.setattr(services, "CASE_COUNT_LIMIT", 3)
    login_as(client, app, lead)
    page = _text(client.get("/team"))
    assert "Offene Fälle 3" in page  # up to its limit: exact
    assert "Fallkonferenzen in den nächsten 30 Tagen mehr als 2" in page
    assert "In den letzten 30 Tagen durchgeführt mehr als 2" in page
    assert "Überfällige Maßnahmen offener Fälle mehr als 2" in page
    assert "Karla Fallmanagerin 3 mehr als 2 mehr als 2" in page

    monkeypatch.setattr(services, "CASE_COUNT_LIMIT", 2)
    page = _text(client.get("/team"))
    assert "Offene Fälle mehr als 2" in page and "Karla Fallmanagerin mehr als 2 mehr als 2 mehr als 2" in page


def _text(response):
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())
