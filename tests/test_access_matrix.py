"""Every route × every actor, as declared in tests/access_matrix.py (see its docstring)."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.permissions import can
from tests import access_matrix as m
from tests.conftest import csrf_token, login_as
from tests.dbstate import differences, snapshot

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def app_rules(app) -> set[tuple[str, str]]:
    """(method, rule) for every rule of the app; HEAD and OPTIONS come with GET."""
    return {(method, r.rule) for r in app.url_map.iter_rules() for method in r.methods - {"HEAD", "OPTIONS"}}


def send(client, app, entry: m.Route, s: m.Scenario, *, token=True):
    url = entry.url_for(s)
    data = entry.data(s) if entry.data else {}
    if entry.method in STATE_CHANGING and token:
        data["csrf_token"] = csrf_token(client, app)
    return client.open(url, method=entry.method, data=data if entry.method != "GET" else None)


def enter(client, app, actor: m.Actor, s: m.Scenario):
    """Log the actor in; a revoked actor is then deactivated, keeping its old cookie."""
    user = actor.build(s)
    s.user = user
    if user is None:
        return None
    login_as(client, app, user)
    if actor.revoke:
        from app.accounts import services as accounts

        accounts.deactivate(s.factory.s, user, actor=None)
        s.factory.s.commit()
    return user


def refusals(app, actor_id) -> int:
    from app import db

    with app.app_context():
        return (
            db.get_session()
            .execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "access.refused", AuditEntry.actor_id == actor_id)
            )
            .scalar()
        )


def test_every_route_has_an_entry(app):
    present = app_rules(app)
    declared = {(e.method, e.rule) for e in m.ROUTES}
    missing = sorted(present - declared)
    stale = sorted(declared - present)
    cells = len(m.ROUTES) * len(m.ACTORS)
    print(
        f"\naccess matrix: {len(present)} routes (rule × method), {len(m.ROUTES)} entries, "
        f"{len(m.ACTORS)} actors ({', '.join(m.ACTORS)}), {cells} cells"
    )
    assert not missing, f"routes without an access-matrix entry (add them to tests/access_matrix.py): {missing}"
    assert not stale, f"access-matrix entries for routes that no longer exist: {stale}"


def foreign_internal_references(session, user) -> list[str]:
    """The internal references of all cases, but those of the user's own team if staff."""
    from app.cases.models import Case

    own_team = user.team_id if user is not None and user.role in ("caseworker", "team_lead") else None
    session.commit()  # a fresh read; and no SQLite write lock left behind
    rows = session.execute(
        select(Case.internal_reference, Case.team_id).where(Case.internal_reference.is_not(None))
    ).all()
    session.commit()
    return [ref for ref, team_id in rows if team_id != own_team]


def _view(app, entry):
    rule = next(r for r in app.url_map.iter_rules() if r.rule == entry.rule and entry.method in r.methods)
    return app.view_functions[rule.endpoint]


def test_admin_sees_no_staff_or_partner_page(app):
    """Besides public pages and the own account, admin and staff/partners share no page."""
    admin = m.ACTORS["admin"]
    others = [a for a in m.ACTORS.values() if a.logged_in and a.name != "admin"]
    checked = 0
    for entry in m.ROUTES:
        # Public pages are open to all (their cells prove it); so is the own account.
        if not entry.expect.protected or getattr(_view(app, entry), "authenticated_only", False):
            continue
        checked += 1
        admin_in = m.allows(entry.expect.outcome(admin))
        let_in = [a.name for a in others if m.allows(entry.expect.outcome(a))]
        assert not (admin_in and let_in), f"{entry.id}: admin and {let_in} may both use it"
    assert checked, "no protected route checked"


def test_controlling_shares_no_page_with_caseworkers_or_partners(app):
    """The Steuerung sees aggregated figures only: no route lets it in that lets a caseworker or a
    partner in (no case, conference or minutes page); it shares pages with team leads only where
    both see aggregates (the network report)."""
    controlling = m.ACTORS["controlling"]
    case_readers = [a for a in m.ACTORS.values() if a.logged_in and a.name.startswith(("caseworker", "partner"))]
    allowed = []
    for entry in m.ROUTES:
        if not entry.expect.protected or getattr(_view(app, entry), "authenticated_only", False):
            continue
        if not m.allows(entry.expect.outcome(controlling)):
            continue
        allowed.append(entry.rule)
        let_in = [a.name for a in case_readers if m.allows(entry.expect.outcome(a))]
        assert not let_in, f"{entry.id}: the Steuerung and {let_in} may both use it"
    assert set(allowed) == {"/netzwerkbericht", "/netzwerkbericht/<any(csv, pdf):output>"}


def test_controlling_is_refused_by_case_rules(factory):
    user = factory.user("controlling")
    case = factory.case()
    for action in ("staff.area", "partner.area", "case.list", "case.create", "minutes.export", "team.overview"):
        assert not can(user, action), action
    assert not can(user, "case.view", case) and not can(user, "case.access_report", case)
    assert can(user, "report.network")


def test_admin_is_refused_by_staff_and_partner_rules(factory):
    admin = factory.user("admin")
    assert not can(admin, "staff.area")
    assert not can(admin, "partner.area")


CELLS = [(entry, actor) for entry in m.ROUTES for actor in m.ACTORS.values()]


@pytest.mark.parametrize("entry,actor", CELLS, ids=[f"{e.id} as {a.name}" for e, a in CELLS])
def test_cell(app, client, factory, entry, actor):
    s = m.Scenario(factory)
    user = enter(client, app, actor, s)
    url = entry.url_for(s)
    matched, _args = app.url_map.bind("localhost").match(urlsplit(url).path, method=entry.method, return_rule=True)
    assert matched.rule == entry.rule, f"{url} is served by {matched.rule}, not by {entry.rule}"
    if entry.data:
        entry.data(s)  # build the objects the data names before taking the snapshot
    expected = entry.expect.outcome(actor)
    refused = not m.allows(expected) or (entry.expect.protected and not actor.logged_in)
    before = snapshot(app) if refused else None
    refused_before = refusals(app, user.id) if user is not None else 0

    response = send(client, app, entry, s)

    if isinstance(expected, m.NotFound):
        assert response.status_code == 404
    elif isinstance(expected, m.Redirect):
        assert response.status_code == expected.status, f"expected a redirect to {expected.path(s)}"
        assert urlsplit(response.location).path == expected.path(s)
    else:
        assert response.status_code == expected
    body = response.get_data()
    leaked = [
        ref for ref in foreign_internal_references(factory.s, user if actor.logged_in else None) if ref.encode() in body
    ]
    assert not leaked, "a case's internal reference reached someone outside the owning team"
    if refused:
        changed = differences(before, snapshot(app))
        assert not changed, f"a refused request changed {changed}"
    if expected in m.REFUSALS and actor.logged_in:
        assert refusals(app, user.id) == refused_before + 1, "the refusal was not written to the audit trail"
