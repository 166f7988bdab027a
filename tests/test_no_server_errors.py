"""No input ends in a server error (issue 10, finding 2; DESIGN.md section 4: "Never a 500").

One table: every route of the url map (its first entry in the access matrix, which says how
to reach it and with what data) gets every class of hostile input below. Every role sends one
request with all classes mixed; the first role the matrix lets in (who gets past the access
check to the forms) then sends each class on its own, since one refused field could hide
another's crash. Every answer must be below 500; an exception in the application, or a
route leaving changes uncommitted, fails the test as it would be a 500 in production.
"""

import io
import re
from urllib.parse import quote, urlencode

import pytest

from tests import access_matrix as m
from tests.conftest import csrf_token
from tests.test_access_matrix import app_rules, enter

ROLES = ("anonymous", "admin", "team_lead", "caseworker", "partner")
# Who is asked first to be the route's representative: the role the route is meant for.
PREFERENCE = ("caseworker", "team_lead", "partner", "admin", "anonymous")

HUGE = "99999999999999999999"  # beyond 64 bits
BAD_UTF8 = "%FF%FE%C3%28%ED%A0%80"  # percent-encoded bytes that are no UTF-8
# Every parameter the application reads from a query string.
QUERY_PARAMS = (
    "seite",
    "seite_upcoming",
    "seite_unanswered",
    "seite_measures",
    "seite_without_follow_up",
    "seite_awaiting",
    "zeitraum",
    "status",
    "stadtteil",
    "fachkraft",
    "hemmnis",
    "suche",
    "sortierung",
    "abgeschlossen",
    "von",
    "bis",
    "ort",
    "moderation",
    "datum",
    "stand",
    "next",
    "thema",
    "monat",
)
# Date fields of every form: sent to every POST, a form without them ignores them.
DATE_FIELDS = ("day", "due_on", "signed_on", "valid_until", "withdrawn_on", "date_from", "date_to")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{2}\.\d{2}\.\d{4}$")
NUMBER = re.compile(r"^-?\d+$")
PREFIXED_NUMBER = re.compile(r"^(\w+):\d+$")  # "agency:12"

# The first matrix entry of every rule and method: the url map's routes, each once.
ENTRIES = list({(e.method, e.rule): e for e in reversed(m.ROUTES)}.values())
ENTRIES.sort(key=lambda e: (e.rule, e.method))


def test_the_table_covers_the_url_map(app):
    assert {(e.method, e.rule) for e in ENTRIES} == app_rules(app)


# --- input classes ---------------------------------------------------------------------------


def _pairs(data: dict) -> list[tuple[str, str]]:
    return [(k, item) for k, v in data.items() for item in (v if isinstance(v, list) else [v])]


def _with_query(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query


def query_huge(url):
    return _with_query(url, urlencode([(name, HUGE) for name in QUERY_PARAMS]))


def query_bad_utf8(url):
    return _with_query(url, "&".join(f"{name}={BAD_UTF8}" for name in QUERY_PARAMS) + f"&{BAD_UTF8}=1")


def dates(pairs, value):
    changed = [(k, value if ISO_DATE.match(v) else v) for k, v in pairs]
    return changed + [(name, value) for name in DATE_FIELDS if name not in dict(pairs)]


def huge_numbers(pairs):
    def bigger(v):
        if NUMBER.match(v):
            return HUGE
        prefixed = PREFIXED_NUMBER.match(v)
        return f"{prefixed.group(1)}:{HUGE}" if prefixed else v

    return [(k, bigger(v)) for k, v in pairs] + [("version", HUGE), ("days", "-" + HUGE)]


def repeated(pairs):
    return [pair for pair in pairs for _ in range(3)]


def urlencoded(pairs, token, extra=""):
    body = urlencode(pairs + [("csrf_token", token)])
    return (body + extra).encode("latin-1")


def bad_utf8_body(pairs, token):
    # Every field: invalid UTF-8, percent-encoded and raw.
    encoded = "&".join(f"{quote(k)}={BAD_UTF8}" for k, _v in pairs)
    return encoded.encode() + b"&raw=\xff\xfe\xc3(" + b"&csrf_token=" + quote(token).encode()


def file_parts(pairs, token):
    data = {k: (io.BytesIO(b"%PDF-1.7 " + b"x" * 200), "datei.pdf") for k, _v in pairs}
    data["csrf_token"] = token
    data["beilage"] = (io.BytesIO(b"x"), "beilage.txt")
    return data


def many_parts(pairs, token):
    data = {f"feld{i}": "x" for i in range(5000)}
    data.update(dict(pairs))
    data["csrf_token"] = token
    return data


FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# Name → (url, pairs, CSRF token) → (url, keyword arguments for ``client.open``).
BODY_CLASSES = {
    "huge query": lambda url, pairs, token: (query_huge(url), dict(data=urlencoded(pairs, token), content_type=FORM)),
    "bad UTF-8 query": lambda url, pairs, token: (
        query_bad_utf8(url),
        dict(data=urlencoded(pairs, token), content_type=FORM),
    ),
    "year 1": lambda url, pairs, token: (
        url,
        dict(data=urlencoded(dates(pairs, "0001-01-01"), token), content_type=FORM),
    ),
    "year 9999": lambda url, pairs, token: (
        url,
        dict(data=urlencoded(dates(pairs, "31.12.9999"), token), content_type=FORM),
    ),
    "huge numbers": lambda url, pairs, token: (
        url,
        dict(data=urlencoded(huge_numbers(pairs), token), content_type=FORM),
    ),
    "file parts": lambda url, pairs, token: (url, dict(data=file_parts(pairs, token), content_type=MULTIPART)),
    "5,000 parts": lambda url, pairs, token: (url, dict(data=many_parts(pairs, token), content_type=MULTIPART)),
    "5,000 fields": lambda url, pairs, token: (
        url,
        dict(data=urlencoded(pairs + [(f"feld{i}", "x") for i in range(5000)], token), content_type=FORM),
    ),
    "bad UTF-8 body": lambda url, pairs, token: (url, dict(data=bad_utf8_body(pairs, token), content_type=FORM)),
    # Last: repeated valid values may well be accepted and change what the route shows next.
    "repeated fields": lambda url, pairs, token: (
        url,
        dict(data=urlencoded(repeated(pairs), token), content_type=FORM),
    ),
}
MIXED = {
    "mixed": lambda url, pairs, token: (
        query_huge(url),
        dict(
            data=urlencoded(repeated(huge_numbers(dates(pairs, "0001-01-01"))), token, extra=f"&suche={BAD_UTF8}"),
            content_type=FORM,
        ),
    )
}
MIXED_QUERY = {"mixed": lambda url, pairs, token: (query_huge(url) + "&" + query_bad_utf8("x").split("?", 1)[1], {})}
QUERY_CLASSES = {
    "huge query": lambda url, pairs, token: (query_huge(url), {}),
    "bad UTF-8 query": lambda url, pairs, token: (query_bad_utf8(url), {}),
}


def send_all(client, app, entry, s, *, mixed: bool) -> list[tuple[str, int]]:
    """Each input class as one request; a fresh CSRF token for each (a log-in renews the session)."""
    url = entry.url_for(s)
    if entry.method in ("POST", "PUT", "PATCH", "DELETE"):
        classes = MIXED if mixed else BODY_CLASSES
        pairs = _pairs(entry.data(s) if entry.data else {})
    else:
        classes, pairs = (MIXED_QUERY if mixed else QUERY_CLASSES), []
    answers = []
    for name, build in classes.items():
        target, kwargs = build(url, pairs, csrf_token(client, app))
        answers.append((name, client.open(target, method=entry.method, **kwargs).status_code))
    return answers


def representative(entry) -> str | None:
    # A public page is there for those not logged in (the log-in form sends others home).
    preference = PREFERENCE if entry.expect.protected else ("anonymous", *PREFERENCE)
    for name in preference:
        actor = m.ACTORS[name]
        if m.allows(entry.expect.outcome(actor)) and (actor.logged_in or not entry.expect.protected):
            return name
    return None


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_no_input_makes_a_server_error(app, factory, entry):
    s = m.Scenario(factory)
    clients = {}
    for role in ROLES:
        client = clients[role] = app.test_client()
        enter(client, app, m.ACTORS[role], s)
        s.user = None  # objects built for this role's account must not follow the next role
    answers = [
        (role, name, status) for role in ROLES for name, status in send_all(clients[role], app, entry, s, mixed=True)
    ]
    chosen = representative(entry)
    if chosen is not None:
        answers += [(chosen, name, status) for name, status in send_all(clients[chosen], app, entry, s, mixed=False)]
    errors = [answer for answer in answers if answer[2] >= 500]
    assert not errors, errors
