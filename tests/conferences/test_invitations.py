"""Invitations: who can be invited, e-mails with calendar files, answers, re-sending, withdrawal."""

from datetime import timedelta

from sqlalchemy import select

from app.clock import berlin_today, to_local
from app.conferences.models import AgendaItem, Invitation
from tests.conferences.conftest import audit_actions, calendar_of, count, event_of, fresh, future
from tests.conftest import agenda_fields, login_as, outbox_messages, post, text_of


def assert_pseudonym_only(msg, scene, conf):
    """An e-mail names the case by its pseudonym and nothing else about the person."""
    raw = msg.as_string() + "".join(part.get_payload(decode=True).decode() for part in msg.iter_attachments())
    body = msg.get_body(("plain",)).get_content()
    assert scene.case.pseudonym in msg["Subject"] and scene.case.pseudonym in body
    for secret in (
        scene.case.internal_reference,
        scene.case.summary,
        scene.case.goals,
        conf.occasion,
        "Situation besprechen",
    ):
        assert secret not in raw and secret not in body


def _conference(factory, session, scene, **kw):
    conf = factory.conference(
        scene.case,
        location=scene.location,
        starts_at=future(),
        organiser=scene.caseworker,
        occasion="Anlass mit Einzelheiten",
        **kw,
    )
    session.add(AgendaItem(conference_id=conf.id, position=1, title="Situation besprechen"))
    session.commit()
    return conf


def test_invite_page_offers_only_agencies_with_a_consent_valid_on_the_day(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    expired = factory.agency("Stadtteilbüro")
    factory.consent(scene.case, expired, valid_until=to_local(conf.starts_at).date() - timedelta(days=1))
    withdrawn = factory.agency("Suchtberatung")
    factory.consent(scene.case, withdrawn, withdrawn_on=berlin_today())
    login_as(client, app, scene.caseworker)
    page = client.get(f"/konferenzen/{conf.id}/einladungen")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    body = text_of(page)
    assert f'value="{scene.debt.id}"' in html and f'value="{scene.health.id}"' in html
    for agency in (expired, withdrawn, scene.other):
        assert f'name="agencies" type="checkbox" value="{agency.id}"' not in html
    assert "Stadtteilbüro: Einwilligung gilt nur bis" in body and "der Termin liegt danach" in body
    assert "Suchtberatung: Einwilligung widerrufen am" in body
    assert "Für Einrichtungen, die hier nicht erscheinen, liegt keine Einwilligung der Person vor." in body
    assert "Jugendhilfe" not in body
    assert "Paula Partner (Schuldnerberatung)" in body  # named invitation possible


def test_invitation_mail_carries_a_calendar_request_with_the_pseudonym_only(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    login_as(client, app, scene.caseworker)
    response = post(
        client,
        app,
        f"/konferenzen/{conf.id}/einladungen",
        {"agencies": [str(scene.debt.id), str(scene.health.id)], "people": [str(scene.partner_debt.id)]},
    )
    assert response.status_code == 302
    invitations = session.execute(select(Invitation).order_by(Invitation.agency_id)).scalars().all()
    assert [(i.agency_id, i.status, i.sent_count) for i in invitations] == [
        (scene.debt.id, "pending", 1),
        (scene.health.id, "pending", 1),
    ]
    assert invitations[0].user_id == scene.partner_debt.id and invitations[1].user_id is None
    messages = {m["To"]: m for m in outbox_messages(app)}
    assert set(messages) == {
        ", ".join(sorted([scene.debt.contact_email, scene.partner_debt.email])),
        scene.health.contact_email,
    }
    for msg in messages.values():
        assert (
            msg["Subject"]
            == f"Einladung zur Fallkonferenz {scene.case.pseudonym} am " + msg["Subject"].split(" am ", 1)[1]
        )
        assert f"http://localhost/konferenzen/{conf.id}" in msg.get_body(("plain",)).get_content()
        assert_pseudonym_only(msg, scene, conf)
        cal = calendar_of(msg)
        # Nothing a calendar would answer: answers are given on the conference page (RFC 5546 PUBLISH).
        assert str(cal["method"]) == "PUBLISH"
        event = cal.walk("VEVENT")[0]
        assert "ATTENDEE" not in event and b"RSVP" not in cal.to_ical()
        assert str(event["uid"]) == conf.ical_uid and int(event["sequence"]) == 0
        assert event["dtstart"].params["TZID"] == "Europe/Berlin"
        assert event["dtend"].params["TZID"] == "Europe/Berlin"
        assert event.decoded("dtstart") == to_local(conf.starts_at)
        assert event.decoded("dtend") == to_local(conf.ends_at)
        assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
        assert str(event["location"]) == "Raum 2.14"
        assert str(event["organizer"]) == f"mailto:{scene.caseworker.email}"
        assert str(event["summary"]) == f"Fallkonferenz {scene.case.pseudonym}"
        assert str(event["url"]) == f"http://localhost/konferenzen/{conf.id}"
    mailed = audit_actions(session, "invitation.mailed")
    assert sorted(e.details["kind"] for e in mailed) == ["invitation", "invitation"]
    assert len(audit_actions(session, "invitation.created")) == 2


def test_online_location_names_the_link_only_on_the_page(app, client, session, factory, scene):
    from app.agencies.models import Location

    online = Location(name="Videoraum", kind="online", video_url="https://video.example.org/raum-7")
    session.add(online)
    session.commit()
    conf = _conference(factory, session, scene)
    conf.location_id = online.id
    session.commit()
    factory.invitation(conf, scene.debt)
    login_as(client, app, scene.partner_debt)
    page = client.get(f"/konferenzen/{conf.id}")
    assert 'href="https://video.example.org/raum-7"' in page.get_data(as_text=True)
    login_as(client, app, scene.caseworker)
    inv = session.execute(select(Invitation)).scalar_one()
    post(client, app, f"/konferenzen/{conf.id}/einladungen/{inv.id}/erneut-senden")
    [msg] = outbox_messages(app)
    assert "video.example.org" not in msg.as_string()
    assert str(event_of(msg)["location"]) == "Videoraum (Link zur Videokonferenz auf der Konferenzseite)"


INVALID_INVITES = [
    (lambda s: {"agencies": []}, "Bitte wählen Sie mindestens eine Einrichtung."),
    (lambda s: {"agencies": [str(s.other.id)]}, "Bitte wählen Sie einen der angebotenen Einträge."),
    (lambda s: {"agencies": ["abc"]}, "Bitte wählen Sie einen der angebotenen Einträge."),
    (
        lambda s: {"agencies": [str(s.health.id)], "people": [str(s.partner_debt.id)]},
        "Namentlich einladen können Sie nur Personen der ausgewählten Einrichtungen.",
    ),
    (
        lambda s: {"agencies": [str(s.debt.id)], "people": [str(s.partner_other.id)]},
        "Bitte wählen Sie einen der angebotenen Einträge.",
    ),
]


def test_bad_invitations_are_refused_and_nothing_is_sent(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    second = factory.user("partner", agency=scene.debt, name="Zweite Person")
    login_as(client, app, scene.caseworker)
    cases = INVALID_INVITES + [
        (
            lambda s: {"agencies": [str(s.debt.id)], "people": [str(s.partner_debt.id), str(second.id)]},
            "Pro Einrichtung kann eine Person namentlich eingeladen werden.",
        )
    ]
    for data, message in cases:
        response = post(client, app, f"/konferenzen/{conf.id}/einladungen", data(scene))
        assert response.status_code == 400, message
        assert message in text_of(response)
        assert count(session, Invitation) == 0
    assert outbox_messages(app) == []
    assert audit_actions(session, "invitation.created") == []


def test_consent_expiring_before_the_conference_day_prevents_the_invitation(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    scene.consent_debt.valid_until = to_local(conf.starts_at).date() - timedelta(days=1)
    session.commit()
    login_as(client, app, scene.caseworker)
    response = post(client, app, f"/konferenzen/{conf.id}/einladungen", {"agencies": [str(scene.debt.id)]})
    assert response.status_code == 400
    assert count(session, Invitation) == 0


def test_uid_stays_and_sequence_rises_from_invitation_to_update_to_cancellation(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    login_as(client, app, scene.caseworker)
    post(client, app, f"/konferenzen/{conf.id}/einladungen", {"agencies": [str(scene.debt.id)]})
    local = to_local(conf.starts_at)
    post(
        client,
        app,
        f"/konferenzen/{conf.id}/bearbeiten",
        {
            "occasion": conf.occasion,
            "day": local.date().isoformat(),
            "start_time": "14:00",
            "end_time": "15:00",
            "location_id": str(scene.location.id),
            **agenda_fields("Situation besprechen"),
            "version": "1",
        },
    )
    post(client, app, f"/konferenzen/{conf.id}/absagen", {"reason": "Entfällt.", "version": "2"})
    # files of the same second come in any order; the organiser's own copies are tested elsewhere
    messages = [m for m in outbox_messages(app) if m["To"] == scene.debt.contact_email]
    assert len(messages) == 3
    calendars = sorted((calendar_of(m) for m in messages), key=lambda c: int(c.walk("VEVENT")[0]["sequence"]))
    events = [c.walk("VEVENT")[0] for c in calendars]
    assert [int(e["sequence"]) for e in events] == [0, 1, 2]
    assert [str(c["method"]) for c in calendars] == ["PUBLISH", "PUBLISH", "CANCEL"]
    assert {str(e["uid"]) for e in events} == {conf.ical_uid}
    assert events[0].decoded("dtstart") == local
    assert [e.decoded("dtstart").strftime("%H:%M") for e in events[1:]] == ["14:00", "14:00"]
    for msg in messages:
        assert_pseudonym_only(msg, scene, conf)


def test_resend_repeats_the_current_state(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    inv = factory.invitation(conf, scene.debt, user=scene.partner_debt)
    login_as(client, app, scene.caseworker)
    response = post(client, app, f"/konferenzen/{conf.id}/einladungen/{inv.id}/erneut-senden")
    assert response.status_code == 302
    [msg] = outbox_messages(app)
    assert msg["Subject"].strip().startswith("Erneut: Einladung zur Fallkonferenz")
    assert scene.partner_debt.email in msg["To"]
    assert int(event_of(msg)["sequence"]) == 0
    fresh(session, inv)
    assert inv.sent_count == 1 and inv.last_sent_at is not None
    [entry] = audit_actions(session, "invitation.mailed")
    assert entry.details["kind"] == "resend" and entry.actor_id == scene.caseworker.id


def test_withdrawn_invitation_sends_cancel_ends_access_and_can_be_renewed(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    inv = factory.invitation(conf, scene.debt, status="accepted")
    login_as(client, app, scene.caseworker)
    assert post(client, app, f"/konferenzen/{conf.id}/einladungen/{inv.id}/zurueckziehen").status_code == 302
    fresh(session, inv, conf)
    assert inv.status == "cancelled" and conf.ical_sequence == 1
    [msg] = outbox_messages(app)
    assert msg["Subject"].strip().startswith("Einladung zurückgezogen") and str(calendar_of(msg)["method"]) == "CANCEL"
    assert int(event_of(msg)["sequence"]) == 1
    login_as(client, app, scene.partner_debt)
    assert client.get(f"/konferenzen/{conf.id}").status_code == 404
    login_as(client, app, scene.caseworker)
    assert post(client, app, f"/konferenzen/{conf.id}/einladungen/{inv.id}/erneut-senden").status_code == 404
    assert (
        post(client, app, f"/konferenzen/{conf.id}/einladungen", {"agencies": [str(scene.debt.id)]}).status_code == 302
    )
    fresh(session, inv)
    assert inv.status == "pending" and inv.cancelled_at is None
    renewed = max(outbox_messages(app), key=lambda m: int(event_of(m)["sequence"]))  # same-second files: any order
    assert str(calendar_of(renewed)["method"]) == "PUBLISH" and int(event_of(renewed)["sequence"]) == 2


def test_partner_answers_and_the_organiser_sees_it(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    inv = factory.invitation(conf, scene.debt)
    login_as(client, app, scene.partner_debt)
    page = client.get(f"/konferenzen/{conf.id}")
    assert "Teilnahme" in text_of(page) and "Wir nehmen teil" in text_of(page)
    response = post(
        client,
        app,
        f"/konferenzen/{conf.id}/antwort",
        {"answer": "accepted", "comment": "Wir kommen mit zwei Kolleginnen."},
    )
    assert response.status_code == 302
    fresh(session, inv)
    assert (inv.status, inv.answer_comment, inv.answered_by_id) == (
        "accepted",
        "Wir kommen mit zwei Kolleginnen.",
        scene.partner_debt.id,
    )
    [entry] = audit_actions(session, "invitation.answered")
    assert entry.details == {"status": "accepted", "conference_id": conf.id} and entry.actor_id == scene.partner_debt.id
    login_as(client, app, scene.caseworker)
    body = text_of(client.get(f"/konferenzen/{conf.id}"))
    assert "zugesagt" in body and "Wir kommen mit zwei Kolleginnen." in body
    # A change of mind is allowed while the conference is planned.
    login_as(client, app, scene.partner_debt)
    assert post(client, app, f"/konferenzen/{conf.id}/antwort", {"answer": "declined"}).status_code == 302
    fresh(session, inv)
    assert inv.status == "declined" and inv.answer_comment == ""


def test_bad_answers_are_refused_and_kept(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    inv = factory.invitation(conf, scene.debt)
    login_as(client, app, scene.partner_debt)
    for data, message in [
        ({"comment": "Ohne Antwort"}, "Bitte wählen Sie eine Antwort."),
        ({"answer": "vielleicht", "comment": "Unklar"}, "Bitte wählen Sie einen der angebotenen Einträge."),
        (
            {"answer": "accepted", "comment": "Rückfragen an herbert.muster@example.org"},
            "Enthält vermutlich eine E-Mail-Adresse",
        ),
        ({"answer": "accepted", "comment": "x" * 2001}, "2000"),
    ]:
        response = post(client, app, f"/konferenzen/{conf.id}/antwort", data)
        assert response.status_code == 400, data
        assert message in text_of(response), data
        if len(data["comment"]) < 100:
            assert data["comment"] in response.get_data(as_text=True)
        fresh(session, inv)
        assert inv.status == "pending" and inv.answer_comment == ""
    assert audit_actions(session, "invitation.answered") == []


def test_consent_withdrawal_cancels_open_invitations_with_a_calendar_cancel(app, client, session, factory, scene):
    conf = _conference(factory, session, scene)
    inv = factory.invitation(conf, scene.debt, status="accepted", user=scene.partner_debt)
    declined = factory.invitation(conf, scene.health, status="declined")
    login_as(client, app, scene.caseworker)
    response = post(
        client,
        app,
        f"/faelle/{scene.case.id}/einwilligungen/{scene.consent_debt.id}/widerrufen",
        {"withdrawn_on": berlin_today().strftime("%d.%m.%Y"), "note": "Telefonisch."},
    )
    assert response.status_code == 302
    fresh(session, inv, declined, conf)
    assert (inv.status, declined.status, conf.ical_sequence) == ("cancelled", "declined", 1)
    [msg] = outbox_messages(app)
    assert msg["To"] == ", ".join(sorted([scene.debt.contact_email, scene.partner_debt.email]))
    cal = calendar_of(msg)
    event = cal.walk("VEVENT")[0]
    assert str(cal["method"]) == "CANCEL" and str(event["uid"]) == conf.ical_uid and int(event["sequence"]) == 1
    assert_pseudonym_only(msg, scene, conf)
    assert "Telefonisch" not in msg.as_string()
    [entry] = audit_actions(session, "invitation.cancelled")
    assert entry.details["reason"] == "consent_withdrawn" and entry.details["consent_id"] == scene.consent_debt.id
    login_as(client, app, scene.partner_debt)
    assert client.get(f"/konferenzen/{conf.id}").status_code == 404
