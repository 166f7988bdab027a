"""Configuration: defaults, then instance/config.py, then environment; production guards."""

import stat
from datetime import timedelta

import pytest
from sqlalchemy import insert

from app import config as app_config
from app import create_app
from app.accounts.models import User
from app.db import make_engine
from app.models import metadata


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """The developer's or CI's own variables must not leak into these tests."""
    for key in app_config._ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def instance(tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir()
    return folder


def make(instance, config=None):
    app = create_app(config, instance_path=str(instance))
    app.extensions["db_engine"].dispose()
    return app


def test_defaults(instance):
    app = make(instance)
    assert app.config["APP_ENV"] == "development"
    assert app.config["PAGE_SIZE"] == 25
    assert app.config["SESSION_IDLE_TIMEOUT"] == timedelta(minutes=30)
    assert app.config["SESSION_ABSOLUTE_TIMEOUT"] == timedelta(hours=10)
    assert app.config["REQUIRE_TWO_FACTOR"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'fallkonferenz.sqlite'}"
    assert app.config["MAIL_OUTBOX"] == str(instance / "outbox")
    assert app.config["MAIL_SERVER"] is None


def test_instance_file_overrides_defaults_and_environment_overrides_both(instance, monkeypatch):
    (instance / "config.py").write_text(
        "PAGE_SIZE = 10\nORGANISATION_NAME = 'Jobcenter Testhausen'\nMAIL_SERVER = 'smtp.intern'\nMAIL_PORT = 587\n"
    )
    app = make(instance)
    assert (app.config["PAGE_SIZE"], app.config["ORGANISATION_NAME"]) == (10, "Jobcenter Testhausen")
    assert (app.config["MAIL_SERVER"], app.config["MAIL_PORT"]) == ("smtp.intern", 587)

    monkeypatch.setenv("PAGE_SIZE", "7")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("REQUIRE_TWO_FACTOR", "false")
    monkeypatch.setenv("SESSION_IDLE_TIMEOUT", "45")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://fk@db.intern/fallkonferenz")
    app = make(instance)
    assert app.config["PAGE_SIZE"] == 7
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["REQUIRE_TWO_FACTOR"] is False
    assert app.config["SESSION_IDLE_TIMEOUT"] == timedelta(minutes=45)
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://fk@db.intern/fallkonferenz"
    # What the environment does not name still comes from the instance file.
    assert (app.config["ORGANISATION_NAME"], app.config["MAIL_SERVER"]) == ("Jobcenter Testhausen", "smtp.intern")


def test_secret_key_is_generated_once_private_and_reused(instance):
    first = make(instance)
    path = instance / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 40
    assert path.read_text().strip() == first.config["SECRET_KEY"]
    assert make(instance).config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_secret_key_from_the_environment_wins(instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "aus-der-umgebung")
    assert make(instance).config["SECRET_KEY"] == "aus-der-umgebung"
    assert not (instance / "secret_key").exists()


# --- production ------------------------------------------------------------------------------


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "ein-langer-geheimer-schluessel")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite'}")


def test_production_starts_with_secure_cookies(instance, production):
    app = make(instance)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["DEBUG"] is False


def test_production_refuses_to_start_without_a_secret_key(instance, production, monkeypatch):
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(app_config.ConfigError, match="SECRET_KEY fehlt"):
        make(instance)
    assert not (instance / "secret_key").exists()  # no key is made up in production


@pytest.mark.parametrize(
    "key,message",
    [("DEBUG", "DEBUG ist in Produktion nicht erlaubt"), ("DEMO_DATA", "Demodaten sind in Produktion nicht erlaubt")],
)
def test_production_refuses_debug_and_demo_data(instance, production, monkeypatch, key, message):
    monkeypatch.setenv(key, "1")
    with pytest.raises(app_config.ConfigError, match=message):
        make(instance)


def test_production_refuses_an_instance_file_with_debug(instance, production):
    (instance / "config.py").write_text("DEBUG = True\n")
    with pytest.raises(app_config.ConfigError, match="DEBUG"):
        make(instance)


def _database_with(tmp_path, *emails):
    url = f"sqlite:///{tmp_path / 'prod.sqlite'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for email in emails:
            conn.execute(insert(User).values(email=email, name="X", role="admin"))
    engine.dispose()


def test_production_refuses_a_database_with_demo_accounts(instance, production, tmp_path):
    _database_with(tmp_path, "echt@jobcenter.example", "Admin@Demo.Invalid")
    with pytest.raises(app_config.ConfigError, match="Demo-Konten"):
        make(instance)


def test_production_starts_on_a_database_without_demo_accounts(instance, production, tmp_path):
    _database_with(tmp_path, "echt@jobcenter.example", "demo.invalid@jobcenter.example")
    make(instance)


def test_production_starts_on_an_empty_database_before_migrations(instance, production):
    make(instance)


@pytest.mark.committed
def test_demo_accounts_are_refused_on_the_test_database(app, factory, instance, production, monkeypatch):
    """The same check against the suite's database (PostgreSQL with --db=postgres)."""
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    factory.user("admin", email="someone@example.org")
    make(instance)
    factory.user("caseworker", email="fallmanagement@demo.invalid")
    with pytest.raises(app_config.ConfigError, match="Demo-Konten"):
        make(instance)


def test_behind_a_proxy_the_forwarded_client_address_and_https_count(tmp_path):
    from flask import request

    from app import create_app

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "PROXY_COUNT": 1, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}"},
        instance_path=str(tmp_path),
    )
    seen = {}

    @app.route("/_probe")
    def probe():
        seen.update(addr=request.remote_addr, secure=request.is_secure)
        return ""

    probe.public = True
    r = app.test_client().get("/_probe", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "203.0.113.7", "secure": True}
    assert "Strict-Transport-Security" in r.headers


def test_limits_and_proxy_count_come_from_the_environment(instance, monkeypatch):
    app = make(instance)
    assert (app.config["MAX_CONTENT_LENGTH"], app.config["MAX_FORM_PARTS"]) == (256 * 1024, 500)
    assert (app.config["LOGIN_MAX_FAILURES"], app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]) == (5, 50)
    settings = {
        "MAX_CONTENT_LENGTH": 100000,
        "MAX_FORM_PARTS": 50,
        "LOGIN_MAX_FAILURES": 4,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 80,
        "PROXY_COUNT": 1,
        "PDF_MAX_HTML_BYTES": 4096,
        "RESET_MAX_PER_ADDRESS": 20,
        "RESET_MAX_PER_ACCOUNT": 2,
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, str(value))
    app = make(instance)
    assert {key: app.config[key] for key in settings} == settings


def test_flask_debug_in_the_environment_does_not_turn_on_debug(instance, production, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = make(instance)
    assert app.debug is False and app.config["DEBUG"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("limit", ["0", "21", "30", "600"])
def test_the_pdf_time_limit_stays_well_below_the_database_and_worker_timeouts(instance, monkeypatch, limit):
    monkeypatch.setenv("PDF_TIME_LIMIT", limit)
    with pytest.raises(app_config.ConfigError, match="PDF_TIME_LIMIT"):
        make(instance)


def test_the_default_pdf_time_limit_is_accepted(instance, monkeypatch):
    monkeypatch.setenv("PDF_TIME_LIMIT", "20")
    assert make(instance).config["PDF_TIME_LIMIT"] == 20
    monkeypatch.delenv("PDF_TIME_LIMIT")
    assert (
        make(instance).config["PDF_TIME_LIMIT"] == app_config.Defaults.PDF_TIME_LIMIT <= app_config.MAX_PDF_TIME_LIMIT
    )
