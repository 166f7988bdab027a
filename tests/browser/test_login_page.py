"""The log-in page with and without JavaScript: errors, language switch, skip link."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_a11y, follow, visit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_axe_check_reports_a_violation(page):
    # The check must not pass silently: a page with an unlabelled image fails it.
    visit(page, "/anmelden")
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/x.png\">')")
    with pytest.raises(pytest.fail.Exception, match="image-alt"):
        check_a11y(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_login_errors_language_and_skip_link(javascript, factory, new_context):
    factory.user(role="caseworker", email="fall@example.org")
    page = new_context(java_script_enabled=javascript).new_page()

    visit(page, "/anmelden")
    page.get_by_label("E-Mail-Adresse").fill("fall@example.org")
    follow(page, page.get_by_role("button", name="Anmelden"))
    summary = page.locator("#fehler")
    expect(summary).to_contain_text("Bitte prüfen Sie Ihre Eingaben.")
    expect(summary).to_contain_text("Passwort: Bitte füllen Sie dieses Feld aus.")
    expect(summary).to_be_focused()  # announced first, without any script
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value("fall@example.org")
    expect(page.get_by_label("Passwort", exact=True)).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link", name="Passwort").click()
    expect(page.get_by_label("Passwort", exact=True)).to_be_focused()

    page.get_by_label("Passwort", exact=True).fill("falsch-falsch-falsch")
    follow(page, page.get_by_role("button", name="Anmelden"))
    expect(page.get_by_role("alert")).to_have_text("E-Mail-Adresse oder Passwort ist falsch.")
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value("fall@example.org")

    visit(page, "/anmelden")
    follow(page, page.get_by_role("button", name="English"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.get_by_label("Email address")).to_be_visible()
    follow(page, page.get_by_role("button", name="Deutsch"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()

    page.get_by_label("E-Mail-Adresse").fill("fall@example.org")
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Anmelden"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Zwei-Faktor-Anmeldung einrichten")
