"""The team overview counts conferences and measures only up to a limit and then says
"more than"; the case figures stay exact."""
import re
from datetime import timedelta

from app.db import utcnow
from app.filters import berlin_today
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
    login_as(client, app, lead)
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get("/team").get_data(as_text=True)).split())
    assert "Offene Fälle 3" in page  # exact
    assert "Fallkonferenzen in den nächsten 30 Tagen mehr als 2" in page
    assert "In den letzten 30 Tagen durchgeführt mehr als 2" in page
    assert "Überfällige Maßnahmen offener Fälle mehr als 2" in page
    assert "Karla Fallmanagerin 3 mehr als 2 mehr als 2" in page
