"""Finding a case by its internal reference (issue 13, "Finding things"): only the owning team
finds it, and the term stays out of URLs, the audit trail and the logs."""

import logging
import re

from sqlalchemy import select

from app.audit import AuditEntry
from app.cases.services import reference_key
from tests.conftest import login_as, post

REFERENCE = "12345BG0012345"


def _found(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return re.findall(r">(FK-\d{4}-\d{4})</a>", response.get_data(as_text=True))


def _search(client, app, term, **filters):
    return post(client, app, "/faelle", {"suche": term, "status": "alle", **filters})


def test_the_owning_team_finds_a_case_by_its_internal_reference(app, client, factory, team, caseworker, district):
    case = factory.case(team=team, caseworker=caseworker, district=district, internal_reference=REFERENCE)
    other = factory.case(team=team, caseworker=caseworker, district=district, internal_reference="99999BG0000001")
    login_as(client, app, caseworker)

    response = _search(client, app, REFERENCE)
    assert _found(response) == [case.pseudonym]
    # The match says why it was found: the reference, to the owning team.
    assert REFERENCE in response.get_data(as_text=True)
    # Case, spaces and separators do not matter; a part of the reference is enough.
    for term in ("12345bg0012345", "12345 BG 0012345", "12345-BG-0012345", "BG0012345"):
        assert _found(_search(client, app, term)) == [case.pseudonym], term
    # Pseudonyms are still found through the same field.
    assert _found(_search(client, app, other.pseudonym)) == [other.pseudonym]
    # With the other filters: a closed-only search does not list the open case.
    assert _found(_search(client, app, REFERENCE, status="abgeschlossen")) == []


def test_staff_of_another_team_never_find_a_case_by_its_reference(app, client, factory, team, caseworker, district):
    case = factory.case(team=team, caseworker=caseworker, district=district, internal_reference=REFERENCE)
    for role in ("caseworker", "team_lead"):
        stranger = factory.user(role, team=factory.team())
        # Their own team has a case too, so the list they get is not merely empty by accident.
        own = factory.case(caseworker=stranger, district=district, internal_reference="77777BG0000777")
        login_as(client, app, stranger)
        response = _search(client, app, REFERENCE)
        assert _found(response) == []
        page = response.get_data(as_text=True)
        assert case.pseudonym not in page and REFERENCE not in page.replace(f'value="{REFERENCE}"', "")
        assert _found(_search(client, app, "77777BG0000777")) == [own.pseudonym]


def test_a_reference_in_a_query_string_is_not_searched(app, client, factory, team, caseworker, district):
    """Only the posted form matches references: a link never carries one to a result."""
    case = factory.case(team=team, caseworker=caseworker, district=district, internal_reference=REFERENCE)
    login_as(client, app, caseworker)
    assert _found(client.get(f"/faelle?suche={REFERENCE}&status=alle")) == []
    assert _found(client.get(f"/faelle?suche={case.pseudonym}&status=alle")) == [case.pseudonym]


def test_the_search_form_posts_and_its_pages_post_too(app, client, factory, team, caseworker, district, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    cases = [
        factory.case(team=team, caseworker=caseworker, district=district, internal_reference=f"55555BG000000{i}")
        for i in range(3)
    ]
    login_as(client, app, caseworker)
    page = client.get("/faelle").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/faelle"[^>]*role="search"', page)
    assert form, "the filter form posts"

    first = _search(client, app, "55555BG")
    assert len(_found(first)) == 2
    html = first.get_data(as_text=True)
    # The next page is a form that posts the term again; no link carries it.
    assert 'name="seite" value="2"' in html and 'value="55555BG"' in html
    assert not re.search(r'href="[^"]*55555', html)
    second = _search(client, app, "55555BG", seite="2")
    assert len(_found(second)) == 1
    assert set(_found(first) + _found(second)) == {c.pseudonym for c in cases}


def test_the_term_reaches_neither_the_audit_trail_nor_the_log(
    app, client, session, factory, team, caseworker, district, caplog
):
    factory.case(team=team, caseworker=caseworker, district=district, internal_reference=REFERENCE)
    login_as(client, app, caseworker)
    before = session.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)).scalar() or 0
    with caplog.at_level(logging.DEBUG):
        _search(client, app, REFERENCE)
        _search(client, app, "nichts-gefunden-4711")
    session.commit()
    entries = session.execute(select(AuditEntry).where(AuditEntry.id > before)).scalars().all()
    for entry in entries:
        text = repr((entry.action, entry.object_type, entry.details)).upper()
        assert reference_key(REFERENCE) not in text.replace("-", "") and "4711" not in text
    assert REFERENCE not in caplog.text and "4711" not in caplog.text


def test_reference_key_ignores_case_and_separators():
    assert reference_key(" 12345 bg/00.123-45 ") == "12345BG0012345"
    assert reference_key("") == ""
