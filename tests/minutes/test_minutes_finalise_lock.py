"""Finalising renders the archive PDF outside the write transaction (issue 11): the PDF is
rendered from a consistent read, then stored in a short transaction that checks nothing it
shows has changed meanwhile."""

import pytest
from sqlalchemy import event, select

from app import db
from app import pdf as pdf_module
from app.conferences.models import Measure
from app.forms import StaleEdit
from app.minutes import services
from app.minutes.models import Minutes
from tests.conftest import login_as
from tests.minutes.conftest import latest, page_url, save_draft


@pytest.mark.committed  # real transactions, as in production: BEGIN / BEGIN IMMEDIATE are seen
@pytest.mark.parametrize("how", ["save and finalise", "finalise the draft"])
def test_the_pdf_is_rendered_while_no_write_lock_is_held(app, client, scene, monkeypatch, how):
    login_as(client, app, scene.organiser)
    if how == "finalise the draft":
        assert save_draft(client, app, scene.conference).status_code == 302
        draft = latest(app, scene.conference)
    trail = []
    with app.app_context():
        engine = db.engine()

    def statement(_conn, _cursor, sql, *_args):
        trail.append(sql.split(None, 2)[0].upper() + (" IMMEDIATE" if "IMMEDIATE" in sql[:20] else ""))

    real = pdf_module.render
    monkeypatch.setattr(pdf_module, "render", lambda *a, **kw: trail.append("RENDER") or real(*a, **kw))
    event.listen(engine, "before_cursor_execute", statement)
    try:
        if how == "finalise the draft":
            response = client.post(
                f"/protokolle/{draft.id}/abschliessen",
                data={"version": str(draft.version), "csrf_token": _token(client, app)},
            )
        else:
            response = save_draft(client, app, scene.conference, finalise=True)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert response.status_code == 302
    assert latest(app, scene.conference).status == "final"
    render = trail.index("RENDER")
    if engine.dialect.name == "sqlite":  # PostgreSQL has no write lock to hold, and no BEGIN statement to see
        begins = [i for i, s in enumerate(trail[:render]) if s.startswith("BEGIN")]
        assert trail[begins[-1]] == "BEGIN", trail  # a reading transaction, not BEGIN IMMEDIATE
        assert not {"INSERT", "UPDATE", "DELETE"} & set(trail[begins[-1] : render]), trail
    # The version is stored after the rendering.
    assert "INSERT" in trail[render:], trail


def _token(client, app):
    from tests.conftest import csrf_token

    return csrf_token(client, app)


def test_a_change_while_the_pdf_was_rendered_makes_the_finalisation_stale(app, client, scene):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    with app.app_context():
        s = db.get_session()
        draft = s.get(Minutes, latest(app, scene.conference).id)
        conference = s.get(type(scene.conference), scene.conference.id)
        prepared = services.prepare(s, conference, scene.organiser, services.texts_of(draft), draft=draft)
        s.rollback()
        # Meanwhile someone records a measure's outcome: the rendering no longer shows the record.
        measure = s.execute(select(Measure).where(Measure.conference_id == conference.id)).scalars().first()
        measure.outcome = "Inzwischen erledigt."
        s.commit()
        with pytest.raises(StaleEdit):
            services.finalise(s, draft, scene.organiser, draft.version, prepared)
        s.rollback()
        assert s.get(Minutes, draft.id).status == "draft"
    assert page_url(scene.conference)
