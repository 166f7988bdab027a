"""Demo cases: about 20 per team, consents of the demo agencies in every state, usable by the demo accounts."""

from collections import Counter

from sqlalchemy import select

from app import pii
from app.accounts.models import Team, User
from app.cases.models import Case, CaseObstacle, Consent
from app.cases.services import consent_state
from app.clock import berlin_today
from app.demo import seed, seed_conferences
from tests.conftest import login_as, text_of


def test_seed_creates_cases_per_team_with_consents_in_every_state(app, session):
    with app.app_context():  # the demo renders the minutes' PDFs
        seed(session)
    everything = list(session.execute(select(Case)).scalars())
    # Besides: the network report's cases of this quarter ("DEMO-R…") and one case due for deletion ("DEMO-L…").
    cases = [c for c in everything if not c.internal_reference.startswith(("DEMO-R", "DEMO-L"))]
    extra = Counter(c.internal_reference[:6] for c in everything if c not in cases)
    assert extra["DEMO-L"] == 1 and extra["DEMO-R"] > 20
    teams = {t.id: t.name for t in session.execute(select(Team)).scalars()}
    assert Counter(teams[c.team_id] for c in cases) == {"Team Nord": 20, "Team Süd": 20}
    assert Counter(c.status for c in cases) == {"open": 34, "closed": 6}
    assert len({c.pseudonym for c in cases}) == 40
    assert all(c.internal_reference and c.internal_reference.startswith("DEMO-") for c in cases)
    assert len({c.district_id for c in cases}) > 5
    assert session.execute(select(CaseObstacle)).first() is not None
    # The demo texts are what the guard lets through without a warning.
    for c in cases:
        assert pii.find_personal_data(c.summary) == [] and pii.find_personal_data(c.goals) == []

    consents = list(session.execute(select(Consent)).scalars())
    today = berlin_today()
    states = Counter(consent_state(c, today) for c in consents if c.superseded_at is None)
    assert set(states) == {"valid", "withdrawn", "expired"}
    assert any(c.replaces_id for c in consents)  # a changed consent, with its history
    assert len({tuple(c.scope) for c in consents}) > 3
    # One current record per case and agency.
    current = Counter((c.case_id, c.agency_id) for c in consents if c.superseded_at is None)
    assert max(current.values()) == 1
    session.commit()


def test_demo_caseworker_sees_the_team_cases_and_a_partner_none(app, client, session):
    with app.app_context():  # the demo renders the minutes' PDFs
        seed(session)
    users = {u.email: u for u in session.execute(select(User)).scalars()}
    nord = users["fallmanagement@demo.invalid"]
    case = (
        session.execute(
            select(Case).where(Case.team_id == nord.team_id, Case.status == "open").order_by(Case.id.desc())
        )
        .scalars()
        .first()
    )
    team_cases = len(session.execute(select(Case.id).where(Case.team_id == nord.team_id)).all())
    session.commit()
    login_as(client, app, nord)
    listing = text_of(client.get("/faelle?status=alle"))
    assert team_cases > 20 and f"{team_cases} Fälle" in listing
    page = text_of(client.get(f"/faelle/{case.id}"))
    assert case.internal_reference in page and "Datenweitergabe" in page
    login_as(client, app, users["fallmanagement.sued@demo.invalid"])
    assert client.get(f"/faelle/{case.id}").status_code == 404
    login_as(client, app, users["partner.schuldnerberatung@demo.invalid"])
    assert client.get(f"/faelle/{case.id}").status_code == 404


def test_seed_conferences_can_follow_seed_cases(app, session):
    """The conferences' demo data builds on the cases: no second live consent per agency."""
    with app.app_context():  # the demo renders the minutes' PDFs
        seed(session)
    cases = list(session.execute(select(Case).order_by(Case.id)).scalars())
    conferences = seed_conferences(session, cases)
    assert conferences
    consents = list(session.execute(select(Consent)).scalars())
    current = Counter((c.case_id, c.agency_id) for c in consents if c.superseded_at is None)
    assert max(current.values()) == 1
    session.commit()
