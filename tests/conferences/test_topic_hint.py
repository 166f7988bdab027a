"""The topic hint in the forms: text that speaks of a category its item is not tagged with is
stopped with a German question; a confirmation saves it and is audited, categories only."""

from sqlalchemy import select

from app.conferences.models import AgendaItem, Note
from tests.conferences.conftest import audit_actions, conference_form, count
from tests.conftest import login_as, post, text_of

DEBT_TEXT = "Die Mietschulden werden mit einem Ratenplan abgebaut."


def test_a_note_tagged_work_that_speaks_of_debt_asks_first(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location)
    factory.invitation(conf, scene.debt, status="accepted")
    login_as(client, app, scene.caseworker)
    url = f"/konferenzen/{conf.id}/stellungnahmen/neu"
    data = {"body": DEBT_TEXT, "categories": ["work"], "visibility": "shared"}
    asked = post(client, app, url, data)
    assert asked.status_code == 400
    text = text_of(asked)
    assert "Der Text erwähnt vermutlich Schulden" in text and "Kategorie „Schulden“ ergänzen?" in text
    assert DEBT_TEXT in text and count(session, Note) == 0
    # Tagged with what it speaks of: saved without a question.
    assert post(client, app, url, {**data, "categories": ["work", "debt", "housing"]}).status_code == 302
    # Confirmed as it is: saved, and the override audited with the categories, never the text.
    assert post(client, app, url, {**data, "confirm_categories": "y"}).status_code == 302
    [entry] = audit_actions(session, "topic.override")
    assert entry.details == {"categories": ["debt", "housing"]}
    assert entry.object_type == "note" and "Mietschulden" not in str(entry.details)


def test_an_item_for_the_jobcenter_only_needs_no_hint(app, client, session, scene):
    login_as(client, app, scene.caseworker)
    data = conference_form(scene, agenda=[(DEBT_TEXT[:60], ())])
    assert post(client, app, f"/faelle/{scene.case.id}/konferenzen/neu", data).status_code == 302
    asked = post(
        client,
        app,
        f"/faelle/{scene.case.id}/konferenzen/neu",
        conference_form(scene, agenda=[("Stand der Mietschulden", ("general",))]),
    )
    assert asked.status_code == 400 and "Kategorie „Schulden“ ergänzen?" in text_of(asked)
    assert session.execute(select(AgendaItem.title)).scalars().all() == [DEBT_TEXT[:60]]
