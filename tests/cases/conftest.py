"""Shared arrangements for the case and consent tests."""

from contextlib import contextmanager

import pytest
from flask import g
from sqlalchemy import func, select

from app.audit import AuditEntry


@pytest.fixture
def team(factory):
    return factory.team("Team Nord")


@pytest.fixture
def district(factory):
    return factory.district("Nordend")


@pytest.fixture
def caseworker(factory, team):
    return factory.user("caseworker", team=team, name="Clara Fallmanagerin")


def case_data(district, **overrides) -> dict:
    """A valid case form, as the browser sends it."""
    data = {
        "district_id": str(district.id),
        "age_band": "25_34",
        "household_type": "single_parent",
        "obstacles": ["childcare", "debt"],
        "summary": "Sucht eine Teilzeitstelle am Vormittag.",
        "goals": "Beschäftigung mit 20 Wochenstunden.",
        "internal_reference": "123BG456",
    }
    data.update(overrides)
    return data


def audit_actions(session, action=None):
    q = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        q = q.where(AuditEntry.action == action)
    return _read(session, lambda: list(session.execute(q.execution_options(populate_existing=True)).scalars()))


def count(session, model) -> int:
    return _read(session, lambda: session.execute(select(func.count()).select_from(model)).scalar())


def _read(session, query):
    """Read in a transaction of its own: fresh data, and no SQLite write lock left behind.

    Nothing is expired, so the test's objects stay readable without a new query.
    """
    session.commit()
    try:
        return query()
    finally:
        session.commit()


@contextmanager
def in_request(app, session):
    """A request context whose database session is the test's own (one transaction, no lock waits)."""
    with app.test_request_context():
        g.db_session = session
        try:
            yield
            session.commit()  # SQLite: the write lock of this transaction must not outlive the block
        finally:
            g.pop("db_session", None)
