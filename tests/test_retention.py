"""Retention: `flask retention-run` deletes what is due (rows and PDFs), touches nothing else, is
audited, and the audit chain still verifies. Runs on SQLite and PostgreSQL (--db=postgres)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, or_, select

from app import audit
from app.cases.models import Case, CaseObstacle, Consent
from app.clock import add_years, berlin_today, utcnow
from app.conferences.models import AgendaItem, Conference, Invitation, Measure, Note
from app.mail import OutboxMessage
from app.minutes.models import Minutes, MinutesComment, MinutesPdf
from tests.conftest import login_as


def _closed_days_ago(days):
    return utcnow() - timedelta(days=days)


def _full_case(factory, team, closed_at=None, status="closed"):
    """A case with everything that can hang off it, final minutes with two PDFs and e-mails."""
    worker = factory.user("caseworker", team=team)
    kw = dict(close_reason="work", closed_at=closed_at) if status == "closed" else {}
    case = factory.case(caseworker=worker, status=status, **kw)
    factory.s.add(CaseObstacle(case_id=case.id, obstacle="debt"))
    agency = factory.agency()
    consent = factory.consent(case, agency, scope=("general", "debt"))
    conference = factory.conference(case, starts_at=utcnow() - timedelta(days=5 * 365), status="closed")
    follow_up = factory.conference(case, starts_at=utcnow() - timedelta(days=4 * 365), status="cancelled")
    follow_up.previous_conference_id = conference.id
    invitation = factory.invitation(conference, agency, status="accepted")
    factory.s.add(AgendaItem(conference_id=conference.id, position=1, title="Lage", categories=["general"]))
    factory.note(conference, worker)
    factory.note(conference, factory.user("partner", agency=agency), agency=agency)
    factory.measure(conference, status="done")
    v1 = Minutes(conference_id=conference.id, version_number=1, status="replaced", summary="Erste Fassung")
    factory.s.add(v1)
    factory.s.flush()
    v2 = Minutes(conference_id=conference.id, version_number=2, status="final", summary="Zweite", replaces_id=v1.id)
    factory.s.add(v2)
    factory.s.flush()
    for m in (v1, v2):
        factory.s.add(MinutesPdf(minutes_id=m.id, variant="archive", content=b"%PDF-archive", sha256="a" * 64))
    factory.s.add(MinutesPdf(minutes_id=v2.id, variant="scope:debt,general", content=b"%PDF-p", sha256="b" * 64))
    factory.s.add(MinutesComment(minutes_id=v1.id, agency_id=agency.id, author_id=worker.id, body="Kommentar"))
    factory.s.add(
        OutboxMessage(template="conference_invitation", message=b"x", ref_type="invitation", ref_id=invitation.id)
    )
    factory.s.add(OutboxMessage(template="minutes_shared", message=b"x", case_id=case.id))
    factory.s.commit()
    return case, consent


def _rows_of(s, case_id) -> dict:
    """Every row that belongs to the case, per table."""
    conf_ids = list(s.execute(select(Conference.id).where(Conference.case_id == case_id)).scalars())
    minutes_ids = list(s.execute(select(Minutes.id).where(Minutes.conference_id.in_(conf_ids))).scalars())
    inv_ids = list(s.execute(select(Invitation.id).where(Invitation.conference_id.in_(conf_ids))).scalars())

    def count(model, *where):
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar()

    return {
        "case_file": count(Case, Case.id == case_id),
        "case_obstacle": count(CaseObstacle, CaseObstacle.case_id == case_id),
        "consent": count(Consent, Consent.case_id == case_id),
        "conference": len(conf_ids),
        "invitation": len(inv_ids),
        "agenda_item": count(AgendaItem, AgendaItem.conference_id.in_(conf_ids)),
        "note": count(Note, Note.conference_id.in_(conf_ids)),
        "measure": count(Measure, Measure.case_id == case_id),
        "minutes": len(minutes_ids),
        "minutes_pdf": count(MinutesPdf, MinutesPdf.minutes_id.in_(minutes_ids)),
        "minutes_comment": count(MinutesComment, MinutesComment.minutes_id.in_(minutes_ids)),
        "outbox_message": count(
            OutboxMessage,
            or_(
                OutboxMessage.case_id == case_id,
                (OutboxMessage.ref_type == "invitation") & OutboxMessage.ref_id.in_(inv_ids or [-1]),
            ),
        ),
    }


def _cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_due_case_is_deleted_completely_and_nothing_else(app, factory):
    team = factory.team()
    over = add_years(berlin_today(), -3)
    due, _c = _full_case(factory, team, closed_at=_closed_days_ago((berlin_today() - over).days + 2))
    not_yet, _c = _full_case(factory, team, closed_at=_closed_days_ago((berlin_today() - over).days - 2))
    still_open, _c = _full_case(factory, team, status="open")
    s = factory.s
    before_due = _rows_of(s, due.id)
    assert all(before_due.values()), before_due
    kept = {c.id: _rows_of(s, c.id) for c in (not_yet, still_open)}
    s.commit()

    out = _cli(app, "retention-run", "--dry-run")
    assert "Fälle vollständig zu löschen: 1" in out and "nichts gelöscht" in out
    assert _rows_of(s, due.id) == before_due
    s.commit()

    out = _cli(app, "retention-run")
    assert "Fälle vollständig: 1\n" in out
    assert not any(_rows_of(s, due.id).values()), _rows_of(s, due.id)
    assert {c: _rows_of(s, c) for c in kept} == kept
    entries = s.execute(select(audit.AuditEntry).where(audit.AuditEntry.action.like("retention.%"))).scalars().all()
    deleted = [e for e in entries if e.action == "retention.case_deleted"]
    assert [(e.object_type, e.object_id) for e in deleted] == [("case_file", due.id)]
    assert deleted[0].details["minutes_pdf"] == 3 and deleted[0].details["outbox_message"] == 2
    assert any(e.action == "retention.run" and e.details["cases_deleted"] == 1 for e in entries)
    s.commit()
    assert "OK" in _cli(app, "audit-verify")
    # A second run finds nothing more.
    assert "Fälle vollständig zu löschen: 0" in _cli(app, "retention-run", "--dry-run")


def test_minutes_kept_longer_keep_their_case_skeleton_and_consents(app, factory):
    app.config.update(RETENTION_MINUTES_YEARS=10)
    try:
        team = factory.team()
        due, consent = _full_case(factory, team, closed_at=_closed_days_ago(3 * 366 + 5))
        _cli(app, "retention-run")
        s = factory.s
        rows = _rows_of(s, due.id)
        assert rows["case_file"] == 1 and rows["consent"] == 1  # the proof reference covers the minutes
        assert rows["minutes"] == 2 and rows["minutes_pdf"] == 2  # archive copies only
        for table in (
            "note",
            "measure",
            "agenda_item",
            "invitation",
            "minutes_comment",
            "outbox_message",
            "case_obstacle",
        ):
            assert rows[table] == 0, table
        assert rows["conference"] == 1  # the cancelled follow-up went, the recorded one stays
        case = s.get(Case, due.id)
        s.refresh(case)
        assert case.summary == "" and case.goals == "" and case.internal_reference is None
        assert case.content_deleted_at is not None
        s.commit()
        assert "Fälle, deren Inhalte zu löschen sind (Protokolle bleiben): 0" in _cli(app, "retention-run", "--dry-run")
        assert "OK" in _cli(app, "audit-verify")
    finally:
        app.config.update(RETENTION_MINUTES_YEARS=3)


def test_withdrawn_consent_notes_follow_the_same_rule(app, factory):
    team = factory.team()
    worker = factory.user("caseworker", team=team)
    case = factory.case(caseworker=worker)
    gone_agency, staying_agency = factory.agency("Alt"), factory.agency("Neu")
    long_ago = add_years(berlin_today(), -3) - timedelta(days=3)
    factory.consent(case, gone_agency, signed_on=long_ago - timedelta(days=30), withdrawn_on=long_ago)
    factory.consent(case, staying_agency)
    recent_agency = factory.agency("Kürzlich")
    factory.consent(case, recent_agency, withdrawn_on=berlin_today() - timedelta(days=10))
    conference = factory.conference(case, status="held", starts_at=utcnow() - timedelta(days=4 * 365))
    gone = factory.note(conference, factory.user("partner", agency=gone_agency), agency=gone_agency)
    stays = factory.note(conference, factory.user("partner", agency=staying_agency), agency=staying_agency)
    recent = factory.note(conference, factory.user("partner", agency=recent_agency), agency=recent_agency)
    own = factory.note(conference, worker)
    factory.s.commit()
    assert "Stellungnahmen zu löschen sind: 1" in _cli(app, "retention-run", "--dry-run")
    _cli(app, "retention-run")
    s = factory.s
    left = set(s.execute(select(Note.id).where(Note.conference_id == conference.id)).scalars())
    assert left == {stays.id, recent.id, own.id} and gone.id not in left
    assert s.get(Case, case.id) is not None
    s.commit()
    assert "OK" in _cli(app, "audit-verify")


@pytest.mark.parametrize("minutes_years", [3, 10])
def test_dry_run_counts_the_rows_the_run_deletes(app, factory, minutes_years):
    """Whole cases (minutes kept 3 years) or cases reduced to their minutes (10 years), and a
    withdrawn consent's notes on another case: --dry-run lists per table what the run then deletes."""
    from app import retention

    app.config.update(RETENTION_MINUTES_YEARS=minutes_years)
    try:
        team = factory.team()
        for days in (3 * 366 + 5, 3 * 366 + 40):
            _full_case(factory, team, closed_at=_closed_days_ago(days))
        _full_case(factory, team, closed_at=_closed_days_ago(30))
        case, _consent = _full_case(factory, team, status="open")
        gone = factory.agency("Alt")
        long_ago = add_years(berlin_today(), -3) - timedelta(days=3)
        factory.consent(case, gone, signed_on=long_ago - timedelta(days=30), withdrawn_on=long_ago)
        conference = factory.s.execute(select(Conference).where(Conference.case_id == case.id)).scalars().first()
        factory.note(conference, factory.user("partner", agency=gone), agency=gone)
        factory.s.commit()
        policy = retention.Policy.from_config(app.config)
        s = factory.s
        expected = retention.preview(s, retention.plan(s, berlin_today(), policy))
        s.commit()
        assert expected["note"] >= 3 and expected["minutes_pdf"] >= 2, expected
        out = _cli(app, "retention-run", "--dry-run")
        for table, n in expected.items():
            assert f"  {table}: {n}\n" in out
        result = retention.run(app.extensions["db_sessionmaker"], berlin_today(), policy)
        assert {k: v for k, v in result.rows.items() if v} == expected
        assert result.agencies_cleared == 1
    finally:
        app.config.update(RETENTION_MINUTES_YEARS=3)


def test_old_outbox_rows_are_deleted_by_age(app, factory):
    old = OutboxMessage(template="measure_reminder", message=b"x", created_at=utcnow() - timedelta(days=91))
    fresh = OutboxMessage(template="measure_reminder", message=b"x")
    factory.s.add_all([old, fresh])
    factory.s.commit()
    _cli(app, "retention-run")
    ids = set(factory.s.execute(select(OutboxMessage.id)).scalars())
    assert fresh.id in ids and old.id not in ids


def test_case_page_shows_when_content_is_deleted(app, client, factory):
    worker = factory.user("caseworker")
    closed = factory.case(caseworker=worker, status="closed", close_reason="work", closed_at=utcnow())
    login_as(client, app, worker)
    page = client.get(f"/faelle/{closed.id}").get_data(as_text=True)
    day = add_years(berlin_today(), 3) + timedelta(days=1)
    from app.filters import date_de

    with app.test_request_context():
        shown = date_de(day)
    assert f"Die Inhalte des Falls werden am {shown} gelöscht (3 Jahre nach dem Abschluss)" in page
    open_case = factory.case(caseworker=worker)
    page = client.get(f"/faelle/{open_case.id}").get_data(as_text=True)
    assert "3 Jahre nach dem Abschluss des Falls gelöscht" in page
