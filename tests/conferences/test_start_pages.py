"""Start pages: the staff's and the partner's lists, paginated, in a fixed number of queries."""

from datetime import timedelta

from app.clock import berlin_today, utcnow
from tests.conferences.conftest import future
from tests.conftest import counted_statements, login_as, text_of


def _fill(factory, scene, n):
    """``n`` of everything on both start pages."""
    today = berlin_today()
    for i in range(n):
        case = factory.case(caseworker=scene.caseworker, district=factory.district(f"Bezirk {i}-{factory.n}"))
        factory.consent(case, scene.debt)
        conf = factory.conference(case, location=scene.location, starts_at=future(days=3 + i))
        factory.invitation(conf, scene.debt)
        held = factory.conference(case, location=scene.location, starts_at=future(days=-10 - i), status="held")
        factory.invitation(held, scene.debt, status="accepted")
        factory.measure(
            held, what=f"Maßnahme {i}", responsible_kind="agency", agency=scene.debt, due_on=today - timedelta(days=1)
        )
        factory.case(caseworker=scene.caseworker)  # open, nothing planned


def _queries(app, client, user):
    login_as(client, app, user)
    with counted_statements(app) as statements:
        response = client.get("/")
    assert response.status_code == 200
    return len(statements), response


def test_query_count_does_not_grow_with_the_data(app, client, session, factory, scene):
    _fill(factory, scene, 1)
    staff_small, _ = _queries(app, client, scene.caseworker)
    partner_small, _ = _queries(app, client, scene.partner_debt)
    _fill(factory, scene, 30)
    staff_large, staff_page = _queries(app, client, scene.caseworker)
    partner_large, partner_page = _queries(app, client, scene.partner_debt)
    assert (staff_small, partner_small) == (staff_large, partner_large)
    # Each list shows one page (PAGE_SIZE 25) and offers the next: on the staff's page also the
    # minutes to write (the held conferences the caseworker moderated).
    assert text_of(staff_page).count("Nächste Seite") == 5
    assert text_of(partner_page).count("Nächste Seite") == 3
    second = client.get("/?seite_measures=2")
    assert second.status_code == 200 and "Vorherige Seite" in text_of(second)


def test_staff_start_page_lists(app, client, session, factory, scene):
    today = berlin_today()
    upcoming = factory.conference(scene.case, location=scene.location, starts_at=future(days=4), occasion="Planung A")
    factory.invitation(upcoming, scene.debt)
    factory.invitation(upcoming, scene.health, status="accepted")
    held = factory.conference(scene.case, location=scene.location, starts_at=future(days=-9), status="held")
    factory.measure(held, what="Überfällige Sache", due_on=today - timedelta(days=2))
    factory.measure(held, what="Bald fällige Sache", due_on=today + timedelta(days=5))
    factory.measure(held, what="Ferne Sache", due_on=today + timedelta(days=40))
    factory.measure(held, what="Erledigte Sache", due_on=today - timedelta(days=2), status="done")
    lonely = factory.case(caseworker=scene.caseworker)
    closed = factory.case(caseworker=scene.caseworker, status="closed")
    other_team = factory.case()
    factory.conference(other_team, location=scene.location, starts_at=future(days=2), occasion="Fremdes Team")
    for user in (scene.caseworker, scene.team_lead):
        login_as(client, app, user)
        body = text_of(client.get("/"))
        assert "Anstehende Fallkonferenzen Ihres Teams" in body and "Planung A" in body
        assert "Fremdes Team" not in body and other_team.pseudonym not in body
        assert "Unbeantwortete Einladungen" in body and "Schuldnerberatung" in body
        assert "Gesundheitsamt" not in body  # answered
        assert "Überfällige Sache" in body and "überfällig" in body and "Bald fällige Sache" in body
        assert "Ferne Sache" not in body and "Erledigte Sache" not in body
        assert "Offene Fälle ohne geplante Fallkonferenz" in body
        assert lonely.pseudonym in body and closed.pseudonym not in body
        assert body.count(scene.case.pseudonym) >= 1
        assert scene.case.internal_reference not in body


def test_partner_start_page_lists_only_what_the_agency_may_see(app, client, session, factory, scene):
    today = berlin_today()
    mine = factory.conference(scene.case, location=scene.location, starts_at=future(days=4))
    factory.invitation(mine, scene.debt)
    answered = factory.conference(scene.case, location=scene.location, starts_at=future(days=6))
    factory.invitation(answered, scene.debt, status="accepted")
    not_invited = factory.conference(scene.case, location=scene.location, starts_at=future(days=5))
    withdrawn_case = factory.case(caseworker=scene.caseworker)
    factory.consent(withdrawn_case, scene.debt, withdrawn_on=today)
    hidden = factory.conference(withdrawn_case, location=scene.location, starts_at=future(days=3))
    factory.invitation(hidden, scene.debt, status="accepted")
    held = factory.conference(scene.case, location=scene.location, starts_at=future(days=-9), status="held")
    factory.invitation(held, scene.debt, status="accepted")
    factory.measure(held, what="Unsere Aufgabe", responsible_kind="agency", agency=scene.debt, due_on=today)
    factory.measure(held, what="Aufgabe des Jobcenters", due_on=today)
    hidden_held = factory.conference(withdrawn_case, location=scene.location, starts_at=future(days=-9), status="held")
    factory.invitation(hidden_held, scene.debt, status="accepted")
    factory.measure(hidden_held, what="Verborgene Aufgabe", responsible_kind="agency", agency=scene.debt, due_on=today)
    login_as(client, app, scene.partner_debt)
    response = client.get("/")
    html = response.get_data(as_text=True)
    body = text_of(response)
    assert "Einladungen, die auf Ihre Antwort warten" in body
    assert f"/konferenzen/{mine.id}#antwort" in html
    assert f"/konferenzen/{answered.id}#antwort" not in html and f"/konferenzen/{answered.id}" in html
    assert f"/konferenzen/{not_invited.id}" not in html
    assert f"/konferenzen/{hidden.id}" not in html and withdrawn_case.pseudonym not in body
    assert "Unsere Aufgabe" in body and "Aufgabe des Jobcenters" not in body and "Verborgene Aufgabe" not in body
    assert scene.case.internal_reference not in body and "Nordend" in body
    # A partner of an agency without invitations sees empty lists.
    login_as(client, app, scene.partner_other)
    body = text_of(client.get("/"))
    assert "Keine offenen Einladungen." in body and "Keine offenen Maßnahmen." in body
    assert utcnow()  # the page renders without any case of its own


def test_team_conference_list_upcoming_and_past(app, client, session, factory, scene):
    soon = factory.conference(scene.case, location=scene.location, starts_at=future(days=2))
    past = factory.conference(scene.case, location=scene.location, starts_at=future(days=-20), status="held")
    foreign = factory.conference(factory.case(), location=scene.location, starts_at=future(days=3))
    login_as(client, app, scene.caseworker)
    upcoming = client.get("/konferenzen").get_data(as_text=True)
    assert f"/konferenzen/{soon.id}" in upcoming and f"/konferenzen/{past.id}" not in upcoming
    assert f"/konferenzen/{foreign.id}" not in upcoming
    assert 'href="/konferenzen"' in upcoming  # in the navigation
    earlier = client.get("/konferenzen?zeitraum=vergangen").get_data(as_text=True)
    assert f"/konferenzen/{past.id}" in earlier and f"/konferenzen/{soon.id}" not in earlier
    login_as(client, app, scene.partner_debt)
    assert client.get("/konferenzen").status_code == 403
