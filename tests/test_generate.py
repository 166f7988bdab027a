"""The synthetic-data generator builds consistent data: ratios, pseudonyms, an intact audit chain."""

from sqlalchemy import func, or_, select

from app import audit, db
from app.cases.models import Case, PseudonymCounter
from app.conferences.models import Conference, Invitation, Measure


def test_generate_data_builds_consistent_records(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["generate-data", "--cases", "300", "--batch", "100"])
    assert result.exit_code == 0, result.output
    assert "300 / 300" in result.output
    with app.app_context():
        s = db.get_session()
        count = lambda m: s.execute(select(func.count()).select_from(m)).scalar()  # noqa: E731
        # The demo data the command seeds first brings cases of its own.
        demo = s.execute(select(func.count()).select_from(Case).where(Case.internal_reference.like("DEMO-%"))).scalar()
        assert count(Case) == 300 + demo
        # The demo's own conferences (seed_conferences) are left out of the generator's ratios.
        generated = (
            select(Conference.id)
            .join(Case, Case.id == Conference.case_id)
            .where(or_(Case.internal_reference.is_(None), ~Case.internal_reference.like("DEMO-%")))
        )
        conferences = len(s.execute(generated).all())
        invitations = s.execute(
            select(func.count()).select_from(Invitation).where(Invitation.conference_id.in_(generated))
        ).scalar()
        assert 1.3 <= conferences / 300 <= 1.7
        assert invitations == 3 * conferences
        assert count(Measure) > 0
        pseudonyms = s.execute(select(Case.pseudonym)).scalars().all()
        assert len(set(pseudonyms)) == 300 + demo and all(p.startswith("FK-") for p in pseudonyms)
        # The counter continues after the generated ones: no pseudonym is ever handed out twice.
        top = max(s.execute(select(PseudonymCounter.last_number)).scalars())
        assert top >= max(int(p.rsplit("-", 1)[1]) for p in pseudonyms)
        checked, broken = audit.verify(s)
        assert broken is None and checked >= 300 * 19
    assert "OK" in runner.invoke(args=["audit-verify"]).output
