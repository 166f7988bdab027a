"""Browser tests: the test app on a live server, driven by Debian's headless Chromium.

Every page a test opens is checked with axe-core (WCAG 2.0/2.1, A and AA) at both widths:
as the test's context shows it (1366 px wide unless the test chose a ``viewport``), then
at a phone's 390 px, where the page must also fit without scrolling sideways (issue 13).
Open pages with ``visit(page, path)`` and move on with ``follow(page, locator)``; both run
the check (``widths=`` narrows it to some widths). A page loaded some other way and never
checked fails the test at teardown.
"""

import os
import re
import threading
import traceback
import weakref

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import got_request_exception
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import PASSWORD, axe_summary

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

_axe = Axe()
_loads = weakref.WeakKeyDictionary()  # page -> documents loaded
_checked = weakref.WeakKeyDictionary()  # page -> documents checked by axe
_no_js = weakref.WeakSet()  # contexts with JavaScript off (axe cannot run there)
CHECKED_URLS = []
WIDE = {"width": 1366, "height": 768}
NARROW = 390  # an iPhone 12 to 15 held upright
BOTH_WIDTHS = (None, NARROW)  # None: the context's own viewport
# How long expect() waits for a page to get there (see new_context for the reason).
expect.set_options(timeout=30_000)


def pytest_collection_modifyitems(config, items):
    # The sync Playwright API keeps an asyncio loop running in the main thread until the
    # session ends, which breaks asyncio.run() in any later test: browser tests go last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    # The live server answers in threads, each request on a connection of its own: these
    # tests run on real transactions (tests/conftest.py, "committed").
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.committed)


def pytest_sessionfinish(session):
    # Under pytest-xdist the summary is written by the controller, which runs no test:
    # each worker hands over the pages it checked (tests/conftest.py adds them up).
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["axe_checked_urls"] = list(CHECKED_URLS)


def pytest_terminal_summary(terminalreporter):
    axe_summary(terminalreporter, CHECKED_URLS)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass  # failures still reach the test through got_request_exception


@pytest.fixture
def live_server(app):
    """The test app (same database, CSRF on) on 127.0.0.1 and a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    base_url = f"http://127.0.0.1:{server.server_port}"
    errors = []

    def record(sender, exception, **extra):
        errors.append(exception)

    got_request_exception.connect(record, app)
    old_base = app.config["BASE_URL"]
    app.config["BASE_URL"] = base_url  # links in e-mails point here
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join()
    server.server_close()
    app.config["BASE_URL"] = old_base
    got_request_exception.disconnect(record, app)
    assert not errors, "the server failed while answering:\n" + "\n".join(
        "".join(traceback.format_exception(e)) for e in errors
    )


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, live_server):
    """Opens a fresh browser context (own cookies) per call, e.g. one per person in a test."""
    contexts = []

    def make(**options):
        options.setdefault("locale", "de-DE")
        options.setdefault("viewport", WIDE)
        context = browser.new_context(base_url=live_server, **options)
        # A waiting limit, not a speed check: with pytest-xdist's workers and other jobs on
        # the machine, finalising minutes (the PDF) can take longer than 5 s.
        context.set_default_timeout(30_000)
        if options.get("java_script_enabled") is False:
            _no_js.add(context)
        else:
            context.on("page", _count_loads)
        contexts.append(context)
        return context

    yield make
    unchecked = []
    for context in contexts:
        if context not in _no_js:
            unchecked += [p.url for p in context.pages if _loads.get(p, 0) > _checked.get(p, 0)]
        context.close()
    assert not unchecked, f"pages loaded but not checked with axe: {unchecked}"


@pytest.fixture
def page(new_context):
    return new_context().new_page()


def _count_loads(page):
    page.on("load", lambda p: _loads.__setitem__(p, _loads.get(p, 0) + 1))


def horizontal_overflow(page) -> int:
    """How far the page reaches beyond the viewport's right edge, in CSS pixels (0: it fits)."""
    return page.evaluate("() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


def check_a11y(page, widths=BOTH_WIDTHS):
    """Runs axe-core on the page as it is now, at each of ``widths`` (None: the context's
    own viewport), and fails listing every violation; at a narrow width the page must also
    fit the viewport (no scrolling sideways). The viewport is restored afterwards."""
    if page.context in _no_js:
        raise RuntimeError("axe-core needs JavaScript: check the page in a context with JavaScript on")
    page.wait_for_load_state("load")
    first_check = page.evaluate(
        "() => { const seen = window.__axeChecked === true; window.__axeChecked = true; return !seen; }"
    )
    own = page.viewport_size
    try:
        for width in widths:
            size = own if width is None or own is None else {"width": width, "height": own["height"]}
            if size != page.viewport_size:
                page.set_viewport_size(size)
            results = _axe.run(page, options=AXE_OPTIONS)
            label = f"{page.url} at {size['width'] if size else '?'} px"
            if results.violations_count:
                pytest.fail(f"axe-core on {label}:\n{results.generate_report()}", pytrace=False)
            if size and size["width"] <= 600 and horizontal_overflow(page):
                pytest.fail(f"{label} is {horizontal_overflow(page)} px wider than the screen", pytrace=False)
    finally:
        if own is not None and page.viewport_size != own:
            page.set_viewport_size(own)
    if first_check:
        _checked[page] = _checked.get(page, 0) + 1
    CHECKED_URLS.append(page.url)


def _check_unless_no_js(page, widths=BOTH_WIDTHS):
    if page.context not in _no_js:
        check_a11y(page, widths)


def visit(page, path, widths=BOTH_WIDTHS):
    """Opens a path (or full URL), checks the page that arrives, and returns the response."""
    response = page.goto(path)
    _check_unless_no_js(page, widths)
    return response


def follow(page, locator, widths=BOTH_WIDTHS):
    """Clicks a link or submit button that loads a new page, and checks that page."""
    with page.expect_event("load"):
        locator.click()
    _check_unless_no_js(page, widths)


def log_in(page, user, password=PASSWORD):
    """Logs a factory user in through the real log-in and code pages.

    The user needs a ``totp_secret`` (``factory.user(totp_secret=pyotp.random_base32())``):
    the code step is part of every staff and partner log-in. A code is accepted once, so the
    same user can log in again only in a later 30-second step.
    """
    visit(page, "/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(user.email)
    page.get_by_label("Passwort", exact=True).fill(password)
    follow(page, page.get_by_role("button", name="Anmelden"))
    page.get_by_label("Sechsstelliger Code aus der Authenticator-App").fill(pyotp.TOTP(user.totp_secret).now())
    follow(page, page.get_by_role("button", name="Bestätigen"))
    expect(page).not_to_have_url(re.compile(r"/anmelden"))
