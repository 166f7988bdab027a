"""From a held conference to locked, versioned minutes: draft, sharing for comments,
finalisation, correction."""

import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from app import db
from app.clock import berlin_today
from app.conferences.models import Conference, Measure
from app.minutes.models import Minutes, MinutesComment, MinutesPdf
from tests.conftest import login_as, outbox_messages, post, text_of
from tests.minutes.conftest import (
    DECISION_DEBT,
    INTERNAL_REFERENCE,
    MINUTES_DATA,
    NOTE_DEBT,
    NOTE_HEALTH,
    NOTE_JOBCENTER_ONLY,
    NOTE_SHARED_GENERAL,
    audit_actions,
    count,
    finalised,
    latest,
    page_url,
    pdf_text,
    save_draft,
    stored_pdf,
)


def fresh(app, model, obj_id):
    with app.app_context():
        return db.get_session().get(model, obj_id)


# --- draft ---------------------------------------------------------------------------------


def test_the_organiser_sees_the_assembled_draft_and_a_get_creates_nothing(app, client, scene):
    login_as(client, app, scene.organiser)
    r = client.get(page_url(scene.conference))
    assert r.status_code == 200
    page = text_of(r)
    for expected in (
        "Inhalt aus der Fallkonferenz (Vorschau)",
        "Begrüßung und Vorstellungsrunde",
        "Schuldner- und Insolvenzberatung Offenbach",
        NOTE_JOBCENTER_ONLY,
        NOTE_DEBT,
        "Ratenplan mit Gläubigern abstimmen",
        "Termin wahrgenommen, Unterlagen vollständig.",
        "Speichern und abschließen",
        "Entwurf speichern",
    ):
        assert expected in page, expected
    assert INTERNAL_REFERENCE not in page
    assert count(app, Minutes) == 0
    assert audit_actions(app, "minutes.viewed")[-1].object_id == scene.conference.id


def test_saving_the_draft_creates_version_1_and_later_saves_update_it(app, client, scene):
    login_as(client, app, scene.organiser)
    r = save_draft(client, app, scene.conference)
    assert r.status_code == 302 and r.location.endswith(page_url(scene.conference))
    minutes = latest(app, scene.conference)
    assert (minutes.status, minutes.version_number, minutes.summary) == ("draft", 1, MINUTES_DATA["summary"])
    r = save_draft(
        client, app, scene.conference, summary="Neue Fassung der Zusammenfassung.", version=str(minutes.version)
    )
    assert r.status_code == 302
    again = latest(app, scene.conference)
    assert again.id == minutes.id and again.summary == "Neue Fassung der Zusammenfassung."
    assert again.version == minutes.version + 1
    assert [
        e.action for e in audit_actions(app) if e.action.startswith("minutes.") and e.action != "minutes.viewed"
    ] == ["minutes.created", "minutes.updated"]
    assert fresh(app, Conference, scene.conference.id).status == "held"


def test_a_stale_draft_is_refused_with_the_input_kept(app, client, scene):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    minutes = latest(app, scene.conference)
    assert (
        save_draft(client, app, scene.conference, summary="Erste Änderung.", version=str(minutes.version)).status_code
        == 302
    )
    r = save_draft(client, app, scene.conference, summary="Veraltete Änderung.", version=str(minutes.version))
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "zwischenzeitlich geändert" in page and "Veraltete Änderung." in page
    assert latest(app, scene.conference).summary == "Erste Änderung."


def test_starting_the_minutes_twice_is_a_stale_edit(app, client, scene):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    # A second tab, loaded before the first save, still sends no version.
    r = save_draft(client, app, scene.conference, summary="Aus dem zweiten Fenster.")
    assert r.status_code == 409 and "Aus dem zweiten Fenster." in r.get_data(as_text=True)
    assert count(app, Minutes) == 1 and latest(app, scene.conference).summary == MINUTES_DATA["summary"]


def test_the_anonymisation_guard_checks_the_draft_and_an_override_is_audited(app, client, scene):
    login_as(client, app, scene.organiser)
    text = "Rückruf unter 069 12345678 vereinbart."
    r = save_draft(client, app, scene.conference, summary=text)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Telefonnummer" in page and text in page
    assert count(app, Minutes) == 0
    r = save_draft(client, app, scene.conference, summary=text, confirm_not_personal="y")
    assert r.status_code == 302
    minutes = latest(app, scene.conference)
    override = audit_actions(app, "pii.override")[-1]
    assert (
        override.object_type == "minutes" and override.object_id == minutes.id and "phone" in override.details["kinds"]
    )
    assert text not in str(override.details)


def test_other_staff_see_the_draft_but_only_the_organiser_writes_it(app, client, scene, factory):
    colleague = factory.user("caseworker", team=scene.team)
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    for user in (colleague, scene.team_lead):
        login_as(client, app, user)
        r = client.get(page_url(scene.conference))
        assert r.status_code == 200 and MINUTES_DATA["summary"] not in text_of(r)  # no form, the preview only
        assert save_draft(client, app, scene.conference, summary="Fremd.").status_code == 403
    assert "Protokoll abschließen" in text_of(client.get(page_url(scene.conference)))  # the team lead may finalise
    assert latest(app, scene.conference).summary == MINUTES_DATA["summary"]


def test_no_minutes_before_the_conference_is_held(app, client, factory, scene):
    planned = factory.conference(scene.case, organiser=scene.organiser, location=scene.location)
    login_as(client, app, scene.organiser)
    r = client.get(page_url(planned))
    assert r.status_code == 200 and "sobald die Fallkonferenz als durchgeführt markiert ist" in text_of(r)
    assert save_draft(client, app, planned).status_code == 403
    assert count(app, Minutes) == 0


# --- sharing for comments ---------------------------------------------------------------------


def test_sharing_the_draft_mails_invited_agencies_with_consent_and_partners_comment(app, client, scene, factory):
    withdrawn = factory.agency("Migrationsberatung")
    factory.consent(scene.case, withdrawn, withdrawn_on=berlin_today())
    factory.invitation(scene.conference, withdrawn, status="accepted")
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    minutes = latest(app, scene.conference)
    r = post(client, app, f"/protokolle/{minutes.id}/teilen", {"days": "7"})
    assert r.status_code == 302
    assert fresh(app, Minutes, minutes.id).comments_until == berlin_today() + timedelta(days=7)
    recipients = sorted(m["To"] for m in outbox_messages(app))
    # named partners where the invitation names one, else the agency's address; no consent, no mail
    assert recipients == sorted(["paul@schuldner.example", scene.health.contact_email, "jan@jugend.example"])
    mail = outbox_messages(app)[0]
    assert scene.case.pseudonym in mail["Subject"] and page_url(scene.conference) in mail.get_content()
    assert MINUTES_DATA["summary"] not in mail.get_content()
    assert audit_actions(app, "minutes.shared")[-1].details["days"] == 7

    # the partner sees the draft within its consent (general, work, debt) and comments
    login_as(client, app, scene.partner_debt)
    page = text_of(client.get(page_url(scene.conference)))
    assert MINUTES_DATA["summary"] in page and NOTE_DEBT in page
    for hidden in (NOTE_JOBCENTER_ONLY, NOTE_HEALTH, NOTE_SHARED_GENERAL, INTERNAL_REFERENCE):
        assert hidden not in page
    r = post(client, app, f"/protokolle/{minutes.id}/anmerkungen", {"body": "Bitte Ratenhöhe ergänzen."})
    assert r.status_code == 302
    assert "Bitte Ratenhöhe ergänzen." in text_of(client.get(page_url(scene.conference)))

    # another agency does not see it
    login_as(client, app, scene.partner_youth)
    assert "Bitte Ratenhöhe ergänzen." not in text_of(client.get(page_url(scene.conference)))

    # the organiser sees it, with agency and author, and got an e-mail
    login_as(client, app, scene.organiser)
    page = text_of(client.get(page_url(scene.conference)))
    assert "Bitte Ratenhöhe ergänzen." in page and "Schuldner- und Insolvenzberatung Offenbach – Paul Schäfer" in page
    assert any(m["To"] == scene.organiser.email and "Neue Anmerkung" in m["Subject"] for m in outbox_messages(app))
    comment = audit_actions(app, "minutes.commented")[-1]
    assert comment.details == {"minutes_id": minutes.id, "agency_id": scene.debt.id}


def test_comments_close_at_the_deadline_and_with_finalisation(app, client, scene, factory):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    minutes = latest(app, scene.conference)
    row = factory.s.get(Minutes, minutes.id)
    row.comments_until = berlin_today() - timedelta(days=1)
    factory.s.commit()
    login_as(client, app, scene.partner_debt)
    assert "Das Protokoll liegt noch nicht vor." in text_of(client.get(page_url(scene.conference)))
    assert post(client, app, f"/protokolle/{minutes.id}/anmerkungen", {"body": "Zu spät."}).status_code == 403
    assert count(app, MinutesComment) == 0


def test_partners_without_a_shared_draft_see_no_draft(app, client, scene):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    login_as(client, app, scene.partner_debt)
    page = text_of(client.get(page_url(scene.conference)))
    assert "Das Protokoll liegt noch nicht vor." in page and MINUTES_DATA["summary"] not in page


# --- finalisation -----------------------------------------------------------------------------


def test_finalising_locks_the_minutes_stores_the_pdf_and_closes_the_conference(app, client, scene):
    minutes = finalised(client, app, scene)
    assert minutes.status == "final" and minutes.version_number == 1
    assert minutes.finalised_by_id == scene.organiser.id and minutes.finalised_at is not None
    assert minutes.content["pseudonym"] == scene.case.pseudonym
    assert fresh(app, Conference, scene.conference.id).status == "closed"
    archive = stored_pdf(app, minutes)
    assert archive.content.startswith(b"%PDF-") and archive.sha256 == minutes.pdf_sha256
    actions = [e.action for e in audit_actions(app)]
    assert actions.index("minutes.created") < actions.index("minutes.finalised") < actions.index("conference.closed")
    finalised_entry = audit_actions(app, "minutes.finalised")[-1]
    assert finalised_entry.details == {
        "conference_id": scene.conference.id,
        "version_number": 1,
        "sha256": minutes.pdf_sha256,
    }
    page = text_of(client.get(page_url(scene.conference)))
    assert "Version 1 herunterladen" in page and minutes.pdf_sha256 in page and "gültig" in page


def test_the_team_lead_finalises_the_organisers_draft(app, client, scene):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    draft = latest(app, scene.conference)
    login_as(client, app, scene.team_lead)
    r = post(client, app, f"/protokolle/{draft.id}/abschliessen", {"version": str(draft.version)})
    assert r.status_code == 302
    minutes = latest(app, scene.conference)
    assert minutes.status == "final" and minutes.finalised_by_id == scene.team_lead.id
    assert "Abgeschlossen von Jürgen Groß am" in " ".join(pdf_text(stored_pdf(app, minutes).content).split())


def test_finalising_a_draft_changed_meanwhile_is_refused(app, client, scene):
    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    draft = latest(app, scene.conference)
    save_draft(client, app, scene.conference, summary="Geändert.", version=str(draft.version))
    login_as(client, app, scene.team_lead)
    r = post(client, app, f"/protokolle/{draft.id}/abschliessen", {"version": str(draft.version)})
    assert r.status_code == 409 and "zwischenzeitlich geändert" in r.get_data(as_text=True)
    assert latest(app, scene.conference).status == "draft"
    assert count(app, MinutesPdf) == 0


def test_the_final_minutes_keep_what_they_showed_while_measures_are_followed_up(app, client, scene, factory):
    minutes = finalised(client, app, scene)
    measure = factory.s.execute(select(Measure).where(Measure.what == "Kinderbetreuungsplatz bestätigen")).scalar_one()
    measure.status, measure.outcome = "done", "Platz ab März bestätigt."
    factory.s.commit()
    text = " ".join(pdf_text(client.get(f"/protokolle/{minutes.id}/pdf").data).split())
    assert "Kinderbetreuungsplatz bestätigen Weitergabe: Familie und Pflege Jobcenter 31.03.2026 vereinbart" in text
    assert "Platz ab März bestätigt." not in text


# --- correction -------------------------------------------------------------------------------


def test_a_correction_is_a_new_version_naming_the_one_it_replaces(app, client, scene):
    v1 = finalised(client, app, scene)
    v1_bytes = stored_pdf(app, v1).content
    form = client.get(f"/protokolle/{v1.id}/korrektur")
    assert form.status_code == 200 and MINUTES_DATA["summary"] in form.get_data(as_text=True)
    r = post(
        client,
        app,
        f"/protokolle/{v1.id}/korrektur",
        {
            **MINUTES_DATA,
            "decisions-1-text": "Ratenplan bis Ende April.",
            "reason": "Beschluss 2 nannte das falsche Datum.",
            "version": str(v1.version),
        },
    )
    assert r.status_code == 302
    v2 = latest(app, scene.conference)
    assert (v2.version_number, v2.status, v2.replaces_id) == (2, "final", v1.id)
    assert v2.correction_reason == "Beschluss 2 nannte das falsche Datum."
    assert v2.content == fresh(app, Minutes, v1.id).content
    assert fresh(app, Minutes, v1.id).status == "replaced"
    text = " ".join(pdf_text(stored_pdf(app, v2).content).split())
    assert "Version 2 – ersetzt Version 1" in text
    assert "Diese Version ersetzt Version 1 vom" in text and "Beschluss 2 nannte das falsche Datum." in text
    assert "2. Ratenplan bis Ende April." in text and DECISION_DEBT not in text
    entry = audit_actions(app, "minutes.corrected")[-1]
    assert entry.details["replaces_id"] == v1.id and entry.details["version_number"] == 2

    # staff still download version 1, unchanged; partners only get the valid version
    assert client.get(f"/protokolle/{v1.id}/pdf").data == v1_bytes
    page = text_of(client.get(page_url(scene.conference)))
    assert "ersetzt" in page and "Version 1 herunterladen" in page and "Version 2 herunterladen" in page
    login_as(client, app, scene.partner_debt)
    assert client.get(f"/protokolle/{v1.id}/pdf").status_code == 404
    assert client.get(f"/protokolle/{v2.id}/pdf").status_code == 200
    # a replaced version is not corrected again
    login_as(client, app, scene.organiser)
    assert client.get(f"/protokolle/{v1.id}/korrektur").status_code == 403


def test_a_correction_needs_a_reason_and_a_current_form(app, client, scene):
    v1 = finalised(client, app, scene)
    r = post(
        client,
        app,
        f"/protokolle/{v1.id}/korrektur",
        {**MINUTES_DATA, "summary": "Korrigiert.", "reason": "", "version": str(v1.version)},
    )
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Bitte füllen Sie dieses Feld aus." in page and "Korrigiert." in page
    r = post(
        client,
        app,
        f"/protokolle/{v1.id}/korrektur",
        {**MINUTES_DATA, "reason": "Tippfehler.", "version": str(v1.version - 1)},
    )
    assert r.status_code == 409 and "Tippfehler." in r.get_data(as_text=True)
    assert count(app, Minutes) == 1 and fresh(app, Minutes, v1.id).status == "final"


def test_two_clicks_from_a_held_conference_to_a_locked_pdf(app, client, scene):
    login_as(client, app, scene.organiser)
    assert client.get(page_url(scene.conference)).status_code == 200  # 1: open the minutes
    r = save_draft(client, app, scene.conference, finalise=True)  # 2: "Speichern und abschließen"
    assert r.status_code == 302
    minutes = latest(app, scene.conference)
    assert minutes.status == "final"
    assert PdfReader(io.BytesIO(stored_pdf(app, minutes).content)).pages
