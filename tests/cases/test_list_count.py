"""The case list counts matching cases only up to a limit: beyond it, it says "more than"
and pages on without a total, so ten years of a team's cases are not counted on every page."""

import re

from app.cases import services
from tests.conftest import login_as, text_of


def _listed(page):
    return re.findall(r">(FK-\d{4}-\d{4})</a>", page)


def test_list_beyond_the_count_limit_says_more_than_and_still_pages(
    app, client, monkeypatch, factory, team, caseworker, district
):
    cases = [factory.case(team=team, caseworker=caseworker, district=district) for _ in range(5)]
    newest_first = [c.pseudonym for c in reversed(cases)]
    login_as(client, app, caseworker)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    monkeypatch.setattr(services, "COUNT_LIMIT", 3)

    first = text_of(client.get("/faelle"))
    assert "Mehr als 3 Fälle, Seite 1" in first and "von" not in first.split("Seite 1")[1][:5]
    assert _listed(first) == newest_first[:2] and "Nächste Seite" in first
    last = text_of(client.get("/faelle?seite=3"))
    assert _listed(last) == newest_first[4:]
    assert "Vorherige Seite" in last and "Nächste Seite" not in last

    # Within the limit the count is exact, with the number of pages.
    monkeypatch.setattr(services, "COUNT_LIMIT", 5)
    assert "5 Fälle, Seite 2 von 3" in text_of(client.get("/faelle?seite=2"))
