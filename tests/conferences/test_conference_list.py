"""The team's conference list with filters, the week view, the measure list, and the team
overview's figures linking to the lists behind them (issue 13, "Finding things")."""

import re
from datetime import date, datetime, time, timedelta

from app.clock import berlin_today, local_to_utc, utcnow
from tests.conferences.conftest import future
from tests.conftest import counted_statements, login_as, text_of


def _at(day: date, hour=10):
    return local_to_utc(datetime.combine(day, time(hour)))


def _listed(client, url) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [int(i) for i in re.findall(r'href="/konferenzen/(\d+)"', response.get_data(as_text=True))]


def test_filters_narrow_the_teams_list(app, client, factory, scene):
    other_district = factory.district("Lauterborn")
    other_case = factory.case(caseworker=scene.caseworker, district=other_district)
    other_place = factory.location("Stadtteilbüro Lauterborn")
    colleague = factory.user("caseworker", team=scene.team, name="Kollegin")
    today = berlin_today()
    soon = factory.conference(scene.case, location=scene.location, starts_at=future(days=3))
    later = factory.conference(other_case, location=other_place, starts_at=future(days=20), organiser=colleague)
    held = factory.conference(scene.case, location=scene.location, starts_at=future(days=-5), status="held")
    cancelled = factory.conference(scene.case, location=scene.location, starts_at=future(days=8), status="cancelled")
    foreign = factory.conference(factory.case(district=other_district), location=other_place, starts_at=future(days=4))
    login_as(client, app, scene.caseworker)

    assert _listed(client, "/konferenzen") == [soon.id, cancelled.id, later.id]  # upcoming, soonest first
    assert _listed(client, "/konferenzen?zeitraum=vergangen") == [held.id]
    assert set(_listed(client, "/konferenzen?zeitraum=alle")) == {soon.id, later.id, held.id, cancelled.id}
    assert _listed(client, "/konferenzen?zeitraum=alle&status=cancelled") == [cancelled.id]
    assert _listed(client, f"/konferenzen?zeitraum=alle&ort={other_place.id}") == [later.id]
    assert _listed(client, f"/konferenzen?zeitraum=alle&stadtteil={other_district.id}") == [later.id]
    assert _listed(client, f"/konferenzen?zeitraum=alle&moderation={colleague.id}") == [later.id]
    # A date range in Berlin days, both ends included; the German way of writing dates too.
    first, last = today + timedelta(days=2), today + timedelta(days=9)
    assert _listed(client, f"/konferenzen?zeitraum=alle&von={first.isoformat()}&bis={last.isoformat()}") == [
        soon.id,
        cancelled.id,
    ]
    assert _listed(client, f"/konferenzen?zeitraum=alle&von={first:%d.%m.%Y}&bis={last:%d.%m.%Y}") == [
        soon.id,
        cancelled.id,
    ]
    assert foreign.id not in _listed(client, "/konferenzen?zeitraum=alle")


def test_bad_filters_are_refused_in_german_with_the_input_kept(app, client, scene):
    login_as(client, app, scene.caseworker)
    today = berlin_today()
    response = client.get(f"/konferenzen?von={today.isoformat()}&bis={(today - timedelta(days=1)).isoformat()}")
    assert response.status_code == 400
    assert "Das Ende des Zeitraums liegt vor seinem Beginn." in text_of(response)
    response = client.get("/konferenzen?von=31.02.2026&status=erfunden&ort=abc")
    assert response.status_code == 400
    assert 'value="31.02.2026"' in response.get_data(as_text=True)
    assert client.get("/konferenzen/woche?datum=gestern").status_code == 400


def test_the_list_pages_in_a_fixed_number_of_queries(app, client, factory, scene):
    def fill(n):
        for i in range(n):
            factory.conference(scene.case, location=scene.location, starts_at=future(days=1 + i + factory.n))

    def queries():
        with counted_statements(app) as statements:
            response = client.get("/konferenzen?zeitraum=alle")
        assert response.status_code == 200
        return len(statements), response

    login_as(client, app, scene.caseworker)
    fill(2)
    small, _response = queries()
    fill(40)
    large, response = queries()
    assert small == large
    assert "Nächste Seite" in text_of(response)
    assert len(_listed(client, "/konferenzen?zeitraum=alle")) == app.config["PAGE_SIZE"]


def test_the_week_view_shows_each_day_of_the_week(app, client, factory, scene):
    monday = berlin_today() - timedelta(days=berlin_today().weekday()) + timedelta(days=7)
    tuesday = factory.conference(scene.case, location=scene.location, starts_at=_at(monday + timedelta(days=1), 9))
    sunday = factory.conference(scene.case, location=scene.location, starts_at=_at(monday + timedelta(days=6), 23))
    next_monday = factory.conference(scene.case, location=scene.location, starts_at=_at(monday + timedelta(days=7), 0))
    foreign = factory.conference(factory.case(), location=scene.location, starts_at=_at(monday + timedelta(days=2)))
    login_as(client, app, scene.caseworker)

    response = client.get(f"/konferenzen/woche?datum={(monday + timedelta(days=3)).isoformat()}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    days = re.findall(r'<section class="week__day[^"]*" aria-labelledby="tag-(\d)">(.*?)</section>', html, re.S)
    assert len(days) == 7
    by_day = {int(n): body for n, body in days}
    assert f"/konferenzen/{tuesday.id}" in by_day[2] and "09:00" in by_day[2]
    assert f"/konferenzen/{sunday.id}" in by_day[7] and "23:00" in by_day[7]
    assert f"/konferenzen/{next_monday.id}" not in html and f"/konferenzen/{foreign.id}" not in html
    assert "2 Fallkonferenzen in dieser Woche." in text_of(response)
    # Week to week without JavaScript: links to the neighbouring weeks.
    assert f'href="/konferenzen/woche?datum={(monday + timedelta(days=7)).isoformat()}"' in html
    assert f"/konferenzen/{next_monday.id}" in client.get(
        f"/konferenzen/woche?datum={(monday + timedelta(days=7)).isoformat()}"
    ).get_data(as_text=True)
    # One conference: the singular.
    factory.s.delete(sunday)
    factory.s.flush()
    assert "1 Fallkonferenz in dieser Woche." in text_of(client.get(f"/konferenzen/woche?datum={monday.isoformat()}"))


def test_the_measure_list_shows_open_measures_of_open_cases(app, client, factory, scene):
    today = berlin_today()
    colleague = factory.user("caseworker", team=scene.team)
    their_case = factory.case(caseworker=colleague)
    held = factory.conference(scene.case, location=scene.location, starts_at=future(days=-9), status="held")
    theirs = factory.conference(their_case, location=scene.location, starts_at=future(days=-9), status="held")
    overdue = factory.measure(held, what="Überfällig", due_on=today - timedelta(days=1))
    due = factory.measure(held, what="Offen", due_on=today + timedelta(days=30))
    factory.measure(held, what="Erledigt", due_on=today - timedelta(days=1), status="done")
    their_overdue = factory.measure(theirs, what="Kollegin", due_on=today - timedelta(days=3))
    login_as(client, app, scene.team_lead)

    def shown(url):
        return re.findall(r'/massnahmen/(\d+)"', client.get(url).get_data(as_text=True))

    assert shown("/massnahmen") == [str(their_overdue.id), str(overdue.id), str(due.id)]
    assert shown("/massnahmen?stand=ueberfaellig") == [str(their_overdue.id), str(overdue.id)]
    assert shown(f"/massnahmen?stand=ueberfaellig&fachkraft={colleague.id}") == [str(their_overdue.id)]


def test_every_figure_of_the_team_overview_links_to_a_list_of_as_many(app, client, factory, scene):
    today, now = berlin_today(), utcnow()
    closed = factory.case(caseworker=scene.caseworker, status="closed", closed_at=now - timedelta(days=20))
    factory.case(caseworker=scene.caseworker, status="closed", closed_at=now - timedelta(days=400))
    for days in (2, 12, 40):
        factory.conference(scene.case, location=scene.location, starts_at=future(days=days))
    for days in (-3, -20, -45):
        held = factory.conference(scene.case, location=scene.location, starts_at=future(days=days), status="held")
        factory.measure(held, due_on=today - timedelta(days=1))
        factory.measure(held, due_on=today + timedelta(days=3))
    factory.conference(closed, location=scene.location, starts_at=future(days=-2), status="held")
    login_as(client, app, scene.team_lead)
    html = client.get("/team").get_data(as_text=True)
    links = re.findall(r'<a class="kern-link" href="([^"]+)">(\d+)</a>', html)
    assert len(links) >= 5 + 3  # the key figures, and per person
    for url, number in links:
        url = url.replace("&amp;", "&")
        page = client.get(url)
        assert page.status_code == 200, url
        rows = re.findall(r'<tr class="kern-table__row">\s*<td', page.get_data(as_text=True))
        assert len(rows) == int(number), (url, number)
