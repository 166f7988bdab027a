"""Finalising goes through a confirmation page (issue 13): GET shows the comment period, the
comments not yet worked in and what each agency will receive; POST confirms with the draft's
version. Partners with access then get an e-mail without content."""

from datetime import timedelta

from app.clock import berlin_today
from app.minutes.models import Minutes, MinutesComment, MinutesPdf
from tests.conftest import login_as, outbox_messages, post, text_of
from tests.minutes.conftest import (
    DECISION_DEBT,
    DECISION_WORK,
    INTERNAL_REFERENCE,
    NOTE_DEBT,
    NOTE_HEALTH,
    SUMMARY,
    audit_actions,
    count,
    latest,
    page_url,
    save_draft,
)


def _url(minutes):
    return f"/protokolle/{minutes.id}/abschliessen"


def _draft(client, app, scene, **changes):
    login_as(client, app, scene.organiser)
    assert save_draft(client, app, scene.conference).status_code == 302
    draft = latest(app, scene.conference)
    if changes:
        from app import db

        with app.app_context():
            s = db.get_session()
            row = s.get(Minutes, draft.id)
            for key, value in changes.items():
                setattr(row, key, value)
            s.commit()
        draft = latest(app, scene.conference)
    return draft


def test_speichern_und_abschliessen_leads_to_the_confirmation_and_changes_nothing_yet(app, client, scene):
    login_as(client, app, scene.organiser)
    from tests.minutes.conftest import MINUTES_DATA

    # The button "Speichern und abschließen", without confirming on the page it leads to.
    response = save_draft(client, app, scene.conference, {**MINUTES_DATA, "finalise": "1"})
    draft = latest(app, scene.conference)
    assert response.status_code == 302 and response.location.endswith(_url(draft))
    assert draft.status == "draft" and count(app, MinutesPdf) == 0
    page = client.get(_url(draft))
    assert page.status_code == 200
    body = text_of(page)
    assert "Protokoll abschließen: bitte prüfen und bestätigen" in body
    assert "Abschließen lässt sich nicht rückgängig machen" in body
    assert "Der Entwurf wurde den Einrichtungen nicht zur Anmerkung freigegeben." in body
    assert f'name="version" type="hidden" value="{draft.version}"' in page.get_data(as_text=True)
    assert "Jetzt endgültig abschließen" in body
    assert INTERNAL_REFERENCE not in body
    assert latest(app, scene.conference).status == "draft"  # a GET finalises nothing


def test_the_page_lists_what_each_agency_will_receive(app, client, scene):
    draft = _draft(client, app, scene)
    per = per_agency(client.get(_url(draft)))
    debt = per["Schuldner- und Insolvenzberatung Offenbach"]
    # Scope general, work, debt: the summary (debt, general, work) and both decisions.
    assert "Zusammenfassung: 1 von 1" in debt and "Beschlüsse: 2 von 2" in debt
    assert "Erhält eine E-Mail ohne Inhalt" in debt
    health = per["Gesundheitsförderung Mühlheim"]
    assert "Zusammenfassung: 0 von 1" in health and "Beschlüsse: 0 von 2" in health
    assert "Sieht nicht:" in health and DECISION_WORK in health and DECISION_DEBT in health
    assert NOTE_DEBT[:40] in health  # the debt agency's note is withheld from the health agency
    youth = per["Jugendberufshilfe Straße"]
    assert "Beschlüsse: 1 von 2" in youth  # scope work: the work decision only
    assert NOTE_HEALTH[:40] in youth


def per_agency(response) -> dict:
    """The text under each agency's heading in "Was jede Einrichtung erhält"."""
    import re

    html = response.get_data(as_text=True)
    html = html[html.index('id="empfang"') :]
    parts = re.split(r'<h3 class="kern-heading-small">([^<]+)</h3>', html)
    return {name: text_of_html(body) for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def text_of_html(html) -> str:
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_an_agency_without_a_valid_consent_receives_nothing(app, client, scene, session):
    scene.consent_youth.withdrawn_on = berlin_today()
    session.commit()
    draft = _draft(client, app, scene)
    youth = per_agency(client.get(_url(draft)))["Jugendberufshilfe Straße"]
    assert "Erhält nichts: Für diese Einrichtung gilt derzeit keine Einwilligung." in youth


def test_a_running_comment_period_and_comments_not_worked_in_are_shown(app, client, scene, session):
    draft = _draft(client, app, scene)
    assert post(client, app, f"/protokolle/{draft.id}/teilen", {"days": "5"}).status_code == 302
    login_as(client, app, scene.partner_debt)
    comment = "Bitte den Ratenplan bis Ende April nennen."
    assert post(client, app, f"/protokolle/{draft.id}/anmerkungen", {"body": comment}).status_code == 302
    login_as(client, app, scene.organiser)
    draft = latest(app, scene.conference)
    page = client.get(_url(draft))
    body = text_of(page)
    until = (berlin_today() + timedelta(days=5)).strftime("%d.%m.%Y")
    assert f"Die Anmerkungsfrist läuft noch bis einschließlich {until}." in body
    assert "Trotz laufender Frist jetzt endgültig abschließen" in body
    new = body[body.index("Noch nicht eingearbeitete Anmerkungen") : body.index("Was jede Einrichtung erhält")]
    assert comment in new and "Schuldner- und Insolvenzberatung Offenbach – Paul Schäfer" in new
    # Saving the draft unchanged works nothing in: still open.
    assert save_draft(client, app, scene.conference, version=str(draft.version)).status_code == 302
    body = text_of(client.get(_url(latest(app, scene.conference))))
    assert comment in body[body.index("Noch nicht eingearbeitete Anmerkungen") : body.index("Was jede Einrichtung")]
    # Changing the draft works it in: the comment is no longer listed as open.
    draft = latest(app, scene.conference)
    changed = save_draft(client, app, scene.conference, version=str(draft.version), summary="Ratenplan bis April.")
    assert changed.status_code == 302
    body = text_of(client.get(_url(latest(app, scene.conference))))
    new = body[body.index("Noch nicht eingearbeitete Anmerkungen") : body.index("Was jede Einrichtung erhält")]
    assert comment not in new and "Dazu 1 Anmerkung, die vor der letzten Änderung einging." in new
    # Decided: the running period is warned of, not refused. Confirming finalises.
    draft = latest(app, scene.conference)
    assert post(client, app, _url(draft), {"version": str(draft.version)}).status_code == 302
    assert latest(app, scene.conference).status == "final"
    assert count(app, MinutesComment) == 1


def test_the_page_after_a_finished_round_says_it_ended(app, client, scene):
    draft = _draft(client, app, scene, comments_until=berlin_today() - timedelta(days=1))
    body = text_of(client.get(_url(draft)))
    assert "Die Anmerkungsfrist ist am" in body and "abgelaufen" in body
    assert "Trotz laufender Frist" not in body


def test_confirming_needs_the_current_version_and_csrf(app, client, scene):
    draft = _draft(client, app, scene)
    missing = post(client, app, _url(draft), {})
    assert missing.status_code == 409 and latest(app, scene.conference).status == "draft"
    stale = post(client, app, _url(draft), {"version": str(draft.version - 1)})
    assert stale.status_code == 409 and "zwischenzeitlich geändert" in stale.get_data(as_text=True)
    no_token = client.post(_url(draft), data={"version": str(draft.version)})
    assert no_token.status_code == 400 and latest(app, scene.conference).status == "draft"
    assert post(client, app, _url(draft), {"version": str(draft.version)}).status_code == 302
    assert latest(app, scene.conference).status == "final"
    # Once final, there is nothing to confirm any more.
    assert client.get(_url(draft)).status_code == 403


def test_final_minutes_are_announced_to_the_agencies_with_access_without_content(app, client, scene, session):
    scene.consent_youth.withdrawn_on = berlin_today()
    session.commit()
    draft = _draft(client, app, scene)
    before = len(outbox_messages(app))
    assert post(client, app, _url(draft), {"version": str(draft.version)}).status_code == 302
    mails = outbox_messages(app)[before:]
    announced = [m for m in mails if "liegt vor" in m["Subject"]]
    # The named partner of the debt agency, the health agency's contact address; not the youth
    # agency, whose consent was withdrawn.
    assert sorted(m["To"] for m in announced) == sorted([scene.partner_debt.email, scene.health.contact_email])
    for msg in announced:
        assert msg["Subject"].strip() == f"Protokoll der Fallkonferenz {scene.case.pseudonym} liegt vor"
        raw = msg.as_string()
        body = msg.get_body(("plain",)).get_content()
        assert f"http://localhost{page_url(scene.conference)}" in body
        for secret in (SUMMARY[:30], DECISION_WORK, DECISION_DEBT, NOTE_DEBT[:30], INTERNAL_REFERENCE):
            assert secret not in raw
        assert not list(msg.iter_attachments())
    [entry] = audit_actions(app, "minutes.final_mailed")
    assert sorted(entry.details["agency_ids"]) == sorted([scene.debt.id, scene.health.id])


def test_a_correction_is_announced_too(app, client, scene):
    from tests.minutes.conftest import MINUTES_DATA, finalised

    v1 = finalised(client, app, scene)
    before = len(outbox_messages(app))
    r = post(client, app, f"/protokolle/{v1.id}/korrektur", {**MINUTES_DATA, "reason": "Tippfehler.", "version": "2"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    subjects = [m["Subject"].strip() for m in outbox_messages(app)[before:]]
    assert subjects.count(f"Korrigiertes Protokoll (Version 2) der Fallkonferenz {scene.case.pseudonym} liegt vor") == 3
