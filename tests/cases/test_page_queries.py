"""The case page costs a fixed number of queries, however long the case's history."""

from datetime import timedelta

from app.cases.models import CaseObstacle
from app.clock import berlin_today, utcnow
from tests.conftest import get_counting_queries, login_as, text_of

MAX_QUERIES = 12  # issue 6


def _queries(app, client, user, url):
    login_as(client, app, user)
    n, response = get_counting_queries(app, client, url)
    assert response.status_code == 200
    return n, text_of(response)


def _grow(factory, session, case, caseworker, n):
    """``n`` more agencies with consents (one withdrawn by a colleague), conferences with notes and measures."""
    colleague = factory.user("caseworker", team=None)
    for i in range(n):
        agency = factory.agency(f"Beratungsstelle {i}-{factory.n}")
        factory.consent(case, agency, withdrawn_on=berlin_today() if i % 2 else None, recorded_by=colleague)
        conference = factory.conference(case, starts_at=utcnow() - timedelta(days=30 + i), status="held")
        factory.note(conference, factory.user("partner", agency=agency), body=f"Stellungnahme {i}")
        factory.measure(conference, what=f"Maßnahme {i}")
    return colleague


def test_case_page_query_count_does_not_grow(app, client, session, factory, caseworker, district):
    case = factory.case(caseworker=caseworker, district=district)
    session.add(CaseObstacle(case_id=case.id, obstacle="debt"))
    session.commit()
    url = f"/faelle/{case.id}"
    empty, _page = _queries(app, client, caseworker, url)
    _grow(factory, session, case, caseworker, 1)
    small, _page = _queries(app, client, caseworker, url)
    colleague = _grow(factory, session, case, caseworker, 8)
    large, page = _queries(app, client, caseworker, url)
    assert empty == small == large <= MAX_QUERIES
    assert page.count("Stellungnahme ") == 9 and page.count("Maßnahme ") >= 9
    assert "Nordend" in page and "Clara Fallmanagerin" in page and "Schulden" in page
    assert colleague.name in page  # who recorded the consents, in their history
