"""Links in e-mails: BASE_URL where it is set, else the address the demo actually runs on."""

from app import links


def test_configured_base_url_wins(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://fallkonferenz.example.org/")
    with app.test_request_context("/", base_url="http://127.0.0.1:8123"):
        assert links.base_url() == "https://fallkonferenz.example.org"
        assert links.external_url("conferences.view", conference_id=7) == (
            "https://fallkonferenz.example.org/konferenzen/7"
        )


def test_without_base_url_a_request_links_to_the_address_it_came_to(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", None)
    with app.test_request_context("/", base_url="http://127.0.0.1:8123"):
        assert links.external_url("minutes.page", conference_id=3) == "http://127.0.0.1:8123/konferenzen/3/protokoll"


def test_without_base_url_a_cli_job_links_to_the_configured_port(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "")
    monkeypatch.setitem(app.config, "PORT", 8080)
    with app.app_context():
        assert links.external_url("conferences.view", conference_id=5) == "http://127.0.0.1:8080/konferenzen/5"


def test_port_comes_from_the_environment(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.setenv("PORT", "8081")
    monkeypatch.delenv("BASE_URL", raising=False)
    other = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}"},
        instance_path=str(tmp_path / "instance"),
    )
    assert other.config["PORT"] == 8081 and not other.config["BASE_URL"]
    with other.app_context():
        assert links.base_url() == "http://127.0.0.1:8081"
