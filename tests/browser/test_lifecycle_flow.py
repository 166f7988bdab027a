"""The lifecycle at a glance in the browser (issue 13): at each stage the step indicator marks the
current step, and its one next action leads to the right place; the organiser goes from a planned
conference through invitations, holding it, the draft and the comment round to the confirmation
page of finalising, the invited partner sees its own next action. At 1366 and 390 pixels; axe-core
checks every page visited."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.clock import utcnow
from tests.browser.conftest import follow, visit
from tests.browser.test_minutes_flow import log_in
from tests.minutes.conftest import make_scene

pytestmark = pytest.mark.browser

STEPS = ["geplant", "eingeladen", "durchgeführt", "Protokoll im Entwurf", "zur Anmerkung", "abgeschlossen"]


def indicator(page):
    return page.get_by_role("region", name="Ablauf der Fallkonferenz")


def steps_of(page):
    return indicator(page).get_by_role("list").first.get_by_role("listitem")


def expect_stage(page, stage, next_action=None, width=None):
    """The indicator names every step in order, marks ``stage`` as the current one (also in words)
    and offers ``next_action`` (None: no action for this user); it fits the window."""
    box = indicator(page)
    steps = steps_of(page)
    expect(steps).to_have_count(len(STEPS))
    for n, label in enumerate(STEPS, start=1):
        expect(steps.nth(n - 1)).to_contain_text(f"{n}. {label}")
    current = box.locator('[aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current).to_contain_text(stage)
    expect(current).to_contain_text("aktueller Schritt")
    if next_action is None:
        expect(box.get_by_text("Nächster Schritt:")).to_have_count(0)
    else:
        expect(box.locator(".lifecycle__next-label")).to_have_text(f"Nächster Schritt: {next_action}")
    if width is not None:
        right = page.evaluate(
            "() => { const r = document.querySelector('.lifecycle').getBoundingClientRect(); return r.right; }"
        )
        assert right <= width, f"the step indicator reaches {right} px in a {width} px window"
    return box


def do_next(page):
    """Follow the indicator's one action ("Jetzt erledigen", described by the step it does)."""
    box = indicator(page)
    action = box.get_by_role("link", name="Jetzt erledigen").or_(box.get_by_role("button", name="Jetzt erledigen"))
    expect(action).to_have_count(1)
    href = action.get_attribute("href")
    if href and "#" in href and page.url.split("#")[0].endswith(href.split("#")[0]):
        action.click()  # on this very page: it moves to the part that does it, no new page
        expect(page).to_have_url(re.compile(re.escape(href) + "$"))
        expect(page.locator(f"#{href.split('#')[1]}")).to_be_in_viewport()
    else:
        follow(page, action)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_step_indicator_and_its_next_action_at_each_stage(app, factory, new_context, monkeypatch, width):
    monkeypatch.setitem(app.config, "REQUIRE_TWO_FACTOR", False)
    scene = make_scene(factory)
    size = {"width": width, "height": 900}

    # --- planned, not begun: invite next; holding it and the minutes are not possible yet -------------
    planned = factory.conference(
        scene.case, starts_at=utcnow() + timedelta(days=8), location=scene.location, organiser=scene.organiser
    )
    staff = new_context(viewport=size).new_page()
    log_in(staff, scene.organiser.email)
    visit(staff, f"/konferenzen/{planned.id}")
    box = expect_stage(staff, "geplant", "Einrichtungen einladen", width)
    expect(steps_of(staff).nth(1)).to_contain_text("noch offen")
    not_yet = box.locator(".lifecycle__not-yet")
    expect(not_yet).to_contain_text("Als durchgeführt markieren: ab Beginn der Fallkonferenz am")
    expect(not_yet).to_contain_text("Protokoll schreiben: ab Beginn am")
    # The minutes page says the same instead of a dead end.
    visit(staff, f"/konferenzen/{planned.id}/protokoll")
    expect_stage(staff, "geplant", "Einrichtungen einladen", width)
    do_next(staff)
    agencies = staff.get_by_role("group", name="Einrichtungen einladen")
    agencies.get_by_label(scene.debt.name).check()
    follow(staff, staff.get_by_role("button", name="Einladungen verschicken"))
    box = expect_stage(staff, "eingeladen", None, width)
    expect(steps_of(staff).first).to_contain_text("erledigt")
    expect(box.locator(".lifecycle__waiting")).to_contain_text("Die Fallkonferenz findet am")

    # --- invited and begun: mark it held, write the minutes -------------------------------------------
    begun = factory.conference(
        scene.case, starts_at=utcnow() - timedelta(minutes=30), location=scene.location, organiser=scene.organiser
    )
    factory.invitation(begun, scene.debt, status="accepted", user=scene.partner_debt)
    visit(staff, f"/konferenzen/{begun.id}")
    expect_stage(staff, "eingeladen", "Als durchgeführt markieren", width)
    do_next(staff)  # a POST with the CSRF token
    expect_stage(staff, "durchgeführt", "Protokoll schreiben", width)
    do_next(staff)
    assert staff.url.endswith("#protokoll-form")
    staff.get_by_label("Zusammenfassung").fill("Die Lage hat sich stabilisiert.")
    follow(staff, staff.get_by_role("button", name="Entwurf speichern"))
    box = expect_stage(staff, "Protokoll im Entwurf", "Entwurf zur Anmerkung freigeben", width)
    expect(box.locator(".lifecycle__waiting")).to_have_text("Oder ohne Anmerkungsrunde: das Protokoll abschließen.")

    # --- the comment round: the partner's next action is its comment -----------------------------------
    do_next(staff)
    assert staff.url.endswith("#freigeben")
    staff.get_by_label("Frist für Anmerkungen in Tagen").fill("3")
    follow(staff, staff.get_by_role("button", name="Freigeben und benachrichtigen"))
    box = expect_stage(staff, "zur Anmerkung", "Protokoll abschließen", width)
    expect(box.locator(".lifecycle__waiting")).to_contain_text("Anmerkungen schreiben; schließen Sie danach ab.")
    partner = new_context(viewport=size).new_page()
    log_in(partner, scene.partner_debt.email)
    visit(partner, f"/konferenzen/{begun.id}")
    expect_stage(partner, "zur Anmerkung", "Anmerkung zum Protokollentwurf schreiben", width)
    do_next(partner)
    assert partner.url.endswith("#anmerkung")

    # --- finalising goes through its confirmation page ----------------------------------------------
    visit(staff, f"/konferenzen/{begun.id}")
    do_next(staff)
    expect(staff.get_by_role("heading", level=1)).to_have_text("Protokoll abschließen: bitte prüfen und bestätigen")
    expect_stage(staff, "zur Anmerkung", "Protokoll abschließen", width)
    expect(staff.get_by_text(re.compile("Die Anmerkungsfrist läuft noch bis einschließlich"))).to_be_visible()
    follow(staff, staff.get_by_role("button", name="Trotz laufender Frist jetzt endgültig abschließen"))
    expect(staff.get_by_role("status").first).to_have_text("Das Protokoll ist abgeschlossen und als PDF/A gespeichert.")
    box = expect_stage(staff, "abgeschlossen", "Folgekonferenz planen", width)
    expect(steps_of(staff).nth(4)).to_contain_text("erledigt")  # the comment round took place
    visit(partner, f"/konferenzen/{begun.id}")
    expect_stage(partner, "abgeschlossen", "Protokoll herunterladen (PDF)", width)
