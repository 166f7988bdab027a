"""The audit trail: what is recorded, and that ``flask audit-verify`` finds tampering."""

import json

import pytest
from sqlalchemy import select, text

from app import db
from app.audit import AuditEntry
from tests.conftest import PASSWORD, login_as, post
from tests.dbstate import scalars


def entries(session, action=None):
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return scalars(session, stmt)


def verify(app):
    return app.test_cli_runner().invoke(args=["audit-verify"])


def execute(app, sql, **params):
    """Raw SQL, past the application: what someone with database access could do."""
    with app.app_context():
        s = db.new_session()  # on the test's connection (rollback isolation, tests/conftest.py)
        try:
            s.execute(text(sql), params)
            s.commit()
        finally:
            s.close()


@pytest.fixture
def admin_client(app, client, factory):
    admin = factory.user("admin")
    login_as(client, app, admin)
    client.admin = admin
    return client


# --- what is recorded -------------------------------------------------------------------------


def test_log_in_without_second_factor_is_recorded(app, client, session, factory, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_TWO_FACTOR", False)
    user = factory.user()
    assert post(client, app, "/anmelden", {"email": user.email, "password": PASSWORD}).status_code == 302
    [entry] = entries(session, "login.succeeded")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (user.id, "user_account", user.id)


def test_password_step_and_failed_log_ins_are_recorded(app, client, session, factory):
    user = factory.user()
    assert post(client, app, "/anmelden", {"email": user.email, "password": "falsch-falsch"}).status_code == 401
    assert post(client, app, "/anmelden", {"email": "niemand@example.org", "password": "x"}).status_code == 401
    assert post(client, app, "/anmelden", {"email": user.email, "password": PASSWORD}).status_code == 302
    failed = entries(session, "login.failed")
    assert [(e.object_id, e.details) for e in failed] == [
        (user.id, {"reason": "password", "known_account": True}),
        (None, {"reason": "password", "known_account": False}),
    ]
    [ok] = entries(session, "login.password_ok")
    assert ok.actor_id == user.id


def test_refused_access_is_recorded(app, client, session, factory):
    caseworker = factory.user("caseworker")
    target = factory.user("caseworker")
    login_as(client, app, caseworker)
    assert client.get("/verwaltung/benutzer").status_code == 403
    assert post(client, app, f"/verwaltung/benutzer/{target.id}/deaktivieren").status_code == 403
    refused = entries(session, "access.refused")
    assert [(e.actor_id, e.details) for e in refused] == [(caseworker.id, {"rule": "admin.manage"})] * 2


def test_admin_changes_are_recorded_with_actor_and_object(app, admin_client, session, factory):
    admin = admin_client.admin
    team = factory.team()
    post(admin_client, app, "/verwaltung/teams/neu", {"name": "Team Ost", "active": "y"})
    post(
        admin_client,
        app,
        "/verwaltung/einrichtungen/neu",
        {"name": "Beratung", "type": "health", "district_id": "", "contact_email": "b@example.org"},
    )
    post(
        admin_client,
        app,
        "/verwaltung/benutzer/neu",
        {"name": "Neu", "email": "neu@example.org", "role": "caseworker", "team_id": str(team.id)},
    )
    post(
        admin_client,
        app,
        "/verwaltung/benutzer/neu",
        {
            "name": "Partnerin",
            "email": "partnerin@example.org",
            "role": "partner",
            "agency_id": str(factory.agency().id),
        },
    )
    new_user = entries(session, "user.created")[0].object_id
    post(admin_client, app, f"/verwaltung/benutzer/{new_user}/deaktivieren")
    got = [(e.action, e.actor_id, e.object_type) for e in entries(session)]
    assert got == [
        ("team.created", admin.id, "team"),
        ("agency.created", admin.id, "agency"),
        ("user.created", admin.id, "user_account"),
        # A staff account waits for a team lead; a partner's is invited at once, by the admin.
        ("account_change.proposed", admin.id, "user_account"),
        ("user.created", admin.id, "user_account"),
        ("account.invite_sent", admin.id, "user_account"),
        ("user.deactivated", admin.id, "user_account"),
    ]
    assert all(e.object_id for e in entries(session))


def test_entries_hold_ids_and_action_names_never_free_text(app, client, admin_client, session, factory):
    team = factory.team()
    secrets = [
        "Geheime Beratungsstelle",
        "geheim@example.org",
        "Erika Mustermann",
        "erika@example.org",
        "Zimmer 4711",
        "vertippt@example.org",
    ]
    post(
        admin_client,
        app,
        "/verwaltung/einrichtungen/neu",
        {"name": secrets[0], "type": "counselling", "district_id": "", "contact_email": secrets[1], "active": "y"},
    )
    post(
        admin_client,
        app,
        "/verwaltung/benutzer/neu",
        {"name": secrets[2], "email": secrets[3], "role": "caseworker", "team_id": str(team.id)},
    )
    post(admin_client, app, "/verwaltung/orte/neu", {"name": "Raum", "kind": "jobcenter_room", "address": secrets[4]})
    post(app.test_client(), app, "/anmelden", {"email": secrets[5], "password": "irgendwas"})

    rows = entries(session)
    assert {"agency.created", "user.created", "location.created", "login.failed"} <= {e.action for e in rows}
    dumped = json.dumps([e.model_dump(mode="json") for e in rows], ensure_ascii=False).lower()
    for secret in secrets:
        assert secret.lower() not in dumped


# --- the chain ----------------------------------------------------------------------------------


@pytest.fixture
def chain(app, admin_client, factory):
    """Five entries written through the application; returns their ids."""
    for name in ("Team A", "Team B", "Team C", "Team D", "Team E"):
        assert post(admin_client, app, "/verwaltung/teams/neu", {"name": name, "active": "y"}).status_code == 302
    with app.app_context():
        return list(db.get_session().execute(select(AuditEntry.id).order_by(AuditEntry.id)).scalars())


def test_verify_reports_ok_with_the_count(app, chain):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert f"OK: {len(chain)} Einträge" in result.output


def test_verify_on_an_empty_trail(app):
    result = verify(app)
    assert result.exit_code == 0 and "OK: 0 Einträge" in result.output


def test_altered_action_is_found(app, chain):
    execute(app, "UPDATE audit_entry SET action = 'team.updated' WHERE id = :id", id=chain[2])
    result = verify(app)
    assert result.exit_code != 0
    assert f"Eintrag {chain[2]} " in result.output


def test_altered_details_are_found(app, chain):
    cast = "CAST(:details AS JSON)" if app.extensions["db_engine"].dialect.name == "postgresql" else ":details"
    execute(app, f"UPDATE audit_entry SET details = {cast} WHERE id = :id", id=chain[1], details='{"rule": "x"}')
    result = verify(app)
    assert result.exit_code != 0
    assert f"Eintrag {chain[1]} " in result.output


def test_altered_actor_is_found(app, chain):
    execute(app, "UPDATE audit_entry SET actor_id = NULL WHERE id = :id", id=chain[3])
    result = verify(app)
    assert result.exit_code != 0
    assert f"Eintrag {chain[3]} " in result.output


def test_deleted_middle_entry_is_found_at_its_successor(app, chain):
    execute(app, "DELETE FROM audit_entry WHERE id = :id", id=chain[2])
    result = verify(app)
    assert result.exit_code != 0
    assert f"Eintrag {chain[3]} " in result.output


def test_rehashing_one_entry_is_not_enough(app, chain):
    """Recomputing the altered entry's own hash still breaks the link to the next one."""
    from app.audit import _digest

    with app.app_context():
        s = db.get_session()
        e = s.get(AuditEntry, chain[1])
        forged = _digest(e.prev_hash, e.at, e.actor_id, "team.deleted", e.object_type, e.object_id, e.details)
    execute(app, "UPDATE audit_entry SET action = 'team.deleted', hash = :h WHERE id = :id", h=forged, id=chain[1])
    result = verify(app)
    assert result.exit_code != 0
    assert f"Eintrag {chain[2]} " in result.output


@pytest.mark.committed
def test_a_long_job_chains_its_entries_at_its_commit_and_does_not_hold_the_chain(app, session):
    """`flask send-reminders` runs for a while on one server; page views on every server write
    audit entries meanwhile. The job's entries are chained when it commits, so the others do
    not wait for the chain's lock until then (issue 17)."""
    from app import audit

    with app.app_context():
        job = db.new_session()
        try:
            audit.defer(job)
            audit.record("job.first", object_type="measure", object_id=1, session=job)
            audit.record("job.second", object_type="measure", object_id=2, session=job)
            # Another server's page view, while the job is still running: it would wait for the
            # job's transaction (and time out the test) if the job held the chain's lock.
            view = db.new_session()
            try:
                audit.record("case.viewed", object_type="case_file", object_id=7, session=view)
                view.commit()
            finally:
                view.close()
            job.commit()
        finally:
            job.close()
        rolled_back = db.new_session()
        try:
            audit.defer(rolled_back)
            audit.record("job.dropped", session=rolled_back)
            rolled_back.rollback()
            rolled_back.commit()
        finally:
            rolled_back.close()
    actions = [e.action for e in entries(session)]
    assert actions == ["case.viewed", "job.first", "job.second"]
    assert audit.verify(session) == (3, None)
