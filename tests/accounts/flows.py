"""Log-in steps as a browser takes them, shared by the account tests."""

import re
from types import SimpleNamespace
from urllib.parse import quote

import pyotp

from tests.conftest import PASSWORD, post

ENROL_URL = "/anmelden/zwei-faktor/einrichten"
CODE_URL = "/anmelden/zwei-faktor"


def password_step(client, app, email, password=PASSWORD, next=None, **kw):
    url = "/anmelden" + (f"?next={quote(next, safe='')}" if next is not None else "")
    return post(client, app, url, {"email": email, "password": password}, **kw)


def enrol(client, app, email, next=None):
    """Password, then enrolment with a code from the key shown on the page."""
    r = password_step(client, app, email, next=next)
    assert r.status_code == 302 and r.location.endswith(ENROL_URL)
    page = client.get(ENROL_URL).get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    code = pyotp.TOTP(secret).now()
    r = post(client, app, ENROL_URL, {"code": code})
    assert r.status_code == 200, r.get_data(as_text=True)
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", r.get_data(as_text=True))
    return SimpleNamespace(secret=secret, code=code, codes=codes, response=r)


def second_factor(client, app, code):
    return post(client, app, CODE_URL, {"code": code})


class TotpClock:
    """Pins the clock the TOTP check reads, so tests can step through time steps."""

    def __init__(self, now: float):
        self.now = float(now)

    def time(self) -> float:
        return self.now

    def code(self, secret, steps_ahead=0) -> str:
        return pyotp.TOTP(secret).at(self.now + 30 * steps_ahead)

    def advance(self, steps=1):
        self.now += 30 * steps


def full_login(client, app, email, secret, clock, next=None):
    """Password and a fresh TOTP code; moves the pinned clock on so the next log-in has a new code."""
    r = password_step(client, app, email, next=next)
    assert r.status_code == 302 and r.location.endswith(CODE_URL), r.get_data(as_text=True)
    clock.advance()
    r = second_factor(client, app, clock.code(secret))
    assert r.status_code == 302, r.get_data(as_text=True)
    return r


def session_value(client, key):
    with client.session_transaction() as sess:
        return sess.get(key)


def logout(client, app):
    return post(client, app, "/abmelden")


def logged_in(client) -> bool:
    """Whether the client's session reaches a page behind the log-in."""
    r = client.get("/konto")
    if r.status_code == 302:
        assert "/anmelden" in r.location
        return False
    assert r.status_code == 200
    return True
