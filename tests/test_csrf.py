"""CSRF on every state-changing route, and no state change on GET.

The routes come from the access matrix (tests/access_matrix.py), whose own test makes
sure every rule of ``app.url_map`` has an entry; this file checks it once more for the
state-changing ones.
"""

import pytest

from tests import access_matrix as m
from tests.conftest import csrf_token, text_of
from tests.dbstate import VISIT_TABLES, differences, snapshot
from tests.test_access_matrix import STATE_CHANGING, app_rules, enter, send

WRITES = [e for e in m.ROUTES if e.method in STATE_CHANGING]
READS = [e for e in m.ROUTES if e.method == "GET"]
# A revoked session is the same as none.
SENDERS = [a for a in m.ACTORS.values() if not a.revoke]


def test_every_state_changing_route_is_checked(app):
    writes = {(method, rule) for method, rule in app_rules(app) if method in STATE_CHANGING}
    checked = {(e.method, e.rule) for e in WRITES}
    assert writes, "no state-changing route found"
    assert writes <= checked, f"state-changing routes without a CSRF check: {sorted(writes - checked)}"


def _sender(entry) -> m.Actor:
    """Who sends the request without a valid token: someone the route would serve.

    Public routes (log-in, password reset) serve the anonymous visitor; the others the
    first actor they let in, so that without the token check the request would succeed.
    Routes that let no one in are sent anonymously.
    """
    if entry.expect.protected:
        for a in SENDERS:
            if a.logged_in and m.allows(entry.expect.outcome(a)):
                return a
    return m.ACTORS["anonymous"]


# One cell per route and token variant. Flask-WTF's CSRFProtect checks every
# state-changing request before any view runs, whoever sends it, so one sender per route
# is enough (before, every actor the route lets in sent both variants: more than three
# times as many cells for the same check).
TOKENS = ("missing", "foreign")
CSRF_CELLS = [(e, _sender(e), t) for e in WRITES for t in TOKENS]


@pytest.mark.parametrize(
    "entry,actor,token", CSRF_CELLS, ids=[f"{e.id} as {a.name}, token {t}" for e, a, t in CSRF_CELLS]
)
def test_write_without_valid_token_is_refused(app, client, factory, entry, actor, token):
    s = m.Scenario(factory)
    enter(client, app, actor, s)
    url = entry.url_for(s)
    data = entry.data(s) if entry.data else {}
    if token == "foreign":
        # A valid token, but of another browser's session.
        data["csrf_token"] = csrf_token(app.test_client(), app)
    before = snapshot(app, exclude=())

    response = client.open(url, method=entry.method, data=data)

    assert response.status_code == 400
    assert "Formular abgelaufen" in text_of(response)
    changed = differences(before, snapshot(app, exclude=()))
    assert not changed, f"a request without a valid CSRF token changed {changed}"


GET_CELLS = [(e, a) for e in READS for a in SENDERS]


@pytest.mark.parametrize("entry,actor", GET_CELLS, ids=[f"{e.id} as {a.name}" for e, a in GET_CELLS])
def test_get_changes_nothing(app, client, factory, entry, actor):
    s = m.Scenario(factory)
    enter(client, app, actor, s)
    entry.url_for(s)  # build the objects first
    may_write = VISIT_TABLES | set(entry.caches)
    before = snapshot(app, exclude=may_write)

    response = send(client, app, entry, s)

    assert response.status_code < 500
    changed = differences(before, snapshot(app, exclude=may_write))
    assert not changed, f"GET {entry.rule} changed {changed}"
