"""A partner's history (issue 13): the conferences its agency was invited to, with the minutes
it may read, only while the consent is valid now (DESIGN.md section 4), paged."""

import re
from datetime import timedelta

from sqlalchemy import select

from app.clock import berlin_today
from app.conferences.models import Conference
from app.minutes.models import Minutes
from app.permissions import can
from tests.conferences.conftest import future
from tests.conftest import counted_statements, login_as, text_of


def _listed(client) -> list[int]:
    response = client.get("/konferenzen/verlauf")
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'href="/konferenzen/(\d+)"', response.get_data(as_text=True))]


def _minutes(factory, conference, **kw):
    m = Minutes(conference_id=conference.id, **kw)
    factory._save(m)
    return m


def test_the_history_lists_what_the_policy_lets_the_agency_see(app, client, factory, scene):
    today = berlin_today()
    past = factory.conference(scene.case, location=scene.location, starts_at=future(days=-30), status="closed")
    factory.invitation(past, scene.debt, status="accepted")
    upcoming = factory.conference(scene.case, location=scene.location, starts_at=future(days=5))
    factory.invitation(upcoming, scene.debt)
    declined = factory.conference(scene.case, location=scene.location, starts_at=future(days=-10), status="held")
    factory.invitation(declined, scene.debt, status="declined")
    withdrawn = factory.conference(scene.case, location=scene.location, starts_at=future(days=-20), status="held")
    factory.invitation(withdrawn, scene.debt, status="cancelled")
    not_invited = factory.conference(scene.case, location=scene.location, starts_at=future(days=-15), status="held")
    factory.invitation(not_invited, scene.health, status="accepted")
    # A case whose consent for the agency was withdrawn, and one whose consent expired.
    withdrawn_case = factory.case(caseworker=scene.caseworker)
    factory.consent(withdrawn_case, scene.debt, withdrawn_on=today - timedelta(days=1))
    ended = factory.conference(withdrawn_case, location=scene.location, starts_at=future(days=-40), status="closed")
    factory.invitation(ended, scene.debt, status="accepted")
    expired_case = factory.case(caseworker=scene.caseworker)
    factory.consent(
        expired_case, scene.debt, signed_on=today - timedelta(days=400), valid_until=today - timedelta(days=1)
    )
    expired = factory.conference(expired_case, location=scene.location, starts_at=future(days=-50), status="closed")
    factory.invitation(expired, scene.debt, status="accepted")
    login_as(client, app, scene.partner_debt)

    listed = _listed(client)
    assert listed == [upcoming.id, declined.id, past.id]  # latest first
    # Exactly the conferences the policy lets the partner open: no more, no fewer.
    factory.s.commit()
    with app.test_request_context():
        allowed = {
            c.id
            for c in factory.s.execute(select(Conference)).scalars()
            if can(scene.partner_debt, "conference.view", c)
        }
    assert set(listed) == allowed
    body = text_of(client.get("/konferenzen/verlauf"))
    assert scene.case.internal_reference not in body and withdrawn_case.pseudonym not in body
    assert expired_case.pseudonym not in body
    # Another agency sees its own.
    login_as(client, app, scene.partner_health)
    assert _listed(client) == [not_invited.id]


def test_the_history_offers_the_minutes_the_agency_may_read(app, client, factory, scene):
    today = berlin_today()
    closed = factory.conference(scene.case, location=scene.location, starts_at=future(days=-30), status="closed")
    factory.invitation(closed, scene.debt, status="accepted")
    replaced = _minutes(factory, closed, version_number=1, status="replaced")
    final = _minutes(factory, closed, version_number=2, status="final", replaces_id=replaced.id)
    shared = factory.conference(scene.case, location=scene.location, starts_at=future(days=-5), status="held")
    factory.invitation(shared, scene.debt, status="accepted")
    draft = _minutes(factory, shared, comments_until=today + timedelta(days=3))
    unshared = factory.conference(scene.case, location=scene.location, starts_at=future(days=-8), status="held")
    factory.invitation(unshared, scene.debt, status="accepted")
    unshared_draft = _minutes(factory, unshared)
    late = factory.conference(scene.case, location=scene.location, starts_at=future(days=-9), status="held")
    factory.invitation(late, scene.debt, status="accepted")
    late_draft = _minutes(factory, late, comments_until=today - timedelta(days=1))
    login_as(client, app, scene.partner_debt)

    html = client.get("/konferenzen/verlauf").get_data(as_text=True)
    assert f"/protokolle/{final.id}/pdf" in html and f"/protokolle/{replaced.id}/pdf" not in html
    assert f"/konferenzen/{shared.id}/protokoll" in html and "Entwurf zur Anmerkung bis" in html
    assert f"/konferenzen/{unshared.id}/protokoll" not in html  # a draft not shared is the Jobcenter's
    assert f"/konferenzen/{late.id}/protokoll" not in html  # the comment period is over
    assert unshared_draft.id and late_draft.id and draft.id
    assert html.count("liegt noch nicht vor") == 2
    # The download it links to is one the policy allows.
    with app.test_request_context():
        assert can(scene.partner_debt, "minutes.download", final)


def test_the_history_pages_in_a_fixed_number_of_queries(app, client, factory, scene):
    def fill(n):
        for i in range(n):
            case = factory.case(caseworker=scene.caseworker)
            factory.consent(case, scene.debt)
            conf = factory.conference(case, location=scene.location, starts_at=future(days=-i - 1), status="closed")
            factory.invitation(conf, scene.debt, status="accepted")
            _minutes(factory, conf, status="final")

    def queries():
        with counted_statements(app) as statements:
            response = client.get("/konferenzen/verlauf")
        assert response.status_code == 200
        return len(statements), response

    login_as(client, app, scene.partner_debt)
    fill(2)
    small, _response = queries()
    fill(40)
    large, response = queries()
    assert small == large
    assert "Nächste Seite" in text_of(response)
    second = client.get("/konferenzen/verlauf?seite=2")
    assert "Vorherige Seite" in text_of(second) and len(re.findall(r"/protokolle/\d+/pdf", second.get_data(True))) == 17


def test_partners_reach_their_history_from_the_start_page_and_the_navigation(app, client, factory, scene):
    login_as(client, app, scene.partner_debt)
    html = client.get("/").get_data(as_text=True)
    assert html.count('href="/konferenzen/verlauf"') == 2
    assert "Ihre Einrichtung ist zu keiner Fallkonferenz eingeladen" in text_of(client.get("/konferenzen/verlauf"))
    login_as(client, app, scene.caseworker)
    assert client.get("/konferenzen/verlauf").status_code == 403
    assert 'href="/konferenzen/verlauf"' not in client.get("/").get_data(as_text=True)
