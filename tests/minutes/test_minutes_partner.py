"""Partners get the final minutes rendered for their consent scope, cached per scope,
and nothing once the consent is gone."""

from datetime import timedelta

from sqlalchemy import select

from app import pdf as pdf_module
from app.clock import berlin_today
from app.conferences.models import Invitation
from app.minutes.models import MinutesPdf
from tests.conftest import login_as, text_of
from tests.minutes.conftest import (
    DECISION_DEBT,
    DECISION_WORK,
    INTERNAL_REFERENCE,
    MINUTES_DATA,
    NOTE_DEBT,
    NOTE_HEALTH,
    NOTE_HEALTH_AGENCY_OWN,
    NOTE_JOBCENTER_ONLY,
    NOTE_SHARED_GENERAL,
    SUMMARY,
    audit_actions,
    count,
    finalised,
    page_url,
    pdf_text,
    stored_pdf,
)


def flat(text):
    return " ".join(text.split())


def partner_pdf(client, app, partner, minutes):
    login_as(client, app, partner)
    return client.get(f"/protokolle/{minutes.id}/pdf")


def test_a_partner_pdf_shows_only_what_the_consent_covers(app, client, scene):
    minutes = finalised(client, app, scene)
    r = partner_pdf(client, app, scene.partner_debt, minutes)
    assert r.status_code == 200
    text = flat(pdf_text(r.data))
    # the minutes themselves
    for expected in (
        scene.case.pseudonym,
        "Protokoll der Fallkonferenz",
        SUMMARY,
        DECISION_WORK,
        DECISION_DEBT,
        "Ratenplan mit Gläubigern abstimmen",
        "Vertraulich – enthält Sozialdaten (§ 35 SGB I)",
        NOTE_DEBT,
        "Fassung für Schuldner- und Insolvenzberatung Offenbach im Umfang ihrer Einwilligung: "
        "Allgemeine Lebenssituation, Qualifikation und Arbeit, Schulden",
        "Rückblick auf die Maßnahmen",
        "Nächste Schritte & Ziele",
        "Begrüßung und Vorstellungsrunde",
    ):
        assert expected in text, expected
    # never: the internal reference, Jobcenter-only notes, anything outside the scope (health; family),
    # the other agencies' names where their taking part reveals what the scope does not cover
    for hidden in (
        INTERNAL_REFERENCE,
        NOTE_JOBCENTER_ONLY,
        NOTE_HEALTH,
        NOTE_SHARED_GENERAL,
        NOTE_HEALTH_AGENCY_OWN,
        "Kinderbetreuungsplatz bestätigen",
        "Gesundheitsförderung Mühlheim",
        "Jugendberufshilfe",
        "nur für das Jobcenter",
        "Aktenexemplar",
        "Überprüfung der Vereinbarungen",
    ):
        assert hidden not in text, hidden
    assert text.count("eine weitere Einrichtung") == 2
    assert INTERNAL_REFERENCE.encode() not in r.data


def test_the_health_agency_sees_health_notes_but_not_debt_ones_nor_its_own_outside_the_scope(app, client, scene):
    minutes = finalised(client, app, scene)
    login_as(client, app, scene.partner_health)
    r = client.get(f"/protokolle/{minutes.id}/pdf")
    text = flat(pdf_text(r.data))
    assert NOTE_HEALTH in text
    # The minutes show what the consent covers: its own note tagged "family" too is left out.
    for hidden in (NOTE_DEBT, NOTE_JOBCENTER_ONLY, NOTE_SHARED_GENERAL, NOTE_HEALTH_AGENCY_OWN, INTERNAL_REFERENCE):
        assert hidden not in text, hidden


def test_partner_pdfs_are_cached_per_scope_and_every_download_is_audited(app, client, scene, factory, monkeypatch):
    minutes = finalised(client, app, scene)
    calls = []
    real = pdf_module.render
    monkeypatch.setattr(pdf_module, "render", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    colleague = factory.user("partner", agency=scene.debt, name="Petra Schuldner")
    first = partner_pdf(client, app, scene.partner_debt, minutes)
    second = partner_pdf(client, app, colleague, minutes)
    assert first.data == second.data and len(calls) == 1
    debt_variant = f"agency:{scene.debt.id};scope:debt,general,work"
    health_variant = f"agency:{scene.health.id};scope:general,health"
    cached = stored_pdf(app, minutes, debt_variant)
    assert cached is not None and cached.content == first.data
    assert partner_pdf(client, app, scene.partner_health, minutes).status_code == 200
    assert len(calls) == 2 and stored_pdf(app, minutes, health_variant) is not None
    assert count(app, MinutesPdf) == 3  # archive and two agencies' views
    entries = audit_actions(app, "minutes.downloaded")
    assert [(e.actor_id, e.details["variant"]) for e in entries] == [
        (scene.partner_debt.id, debt_variant),
        (colleague.id, debt_variant),
        (scene.partner_health.id, health_variant),
    ]
    assert stored_pdf(app, minutes).content != first.data  # the archive copy stays the archive copy


def test_a_partner_whose_consent_was_withdrawn_gets_no_pdf(app, client, scene, factory):
    minutes = finalised(client, app, scene)
    consent = factory.s.get(type(scene.consent_debt), scene.consent_debt.id)
    consent.withdrawn_on = berlin_today()
    factory.s.commit()
    r = partner_pdf(client, app, scene.partner_debt, minutes)
    assert r.status_code == 404 and b"%PDF" not in r.data
    assert audit_actions(app, "access.refused")[-1].details == {"rule": "minutes.download"}
    assert client.get(page_url(scene.conference)).status_code == 404
    assert count(app, MinutesPdf) == 1  # nothing was rendered for it
    assert not audit_actions(app, "minutes.downloaded")


def test_an_expired_consent_a_cancelled_invitation_or_no_invitation_gets_no_pdf(app, client, scene, factory):
    minutes = finalised(client, app, scene)
    consent = factory.s.get(type(scene.consent_health), scene.consent_health.id)
    consent.valid_until = berlin_today() - timedelta(days=1)
    inv = factory.s.execute(select(Invitation).where(Invitation.agency_id == scene.youth.id)).scalar_one()
    inv.status = "cancelled"
    factory.s.commit()
    stranger_agency = factory.agency("Nachbarschaftshilfe")
    factory.consent(scene.case, stranger_agency)  # a consent alone opens nothing
    stranger = factory.user("partner", agency=stranger_agency)
    for partner in (scene.partner_health, scene.partner_youth, stranger):
        assert partner_pdf(client, app, partner, minutes).status_code == 404
    assert count(app, MinutesPdf) == 1


def test_partners_get_no_draft_and_no_other_teams_staff_get_anything(app, client, scene, factory):
    from tests.minutes.conftest import latest, save_draft

    login_as(client, app, scene.organiser)
    save_draft(client, app, scene.conference)
    draft = latest(app, scene.conference)
    assert partner_pdf(client, app, scene.partner_debt, draft).status_code == 404
    login_as(client, app, scene.organiser)
    assert client.get(f"/protokolle/{draft.id}/pdf").status_code == 404  # staff neither: a draft has no PDF
    assert save_draft(client, app, scene.conference, version=str(draft.version), finalise=True).status_code == 302
    minutes = latest(app, scene.conference)
    other_team = factory.user("team_lead", team=factory.team("Team Süd"))
    login_as(client, app, other_team)
    assert client.get(f"/protokolle/{minutes.id}/pdf").status_code == 404
    assert client.get(page_url(scene.conference)).status_code == 404
    admin = factory.user("admin")
    login_as(client, app, admin)
    assert client.get(f"/protokolle/{minutes.id}/pdf").status_code == 404


def test_the_partner_page_offers_the_final_pdf(app, client, scene):
    minutes = finalised(client, app, scene)
    login_as(client, app, scene.partner_debt)
    page = text_of(client.get(page_url(scene.conference)))
    assert f"/protokolle/{minutes.id}/pdf" in page and "Protokoll herunterladen (PDF)" in page
    assert MINUTES_DATA["summary"] not in page and minutes.pdf_sha256 not in page
