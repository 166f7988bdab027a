"""Finalised minutes cannot be changed through any route: every state-changing route of
the conference and its minutes is refused once they are final, and changes nothing."""

import pytest
from sqlalchemy import select

from app.conferences.models import Invitation, Measure, Note
from tests.conftest import csrf_token, login_as
from tests.dbstate import differences, snapshot
from tests.minutes.conftest import MINUTES_DATA, finalised

# Routes that still answer on a closed conference, and why that changes nothing the final
# minutes show. Every other state-changing route with a conference or minutes in its URL
# must refuse (403/404).
STILL_ALLOWED = {
    "minutes.correct": "a correction is a new version; the final one stays as it is (test_minutes_lifecycle)",
    "conferences.follow_up": "plans a new conference; the closed one stays as it is",
    "conferences.measure_edit": "the follow-up of a measure (status, outcome) goes on after the conference; "
    "the minutes show the state frozen at finalisation",
}
ARGS = {"conference_id", "minutes_id", "note_id", "measure_id", "invitation_id"}


def mutating_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or not ({"conference_id", "minutes_id"} & rule.arguments):
            continue
        rules.append(rule)
    return sorted(rules, key=lambda r: r.rule)


def test_every_route_with_a_conference_or_minutes_is_known_here(app):
    unknown = [r.rule for r in mutating_rules(app) if not r.arguments <= ARGS]
    assert not unknown, f"extend ARGS and the URL builder below for {unknown}"
    endpoints = {r.endpoint for r in mutating_rules(app)}
    assert {"minutes.save", "minutes.finalise", "minutes.share", "minutes.comment"} <= endpoints
    assert set(STILL_ALLOWED) <= endpoints | {"minutes.correct"}


@pytest.fixture
def closed(app, client, scene, factory):
    minutes = finalised(client, app, scene)
    s = factory.s
    ids = {
        "conference_id": scene.conference.id,
        "minutes_id": minutes.id,
        "note_id": s.execute(select(Note.id).where(Note.conference_id == scene.conference.id)).scalars().first(),
        "measure_id": s.execute(select(Measure.id).where(Measure.conference_id == scene.conference.id))
        .scalars()
        .first(),
        "invitation_id": s.execute(
            select(Invitation.id).where(
                Invitation.conference_id == scene.conference.id, Invitation.agency_id == scene.debt.id
            )
        ).scalar_one(),
        # the review route takes a measure of the previous conference
        "review_measure_id": s.execute(
            select(Measure.id).where(Measure.conference_id == scene.previous.id)
        ).scalar_one(),
    }
    s.commit()
    return minutes, ids


def url_of(rule, ids):
    values = {name: ids[name] for name in rule.arguments}
    if rule.endpoint == "conferences.measure_review":
        values["measure_id"] = ids["review_measure_id"]
    return rule.build(values)[1]


@pytest.mark.parametrize("who", ["organiser", "team_lead", "partner_debt"])
def test_every_state_changing_route_is_refused_on_finalised_minutes(app, client, scene, closed, who):
    minutes, ids = closed
    login_as(client, app, getattr(scene, who))
    checked = []
    for rule in mutating_rules(app):
        if rule.endpoint in STILL_ALLOWED:
            continue
        url = url_of(rule, ids)
        before = snapshot(app)
        # Plausible, complete input: a refusal must not depend on the form being wrong.
        data = {
            **MINUTES_DATA,
            "version": str(minutes.version),
            "days": "7",
            "body": "Text",
            "reason": "Grund",
            "csrf_token": csrf_token(client, app),
        }
        response = client.post(url, data=data)
        assert response.status_code in (403, 404), f"{rule.rule} answered {response.status_code} to the {who}"
        changed = differences(before, snapshot(app))
        assert not changed, f"{rule.rule} changed {changed}"
        checked.append(rule.endpoint)
    assert {"minutes.save", "minutes.finalise", "minutes.share", "minutes.comment"} <= set(checked)


def test_a_measures_follow_up_does_not_touch_the_final_minutes(app, client, scene, closed, factory):
    """The one change the allow-list above lets through on a closed conference."""
    minutes, ids = closed
    from tests.minutes.conftest import latest, stored_pdf

    before = (latest(app, scene.conference).content, stored_pdf(app, minutes).content)
    measure = factory.s.get(Measure, ids["measure_id"])
    measure.status = "done"
    factory.s.commit()
    assert (latest(app, scene.conference).content, stored_pdf(app, minutes).content) == before


def test_the_terms_of_a_measure_are_fixed_once_the_minutes_are_final(app, client, scene, closed, factory):
    """measure.edit_terms: what, who and by when may change while the conference is held, not after."""
    from app import db
    from app.permissions import can

    _minutes, ids = closed
    open_measure = factory.measure(
        factory.conference(scene.case, status="held", organiser=scene.organiser, location=scene.location)
    )
    with app.app_context():
        s = db.get_session()
        final_measure, held_measure = s.get(Measure, ids["measure_id"]), s.get(Measure, open_measure.id)
        for user in (scene.organiser, scene.team_lead):
            assert not can(s.merge(user), "measure.edit_terms", final_measure)
            assert can(s.merge(user), "measure.edit_terms", held_measure)
            assert can(s.merge(user), "measure.update", final_measure)  # the follow-up goes on
        assert not can(s.merge(scene.partner_debt), "measure.edit_terms", held_measure)
