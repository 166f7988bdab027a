"""Page numbers from the query string (issue 10, finding 2): one reader, clamped, never a 500."""

import pytest

from app import db
from tests.conftest import login_as

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "raw, page",
    [
        (None, 1),
        ("", 1),
        ("abc", 1),
        ("0", 1),
        ("-7", 1),
        ("3", 3),
        (HUGE, db.MAX_PAGE),
        ("-" + HUGE, 1),
        (str(db.MAX_PAGE + 1), db.MAX_PAGE),
        ("9" * 5000, 1),
        ("%ff", 1),
    ],
)
def test_requested_page_is_clamped(app, raw, page):
    query = "" if raw is None else f"?seite={raw}"
    with app.test_request_context(f"/faelle{query}"):
        assert db.requested_page() == page


STAFF_PAGES = ["/faelle", "/konferenzen", "/konferenzen?zeitraum=vergangen", "/"]


@pytest.mark.parametrize(
    "role, url, params",
    [
        *[("caseworker", url, ("seite",)) for url in STAFF_PAGES[:3]],
        ("team_lead", "/", ("seite_upcoming", "seite_unanswered", "seite_measures", "seite_without_follow_up")),
        ("partner", "/", ("seite_upcoming", "seite_awaiting", "seite_measures")),
        ("admin", "/verwaltung/benutzer", ("seite",)),
    ],
)
def test_huge_page_numbers_answer_with_the_deepest_page(app, client, factory, role, url, params):
    login_as(client, app, factory.user(role))
    join = "&" if "?" in url else "?"
    for value in (HUGE, "-" + HUGE, str(2**63)):
        query = "&".join(f"{name}={value}" for name in params)
        r = client.get(f"{url}{join}{query}")
        assert r.status_code == 200, (url, value)
