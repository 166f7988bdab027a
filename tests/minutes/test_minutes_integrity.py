"""Once minutes are final, nothing they show can change except through a correction; and every
edit form refuses a save without its version as it refuses a stale one (DESIGN.md section 4)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import db
from app.clock import berlin_today
from app.conferences.models import AgendaItem, Conference, Invitation, Measure, Note
from app.minutes.models import Minutes
from tests.conftest import agenda_fields, login_as, post
from tests.minutes.conftest import MINUTES_DATA, finalised, latest, page_url, save_draft

EVERYTHING = {
    "occasion": "Geändert",
    "day": (berlin_today() + timedelta(days=3)).isoformat(),
    "start_time": "10:00",
    "end_time": "11:00",
    "person_attended": "no",
    "what": "Geänderte Maßnahme",
    "categories": ["general"],
    "responsible": "person",
    "due_on": (berlin_today() + timedelta(days=30)).isoformat(),
    "status": "done",
    "outcome": "Erledigt.",
    "body": "Geänderter Text",
    "visibility": "shared",
    "reason": "Geändert",
    "summary": "Geänderte Zusammenfassung",
    "decisions-0-text": "Geänderter Beschluss",
    "days": "7",
    "answer": "declined",
    "comment": "",
    "agencies": ["1"],
    **agenda_fields("Geänderter Punkt"),
}
# What the final minutes show: these columns must not change (measures: only status and outcome may).
SHOWN = {
    Conference: ("occasion", "starts_at", "ends_at", "location_id", "person_attended", "status"),
    AgendaItem: ("title", "discussion", "categories", "position"),
    Invitation: ("status", "attendance", "agency_id"),
    Note: ("body", "categories", "visibility", "withdrawn_at"),
    Measure: ("what", "categories", "responsible_kind", "responsible_agency_id", "due_on"),
    Minutes: ("summary", "summary_categories", "decisions", "status", "content", "pdf_sha256"),
}


def _shown(app, conference_id):
    with app.app_context():
        s = db.get_session()
        rows = {}
        for model, columns in SHOWN.items():
            key = model.id if model is Conference else model.conference_id
            for obj in s.execute(select(model).where(key == conference_id).order_by(model.id)).scalars():
                rows[(model.__name__, obj.id)] = tuple(repr(getattr(obj, c)) for c in columns)
        return rows


def _url(rule, ids):
    return re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), rule)


def test_no_route_changes_what_final_minutes_show(app, client, scene):
    minutes = finalised(client, app, scene)
    conference_id = scene.conference.id
    with app.app_context():
        s = db.get_session()
        ids = {
            "conference_id": conference_id,
            "case_id": scene.case.id,
            "minutes_id": minutes.id,
            "note_id": s.execute(select(Note.id).where(Note.conference_id == conference_id)).scalars().first(),
            "measure_id": s.execute(select(Measure.id).where(Measure.conference_id == conference_id)).scalars().first(),
            "invitation_id": s.execute(select(Invitation.id).where(Invitation.conference_id == conference_id))
            .scalars()
            .first(),
        }
        versions = {
            "conference": s.get(Conference, conference_id).version,
            "minutes": minutes.version,
            "note": s.get(Note, ids["note_id"]).version,
            "measure": s.get(Measure, ids["measure_id"]).version,
        }
    before = _shown(app, conference_id)
    routes = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods
        and rule.rule.startswith(("/konferenzen/", "/protokolle/<"))
        and rule.endpoint != "minutes.correct"
    ]  # the one way to change final minutes: a new version
    assert len(routes) >= 18
    for actor in (scene.organiser, scene.team_lead, scene.partner_debt):
        login_as(client, app, actor)
        for rule in routes:
            kind = next((k for k in ("measure", "note", "minutes") if f"{k}_id" in rule.rule), "conference")
            response = post(client, app, _url(rule.rule, ids), {**EVERYTHING, "version": str(versions[kind])})
            assert response.status_code < 500, (actor.email, rule.rule)
            assert _shown(app, conference_id) == before, f"{rule.rule} as {actor.email} changed the final minutes"
    # Follow-up of a measure goes on: its status and outcome are not part of what the minutes froze.
    login_as(client, app, scene.organiser)
    with app.app_context():
        version = db.get_session().get(Measure, ids["measure_id"]).version
    response = post(
        client,
        app,
        f"/konferenzen/{conference_id}/massnahmen/{ids['measure_id']}",
        {"status": "done", "outcome": "Erledigt.", "what": "Geändert", "version": str(version)},
    )
    assert response.status_code == 302
    with app.app_context():
        measure = db.get_session().get(Measure, ids["measure_id"])
        assert (measure.status, measure.outcome) == ("done", "Erledigt.") and measure.what != "Geändert"


@pytest.mark.parametrize(
    "path,kind",
    [
        ("/konferenzen/{c}/bearbeiten", "planned"),
        ("/konferenzen/{c}/absagen", "planned"),
        ("/konferenzen/{c}/durchfuehrung", "held"),
        ("/konferenzen/{c}/stellungnahmen/{n}", "held"),
        ("/konferenzen/{c}/stellungnahmen/{n}/zurueckziehen", "held"),
        ("/konferenzen/{c}/massnahmen/{m}", "held"),
        ("protokoll", "held"),
    ],
)
def test_a_save_without_its_version_is_refused_like_a_stale_one(app, client, factory, scene, path, kind):
    conference = scene.conference if kind == "held" else scene.following
    note = factory.note(conference, scene.organiser, body="Notiz der Moderation.", agency=None)
    measure = factory.measure(conference, what="Unterlagen einreichen", categories=("work",))
    login_as(client, app, scene.organiser)
    if path == "protokoll":
        save_draft(client, app, conference)
        url = page_url(conference)
    else:
        url = path.format(c=conference.id, n=note.id, m=measure.id)
    before = _shown(app, conference.id)
    data = {
        **EVERYTHING,
        "summary": "Ohne Version gesendet",
        "occasion": "Ohne Version",
        "location_id": str(scene.location.id),
    }
    data.pop("version", None)
    response = post(client, app, url, data)
    assert response.status_code == 409, (url, response.status_code)
    assert _shown(app, conference.id) == before


def test_the_409_page_of_the_minutes_carries_the_new_version_so_saving_again_works(app, client, scene):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    draft = latest(app, scene.conference)
    stale = str(draft.version)
    assert save_draft(client, app, scene.conference, version=stale).status_code == 302  # someone else saves
    conflict = save_draft(client, app, scene.conference, version=stale, summary="Meine Fassung")
    assert conflict.status_code == 409
    page = conflict.get_data(as_text=True)
    shown = re.search(
        r'name="version" type="hidden" value="(\d+)"|type="hidden" value="(\d+)" name="version"|'
        r'id="version" name="version" type="hidden" value="(\d+)"',
        page,
    )
    version = next(v for v in shown.groups() if v)
    assert version == str(latest(app, scene.conference).version) and "Meine Fassung" in page
    assert save_draft(client, app, scene.conference, version=version, summary="Meine Fassung").status_code == 302
    assert latest(app, scene.conference).summary == "Meine Fassung"


def test_an_agency_whose_invitation_ended_keeps_its_measure_and_its_outcome_can_be_recorded(app, client, scene):
    with app.app_context():
        s = db.get_session()
        measure = s.execute(
            select(Measure).where(
                Measure.responsible_agency_id == scene.debt.id, Measure.conference_id == scene.conference.id
            )
        ).scalar_one()
        invitation = s.execute(
            select(Invitation).where(
                Invitation.agency_id == scene.debt.id, Invitation.conference_id == scene.conference.id
            )
        ).scalar_one()
        invitation.status = "cancelled"
        s.commit()
        measure_id, version, what, due = measure.id, measure.version, measure.what, measure.due_on.isoformat()
    login_as(client, app, scene.organiser)
    url = f"/konferenzen/{scene.conference.id}/massnahmen/{measure_id}"
    form = client.get(url).get_data(as_text=True)
    assert f'value="agency:{scene.debt.id}" selected' in form or f'selected value="agency:{scene.debt.id}"' in form
    response = post(
        client,
        app,
        url,
        {
            "what": what,
            "categories": ["debt"],
            "responsible": f"agency:{scene.debt.id}",
            "due_on": due,
            "status": "done",
            "outcome": "Ratenplan steht.",
            "version": str(version),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        measure = db.get_session().get(Measure, measure_id)
        assert (measure.status, measure.outcome, measure.responsible_agency_id) == (
            "done",
            "Ratenplan steht.",
            scene.debt.id,
        )


def test_finalising_needs_the_drafts_version_too(app, client, scene):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    draft = latest(app, scene.conference)
    assert post(client, app, f"/protokolle/{draft.id}/abschliessen", {}).status_code in (400, 409)
    assert latest(app, scene.conference).status == "draft"
    assert MINUTES_DATA  # the draft as saved
