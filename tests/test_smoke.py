from tests.conftest import PASSWORD, post


def test_login_page_is_german(client):
    r = client.get("/anmelden")
    assert r.status_code == 200
    assert "Anmelden" in r.get_data(as_text=True)


def test_password_login_without_two_factor_when_relaxed(app, client, factory):
    app.config["REQUIRE_TWO_FACTOR"] = False
    try:
        u = factory.user()
        r = post(client, app, "/anmelden", {"email": u.email, "password": PASSWORD})
        assert r.status_code == 302
        assert "Willkommen" in client.get("/").get_data(as_text=True)
    finally:
        app.config["REQUIRE_TWO_FACTOR"] = True
