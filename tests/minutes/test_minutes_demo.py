"""Demo minutes: finalised ones (one corrected to version 2) and drafts, on held conferences."""

from sqlalchemy import select

from app import db
from app.conferences.models import Conference
from app.demo import seed_minutes
from app.minutes.models import Minutes, MinutesPdf
from tests.minutes.conftest import make_scene


def test_seed_minutes_finalises_some_corrects_one_and_leaves_drafts(app, factory):
    scene = make_scene(factory)
    extra = [
        factory.conference(scene.case, status="held", organiser=scene.organiser, location=scene.location)
        for _ in range(3)
    ]
    with app.app_context():
        s = db.get_session()
        conferences = list(s.execute(select(Conference).order_by(Conference.id)).scalars())
        seed_minutes(s, conferences)
        rows = list(s.execute(select(Minutes).order_by(Minutes.conference_id, Minutes.version_number)).scalars())
        by_status = sorted((m.status, m.version_number) for m in rows)
        assert by_status == [("draft", 1), ("draft", 1), ("final", 1), ("final", 2), ("replaced", 1)]
        v2 = next(m for m in rows if m.version_number == 2)
        assert v2.replaces_id == next(m.id for m in rows if m.status == "replaced")
        assert v2.correction_reason == "Beschluss 3 fehlte in Version 1."
        assert len(s.execute(select(MinutesPdf)).all()) == 3
        closed = [c.id for c in s.execute(select(Conference).where(Conference.status == "closed")).scalars()]
        assert scene.conference.id in closed and extra[1].id in closed
        # run again: nothing is seeded twice
        seed_minutes(s, list(s.execute(select(Conference)).scalars()))
        assert len(s.execute(select(Minutes)).all()) == 5
