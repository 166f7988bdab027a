"""Odd requests get a German 4xx, never a 500, and change nothing."""

from app.conferences.models import AgendaItem, Conference, Note
from tests.conferences.conftest import conference_form, count, future
from tests.conftest import login_as, post, text_of


def test_ids_beyond_the_database_integer_are_not_found(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    login_as(client, app, scene.caseworker)
    for url in (
        "/konferenzen/99999999999",
        "/faelle/99999999999/konferenzen/neu",
        f"/konferenzen/{conf.id}/massnahmen/99999999999",
        f"/konferenzen/{conf.id}/stellungnahmen/99999999999",
    ):
        assert client.get(url).status_code == 404, url


def test_control_characters_are_refused_in_every_text(app, client, session, factory, scene):
    login_as(client, app, scene.caseworker)
    for field in ("occasion", "agenda"):
        response = post(
            client, app, f"/faelle/{scene.case.id}/konferenzen/neu", conference_form(scene, **{field: "Gespräch\x00"})
        )
        assert response.status_code == 400 and "unzulässige Steuerzeichen" in text_of(response)
    assert count(session, Conference) == 0 and count(session, AgendaItem) == 0
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    response = post(
        client,
        app,
        f"/konferenzen/{conf.id}/stellungnahmen/neu",
        {"body": "Text\x00", "categories": ["general"], "visibility": "shared"},
    )
    assert response.status_code == 400 and "unzulässige Steuerzeichen" in text_of(response)
    assert count(session, Note) == 0


def test_german_typed_dates_and_times_are_understood(app, client, session, factory, scene):
    login_as(client, app, scene.caseworker)
    data = conference_form(scene)
    y, m, d = data["day"].split("-")
    response = post(
        client,
        app,
        f"/faelle/{scene.case.id}/konferenzen/neu",
        {**data, "day": f"{d}.{m}.{y}", "start_time": "10.15", "end_time": "11:45:00"},
    )
    assert response.status_code == 302
    assert count(session, Conference) == 1


def test_stale_csrf_or_missing_token_is_a_german_400(app, client, session, factory, scene):
    login_as(client, app, scene.caseworker)
    response = client.post(f"/faelle/{scene.case.id}/konferenzen/neu", data=conference_form(scene))
    assert response.status_code == 400 and "Formular abgelaufen" in text_of(response)
    assert count(session, Conference) == 0
