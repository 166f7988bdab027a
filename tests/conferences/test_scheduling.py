"""Scheduling: create, change, cancel, mark held, clash warning, follow-up."""

from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.clock import berlin_today, de_date, local_to_utc, to_local
from app.conferences.models import AgendaItem, Conference
from tests.conferences.conftest import audit_actions, calendar_of, conference_form, count, event_of, fresh, future
from tests.conftest import agenda_fields, login_as, outbox_messages, post, text_of, working_day


def test_caseworker_schedules_a_conference(app, client, session, scene):
    login_as(client, app, scene.caseworker)
    page = client.get(f"/faelle/{scene.case.id}/konferenzen/neu")
    assert page.status_code == 200
    assert "Fallkonferenz planen" in text_of(page)
    data = conference_form(scene)
    response = post(client, app, f"/faelle/{scene.case.id}/konferenzen/neu", data)
    assert response.status_code == 302
    conf = session.execute(select(Conference)).scalar_one()
    assert response.location.endswith(f"/konferenzen/{conf.id}")
    local = to_local(conf.starts_at)
    assert (local.date().isoformat(), local.strftime("%H:%M")) == (data["day"], "10:00")
    assert to_local(conf.ends_at).strftime("%H:%M") == "11:30"
    assert conf.organiser_id == scene.caseworker.id and conf.person_attends and conf.status == "planned"
    titles = (
        session.execute(
            select(AgendaItem.title).where(AgendaItem.conference_id == conf.id).order_by(AgendaItem.position)
        )
        .scalars()
        .all()
    )
    assert titles == ["Begrüßung", "Situation", "Maßnahmen"]
    assert [e.object_id for e in audit_actions(session, "conference.created")] == [conf.id]
    page = client.get(f"/konferenzen/{conf.id}")
    assert page.status_code == 200
    assert "Fallkonferenz " + scene.case.pseudonym in text_of(page)


def _no_conference(session):
    return count(session, Conference) == 0 and count(session, AgendaItem) == 0


BAD_INPUT = [
    ({"occasion": ""}, "Bitte füllen Sie dieses Feld aus."),
    ({"day": "31.02.2026"}, "gültiges Datum"),
    ({"day": "kein Datum"}, "gültiges Datum"),
    ({"day": "2126-01-01"}, "zwischen einem Jahr zurück und zwei Jahren voraus"),
    ({"day": "0001-01-01"}, "zwischen einem Jahr zurück und zwei Jahren voraus"),
    ({"start_time": "25:00"}, "gültige Uhrzeit"),
    ({"end_time": "09:00"}, "Das Ende muss nach dem Beginn liegen."),
    ({"location_id": "999999"}, "Bitte wählen Sie einen der angebotenen Einträge."),
    ({"location_id": "abc"}, "Bitte wählen Sie einen der angebotenen Einträge."),
    ({"location_id": ""}, "Bitte füllen Sie dieses Feld aus."),
    ({"agenda": "  \n \n"}, "Bitte geben Sie mindestens einen Tagesordnungspunkt an."),
    ({"agenda": "\n".join(f"Punkt {i}" for i in range(31))}, "Höchstens 30 Tagesordnungspunkte."),
    ({"agenda": "x" * 301}, "höchstens 300 Zeichen"),
    ({"occasion": "x" * 201}, "200"),
    ({"agenda": "Rückmeldung von Frau Yılmaz"}, "Enthält vermutlich einen Namen"),
    ({"occasion": "Gespräch, erreichbar unter 0171 2345678"}, "Enthält vermutlich eine Telefonnummer"),
]


def test_bad_input_is_refused_in_german_and_kept(app, client, session, scene):
    login_as(client, app, scene.caseworker)
    for overrides, message in BAD_INPUT:
        data = conference_form(scene, **overrides)
        response = post(client, app, f"/faelle/{scene.case.id}/konferenzen/neu", data)
        assert response.status_code == 400, overrides
        body = text_of(response)
        assert message in body, (overrides, body[:3000])
        assert "Bitte prüfen Sie Ihre Eingaben." in body
        if "occasion" in overrides and len(overrides["occasion"]) < 100 and overrides["occasion"]:
            assert overrides["occasion"] in response.get_data(as_text=True)
        assert _no_conference(session), overrides


def test_personal_data_saved_only_when_confirmed_and_the_override_is_audited(app, client, session, scene):
    login_as(client, app, scene.caseworker)
    data = conference_form(scene, agenda="Rückmeldung von Frau Yılmaz\nSituation")
    refused = post(client, app, f"/faelle/{scene.case.id}/konferenzen/neu", data)
    assert refused.status_code == 400
    assert "Kein Bezug zur Person – trotzdem speichern" in text_of(refused)
    assert _no_conference(session)
    saved = post(client, app, f"/faelle/{scene.case.id}/konferenzen/neu", {**data, "confirm_not_personal": "y"})
    assert saved.status_code == 302
    conf = session.execute(select(Conference)).scalar_one()
    [override] = audit_actions(session, "pii.override")
    assert (override.object_type, override.object_id, override.details) == ("conference", conf.id, {"kinds": ["name"]})


def test_clash_at_the_same_place_is_warned_and_needs_confirmation(app, client, session, factory, scene):
    other_team_case = factory.case(internal_reference="ANDERES-TEAM")
    day = future(days=10).date()
    booked = factory.conference(
        other_team_case,
        location=scene.location,
        starts_at=local_to_utc(datetime.combine(day, datetime.min.time()).replace(hour=11)),
        minutes=60,
    )
    login_as(client, app, scene.caseworker)
    data = conference_form(scene, day=day.isoformat(), start_time="10:00", end_time="11:30")
    warned = post(client, app, f"/faelle/{scene.case.id}/konferenzen/neu", data)
    assert warned.status_code == 400
    body = text_of(warned)
    assert "Der Ort ist zu dieser Zeit schon belegt" in body
    assert other_team_case.pseudonym not in body  # another team's case stays unknown
    assert count(session, Conference) == 1
    # Next to each other is no clash: ending when the other starts.
    fine = post(client, app, f"/faelle/{scene.case.id}/konferenzen/neu", {**data, "end_time": "11:00"})
    assert fine.status_code == 302
    confirmed = post(client, app, f"/faelle/{scene.case.id}/konferenzen/neu", {**data, "accept_clash": "y"})
    assert confirmed.status_code == 302
    assert count(session, Conference) == 3
    assert booked.id  # untouched


def test_staff_of_another_team_and_partners_cannot_schedule(app, client, session, factory, scene):
    for user in (factory.user("caseworker"), scene.partner_debt):
        login_as(client, app, user)
        response = post(client, app, f"/faelle/{scene.case.id}/konferenzen/neu", conference_form(scene))
        assert response.status_code == 404
    assert count(session, Conference) == 0


def test_closed_case_gets_no_new_conference(app, client, session, factory, scene):
    scene.case.status = "closed"
    session.commit()
    login_as(client, app, scene.caseworker)
    assert client.get(f"/faelle/{scene.case.id}/konferenzen/neu").status_code == 403
    assert count(session, Conference) == 0


def _edit_form(conf, session, **overrides):
    fresh(session, conf)
    local = to_local(conf.starts_at)
    data = {
        "occasion": conf.occasion,
        "day": local.date().isoformat(),
        "start_time": local.strftime("%H:%M"),
        "end_time": to_local(conf.ends_at).strftime("%H:%M"),
        "location_id": str(conf.location_id),
        **agenda_fields(
            [
                (item.title, item.categories)
                for item in session.execute(
                    select(AgendaItem).where(AgendaItem.conference_id == conf.id).order_by(AgendaItem.position)
                ).scalars()
            ]
        ),
        "version": str(conf.version),
    }
    if "agenda" in overrides:
        data = {k: v for k, v in data.items() if not k.startswith("agenda-")}
        data.update(agenda_fields(overrides.pop("agenda")))
    data.update(overrides)
    return data


def _with_agenda(session, conf, *titles, discussion=None):
    for position, title in enumerate(titles, start=1):
        session.add(
            AgendaItem(
                conference_id=conf.id, position=position, title=title, discussion=(discussion or {}).get(title, "")
            )
        )
    session.commit()


def test_reschedule_sends_updates_with_a_higher_sequence(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    _with_agenda(session, conf, "Begrüßung")
    factory.invitation(conf, scene.debt)
    factory.invitation(conf, scene.health, status="declined")
    factory.invitation(conf, scene.other, status="cancelled")
    login_as(client, app, scene.caseworker)
    old_day = to_local(conf.starts_at).date()
    later = working_day((old_day - berlin_today()).days + 1).isoformat()
    response = post(client, app, f"/konferenzen/{conf.id}/bearbeiten", _edit_form(conf, session, day=later))
    assert response.status_code == 302
    fresh(session, conf)
    assert conf.ical_sequence == 1 and conf.version == 2
    everything = outbox_messages(app)
    messages = [m for m in everything if m["To"] != scene.caseworker.email]
    assert sorted(m["To"] for m in messages) == sorted([scene.debt.contact_email, scene.health.contact_email])
    for msg in messages:
        assert msg["Subject"].strip().startswith("Geänderter Termin: Fallkonferenz " + scene.case.pseudonym)
        body = msg.get_body(("plain",)).get_content()
        # Old and new date, each on its own line.
        assert f"Bisher: {de_date(old_day)}" in body and f"Neu:    {de_date(date.fromisoformat(later))}" in body
        event = event_of(msg)
        assert str(event["uid"]) == conf.ical_uid and int(event["sequence"]) == 1
        assert event.decoded("dtstart").date().isoformat() == later
    # The organiser's own calendar entry moves too (PUBLISH, nothing to answer).
    [own] = [m for m in everything if m["To"] == scene.caseworker.email]
    assert own["Subject"].strip().startswith("Geänderter Termin (Ihr Kalender)")
    assert str(calendar_of(own)["method"]) == "PUBLISH" and int(event_of(own)["sequence"]) == 1
    [entry] = audit_actions(session, "conference.updated")
    assert set(entry.details["fields"]) == {"starts_at", "ends_at"}


def test_agenda_change_only_sends_nothing_and_keeps_discussion(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    _with_agenda(session, conf, "Begrüßung", "Situation", discussion={"Situation": "Besprochen: Schulden."})
    factory.invitation(conf, scene.debt)
    login_as(client, app, scene.caseworker)
    response = post(
        client,
        app,
        f"/konferenzen/{conf.id}/bearbeiten",
        _edit_form(conf, session, agenda="Situation\nNeuer Punkt\nBegrüßung und Anlass"),
    )
    assert response.status_code == 302
    items = (
        session.execute(select(AgendaItem).where(AgendaItem.conference_id == conf.id).order_by(AgendaItem.position))
        .scalars()
        .all()
    )
    assert [(i.title, i.discussion) for i in items] == [
        ("Situation", "Besprochen: Schulden."),
        ("Neuer Punkt", ""),
        ("Begrüßung und Anlass", ""),
    ]
    assert outbox_messages(app) == []
    fresh(session, conf)
    assert conf.ical_sequence == 0


def test_an_agenda_item_with_discussion_cannot_be_dropped(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    _with_agenda(session, conf, "Begrüßung", "Situation", discussion={"Situation": "Besprochen."})
    login_as(client, app, scene.caseworker)
    response = post(client, app, f"/konferenzen/{conf.id}/bearbeiten", _edit_form(conf, session, agenda="Begrüßung"))
    assert response.status_code == 400
    assert "„Situation“ enthält schon Notizen aus der Besprechung" in text_of(response)
    assert count(session, AgendaItem, AgendaItem.conference_id == conf.id) == 2
    fresh(session, conf)
    assert conf.version == 1


def test_stale_edit_is_refused_with_409_and_changes_nothing(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future(), occasion="Alt")
    _with_agenda(session, conf, "Begrüßung")
    factory.invitation(conf, scene.debt)
    login_as(client, app, scene.caseworker)
    stale = _edit_form(conf, session, occasion="Meine Änderung", start_time="07:00", accept_date="y")
    conf.occasion, conf.version = "Von Kollegin geändert", conf.version + 1
    session.commit()
    response = post(client, app, f"/konferenzen/{conf.id}/bearbeiten", stale)
    assert response.status_code == 409
    body = text_of(response)
    assert "Jemand anderes hat diesen Eintrag gespeichert" in body
    assert 'value="Meine Änderung"' in response.get_data(as_text=True)
    fresh(session, conf)
    assert (conf.occasion, conf.version, conf.ical_sequence) == ("Von Kollegin geändert", 2, 0)
    assert outbox_messages(app) == []
    assert audit_actions(session, "conference.updated") == []


def test_reschedule_beyond_a_consent_is_refused(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    _with_agenda(session, conf, "Begrüßung")
    factory.invitation(conf, scene.debt)
    scene.consent_debt.valid_until = to_local(conf.starts_at).date() + timedelta(days=2)
    session.commit()
    login_as(client, app, scene.caseworker)
    later = (to_local(conf.starts_at) + timedelta(days=5)).date().isoformat()
    response = post(client, app, f"/konferenzen/{conf.id}/bearbeiten", _edit_form(conf, session, day=later))
    assert response.status_code == 400
    assert "Am neuen Datum gilt keine Einwilligung für: Schuldnerberatung" in text_of(response)
    fresh(session, conf)
    assert conf.version == 1 and to_local(conf.starts_at).date() != later


def test_cancel_with_reason_sends_calendar_cancel(app, client, session, factory, scene):
    conf = factory.conference(scene.case, location=scene.location, starts_at=future())
    factory.invitation(conf, scene.debt, status="accepted")
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}/absagen")
    assert page.status_code == 200
    missing = post(client, app, f"/konferenzen/{conf.id}/absagen", {"reason": " ", "version": "1"})
    assert missing.status_code == 400 and "Bitte füllen Sie dieses Feld aus." in text_of(missing)
    response = post(
        client, app, f"/konferenzen/{conf.id}/absagen", {"reason": "Person ist verzogen (intern).", "version": "1"}
    )
    assert response.status_code == 302
    fresh(session, conf)
    assert (conf.status, conf.cancel_reason, conf.ical_sequence) == ("cancelled", "Person ist verzogen (intern).", 1)
    [msg] = [m for m in outbox_messages(app) if m["To"] == scene.debt.contact_email]
    assert msg["Subject"].strip().startswith("Abgesagt: Fallkonferenz")
    cal = calendar_of(msg)
    assert str(cal["method"]) == "CANCEL"
    assert "verzogen" not in msg.as_string()
    assert cal.walk("VEVENT")[0]["status"] == "CANCELLED"
    # A cancelled conference cannot be changed any more.
    assert client.get(f"/konferenzen/{conf.id}/bearbeiten").status_code == 403


def test_mark_held_only_once_it_has_begun(app, client, session, factory, scene):
    upcoming = factory.conference(scene.case, location=scene.location, starts_at=future())
    past = factory.conference(scene.case, location=scene.location, starts_at=future(days=-2))
    login_as(client, app, scene.caseworker)
    assert post(client, app, f"/konferenzen/{upcoming.id}/durchgefuehrt").status_code == 403
    assert post(client, app, f"/konferenzen/{past.id}/durchgefuehrt").status_code == 302
    fresh(session, past, upcoming)
    assert (past.status, upcoming.status) == ("held", "planned")
    assert [e.object_id for e in audit_actions(session, "conference.held")] == [past.id]


def test_follow_up_lists_open_measures_and_links_back(app, client, session, factory, scene):
    held = factory.conference(scene.case, location=scene.location, starts_at=future(days=-7), status="held")
    factory.measure(held, what="Bewerbungstraining besuchen")
    factory.measure(held, what="Schuldnerberatung aufsuchen", responsible_kind="agency", agency=scene.debt)
    factory.measure(held, what="Schon erledigt", status="done")
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{held.id}/folgekonferenz")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Maßnahme prüfen: Bewerbungstraining besuchen" in html
    assert "Maßnahme prüfen: Schuldnerberatung aufsuchen" in html
    assert "Schon erledigt" not in html
    response = post(
        client,
        app,
        f"/konferenzen/{held.id}/folgekonferenz",
        conference_form(
            scene, occasion="Folgekonferenz", agenda="Überprüfung\nMaßnahme prüfen: Bewerbungstraining besuchen"
        ),
    )
    assert response.status_code == 302
    follow = session.execute(select(Conference).where(Conference.previous_conference_id == held.id)).scalar_one()
    page = client.get(f"/konferenzen/{follow.id}")
    body = text_of(page)
    assert "Maßnahmen zur Überprüfung" in body and "Schuldnerberatung aufsuchen" in body
    assert "Schon erledigt" not in body
    # Only a held conference has a follow-up.
    assert client.get(f"/konferenzen/{follow.id}/folgekonferenz").status_code == 403
