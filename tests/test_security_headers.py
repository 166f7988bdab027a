"""Security defaults on every response, cookies, and the German error pages."""

import re

import pytest

from app import create_app, db
from app.permissions import public
from tests.conftest import login_as, text_of


@pytest.fixture
def admin_client(app, client, factory):
    login_as(client, app, factory.user("admin"))
    return client


PAGES = [
    "/anmelden",
    "/passwort-vergessen",
    "/verwaltung/",
    "/verwaltung/benutzer",
    "/verwaltung/benutzer/neu",
    "/verwaltung/einrichtungen/neu",
    "/konto",
    "/gibt-es-nicht",
    "/static/app.css",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_response_carries_the_security_headers(admin_client, url):
    r = admin_client.get(url)
    assert r.status_code in (200, 302, 404)
    csp = r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP


@pytest.mark.parametrize("url", [u for u in PAGES if not u.startswith("/static")])
def test_pages_hold_no_inline_script_or_style(admin_client, url):
    """What the CSP would block must not be needed: no inline script, handler or style."""
    html = admin_client.get(url).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r"<style|\sstyle\s*=", html)
    assert "javascript:" not in html


@pytest.mark.parametrize("url", ["/verwaltung/", "/verwaltung/benutzer", "/konto"])
def test_pages_behind_log_in_are_not_stored(admin_client, url):
    r = admin_client.get(url)
    assert r.status_code == 200
    assert "no-store" in r.headers["Cache-Control"]


def test_static_assets_may_be_cached(client):
    r = client.get("/static/app.css")
    assert r.status_code == 200
    assert "no-store" not in r.headers.get("Cache-Control", "")


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/anmelden").headers
    r = client.get("/anmelden", base_url="https://localhost")
    hsts = r.headers["Strict-Transport-Security"]
    assert re.search(r"max-age=(\d+)", hsts) and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 15552000


def _session_cookie(response, name):
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]
    assert cookies, "no session cookie set"
    return [part.strip().lower() for part in cookies[0].split(";")]


def test_session_cookie_is_http_only_and_same_site_lax(app, client):
    r = client.get("/anmelden")  # the form's CSRF token lives in the session
    attrs = _session_cookie(r, app.config["SESSION_COOKIE_NAME"])
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    assert "secure" not in attrs  # development over plain HTTP


@pytest.fixture
def make_app(app, tmp_path, monkeypatch):
    """Another app on the suite's database, for settings the shared app must not change."""
    made = []

    def make(config):
        other = create_app(
            {
                "DATABASE_URL": app.config["DATABASE_URL"],
                "SECRET_KEY": "anderer-schluessel",
                "MAIL_OUTBOX": str(tmp_path / "outbox"),
                **config,
            },
            instance_path=str(tmp_path / "instance"),
        )
        made.append(other)
        return other

    for key in ("APP_ENV", "DEBUG", "DEMO_DATA", "SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    yield make
    for other in made:
        with other.app_context():
            db.engine().dispose()


@pytest.mark.committed
def test_session_cookie_is_secure_in_production(app, make_app):
    prod = make_app({"APP_ENV": "production", "BASE_URL": "https://fallkonferenz.example.org"})
    r = prod.test_client().get("/anmelden", base_url="https://localhost")
    assert r.status_code == 200
    attrs = _session_cookie(r, prod.config["SESSION_COOKIE_NAME"])
    assert {"secure", "httponly", "samesite=lax"} <= set(attrs)
    assert "Strict-Transport-Security" in r.headers


# --- error pages ----------------------------------------------------------------------------


def test_403_is_german(app, client, factory):
    login_as(client, app, factory.user("caseworker"))
    r = client.get("/verwaltung/")
    assert r.status_code == 403
    page = text_of(r)
    assert "Kein Zugriff" in page and "Sie haben keine Berechtigung für diese Seite." in page
    assert '<html lang="de"' in r.get_data(as_text=True)


def test_404_is_german(client):
    r = client.get("/gibt-es-nicht")
    assert r.status_code == 404
    assert "Seite nicht gefunden" in text_of(r)
    assert "Not Found" not in text_of(r)


def test_405_is_german(client):
    r = client.get("/abmelden")
    assert r.status_code == 405
    assert "Methode nicht erlaubt" in text_of(r)


@pytest.mark.committed
def test_500_is_german_and_reveals_nothing(make_app):
    broken = make_app({"TESTING": True, "PROPAGATE_UNEXPECTED": False})

    @broken.route("/test/kaputt")
    @public
    def kaputt():
        raise RuntimeError("geheimer Wert 4711")

    r = broken.test_client().get("/test/kaputt")
    assert r.status_code == 500
    page = text_of(r)
    assert "Interner Fehler" in page
    assert "Ihre Eingaben wurden nicht gespeichert" in page
    assert "4711" not in page and "RuntimeError" not in page and "Traceback" not in page
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
