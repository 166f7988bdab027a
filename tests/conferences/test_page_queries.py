"""The conference page costs a fixed number of queries, however much the conference holds.

Every action button and every note's edit link asks the policy; the policy's lookups (the
case's team, the partner's invitation and consent) are read once per request.
"""

from datetime import timedelta

from app.clock import berlin_today
from tests.conferences.conftest import future
from tests.conftest import get_counting_queries, login_as, text_of

MAX_QUERIES = 12  # issue 6
STAFF_MAX_QUERIES = MAX_QUERIES + 1  # the invitations' e-mail delivery state (issue 11)
PARTNER_MAX_QUERIES = MAX_QUERIES + 1  # the persons present (issue 13), in one query for all agencies


def _queries(app, client, user, url):
    login_as(client, app, user)
    n, response = get_counting_queries(app, client, url)
    assert response.status_code == 200
    return n, text_of(response)


def _grow(factory, scene, previous, conference, n):
    """``n`` more of everything the page lists: invitations, notes of staff and of the partner,
    measures of this and of the earlier conference, follow-ups."""
    for i in range(n):
        agency = factory.agency(f"Beratungsstelle {i}-{factory.n}")
        factory.consent(scene.case, agency)
        factory.invitation(conference, agency, status="accepted", user=factory.user("partner", agency=agency))
        factory.note(conference, scene.partner_debt, body=f"Stellungnahme Schuldnerberatung {i}", agency=scene.debt)
        factory.note(conference, scene.caseworker, body=f"Notiz Jobcenter {i}", agency=None, visibility="jobcenter")
        factory.measure(conference, what=f"Maßnahme hier {i}", responsible_kind="agency", agency=scene.debt)
        factory.measure(previous, what=f"Maßnahme zur Überprüfung {i}", due_on=berlin_today() - timedelta(days=i))
        factory.conference(
            scene.case, location=scene.location, starts_at=future(days=40 + i), previous_conference_id=conference.id
        )


def _scenario(factory, scene):
    previous = factory.conference(scene.case, location=scene.location, starts_at=future(days=-20), status="held")
    conference = factory.conference(
        scene.case, location=scene.location, starts_at=future(days=5), previous_conference_id=previous.id
    )
    factory.invitation(conference, scene.debt, status="accepted")
    _grow(factory, scene, previous, conference, 1)
    return previous, conference


def test_staff_page_query_count_does_not_grow(app, client, factory, scene):
    previous, conference = _scenario(factory, scene)
    url = f"/konferenzen/{conference.id}"
    small, _page = _queries(app, client, scene.caseworker, url)
    _grow(factory, scene, previous, conference, 8)
    large, page = _queries(app, client, scene.caseworker, url)
    assert large == small <= STAFF_MAX_QUERIES
    # The larger page does show all of it.
    assert page.count("Notiz Jobcenter") == 9 and page.count("Maßnahme zur Überprüfung") == 9
    assert page.count("Maßnahme hier") == 9 and page.count("Erneut senden") == 10


def test_partner_page_query_count_does_not_grow(app, client, factory, scene):
    previous, conference = _scenario(factory, scene)
    url = f"/konferenzen/{conference.id}"
    small, _page = _queries(app, client, scene.partner_debt, url)
    _grow(factory, scene, previous, conference, 8)
    large, page = _queries(app, client, scene.partner_debt, url)
    assert large == small <= PARTNER_MAX_QUERIES
    # Its own agency's notes, each with its edit link; the Jobcenter's internal notes stay hidden.
    assert page.count("Stellungnahme Schuldnerberatung") == 9 and page.count("Bearbeiten") == 9
    assert "Notiz Jobcenter" not in page and page.count("Maßnahme hier") == 9
