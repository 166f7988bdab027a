"""Password reset (issue 10, finding 5): the answer does not tell whether an address has an
account (same answer, same bookkeeping, the e-mail leaves after the response), requests are
limited per client address and per account, one reset link per account works at a time, and
a link from before a deactivation stays dead after a reactivation."""

import re

from sqlalchemy import func, select, update

from app.accounts.models import AccountToken, ResetRequest
from app.audit import AuditEntry
from app.clock import utcnow
from tests.conftest import login_as, outbox_messages, post, text_of
from tests.dbstate import scalars

SAME_ANSWER = "Wenn die Adresse zu einem aktiven Konto gehört, erhalten Sie in Kürze eine E-Mail mit einem Link."
LINK_RE = re.compile(r"http://localhost(/konto/link/reset/[A-Za-z0-9_-]+)")


def _from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _request(client, app, email, **kw):
    return post(client, app, "/passwort-vergessen", {"email": email}, **kw)


def _links(app):
    return [LINK_RE.search(m.get_content()).group(1) for m in outbox_messages(app)]


def _count(session, model, *where):
    return scalars(session, select(func.count()).select_from(model).where(*where))[0]


def _actions(session):
    return scalars(session, select(AuditEntry.action).order_by(AuditEntry.id))


def test_the_e_mail_leaves_only_after_the_response(app, session, factory):
    user = factory.user(email="erika@example.org")
    answers = []
    for email in ("erika@example.org", "niemand@example.org"):
        client = _from(app, "198.51.100.1")
        before = len(outbox_messages(app))
        r = _request(client, app, email, buffered=False)
        # The answer is complete, the e-mail not yet written: it waits for the response to close.
        answers.append((r.status_code, r.location))
        assert len(outbox_messages(app)) == before
        r.close()
        answers.append(text_of(client.get(r.location)).count(SAME_ANSWER))
    assert answers == [(302, "/anmelden"), 1] * 2
    assert [m["To"] for m in outbox_messages(app)] == [user.email]
    # Both requests did the same bookkeeping: one counted request, one audit entry each.
    assert _count(session, ResetRequest) == 2
    assert _actions(session) == ["account.reset_sent", "account.reset_requested"]


def test_a_failed_reset_request_sends_nothing_after_the_response(app, client, factory):
    factory.user(email="erika@example.org")
    r = _request(client, app, "keine-adresse", buffered=False)
    r.close()
    assert r.status_code == 400 and outbox_messages(app) == []


def test_an_account_gets_three_links_an_hour_and_only_the_newest_works(app, session, factory):
    user = factory.user(email="erika@example.org")
    assert (app.config["RESET_MAX_PER_ACCOUNT"], app.config["RESET_MAX_PER_ADDRESS"]) == (3, 10)
    links = []
    for n in range(5):
        client = _from(app, f"198.51.100.{n}")  # from several addresses: the account counts
        before = set(_links(app))
        r = _request(client, app, user.email)
        assert r.status_code == 302 and SAME_ANSWER in text_of(client.get(r.location))
        links += sorted(set(_links(app)) - before)
    assert len(links) == 3 == len(outbox_messages(app))  # the fourth and fifth: the same answer, no e-mail
    assert _count(session, AccountToken, AccountToken.used_at.is_(None)) == 1
    assert _actions(session) == ["account.reset_sent"] * 3 + ["account.reset_throttled"] * 2
    [*_, throttled] = scalars(session, select(AuditEntry).order_by(AuditEntry.id))
    assert (throttled.object_id, throttled.details) == (user.id, {"limit": "account"})
    client = app.test_client()
    assert [client.get(link).status_code for link in links] == [404, 404, 200]
    # An hour later the account may ask again.
    session.execute(update(AccountToken).values(created_at=utcnow().replace(year=2020)))
    session.commit()
    _request(_from(app, "198.51.100.9"), app, user.email)
    assert len(_links(app)) == 4


def test_an_address_may_ask_ten_times_an_hour(app, session, factory):
    factory.user(email="erika@example.org")
    office = _from(app, "203.0.113.7")
    for n in range(10):
        assert _request(office, app, f"person{n}@example.org").status_code == 302
    r = _request(office, app, "erika@example.org")
    assert r.status_code == 429
    assert "zu viele Anfragen für ein neues Passwort" in text_of(r)
    assert 'value="erika@example.org"' in r.get_data(as_text=True)
    assert outbox_messages(app) == []
    assert _actions(session)[-1] == "account.reset_throttled"
    # Another address is not affected; an hour later this one may ask again.
    assert _request(_from(app, "198.51.100.1"), app, "erika@example.org").status_code == 302
    session.execute(update(ResetRequest).values(at=utcnow().replace(year=2020)))
    session.commit()
    assert _request(office, app, "erika@example.org").status_code == 302
    assert len(outbox_messages(app)) == 2
    # Old requests are deleted as new ones come; addresses are stored hashed.
    assert _count(session, ResetRequest) == 1
    assert not any("203.0.113.7" in key for key in scalars(session, select(ResetRequest.key)))


def test_a_link_from_before_a_deactivation_stays_dead_after_reactivation(app, client, session, factory):
    user = factory.user(email="erika@example.org")
    _request(client, app, user.email)
    [link] = _links(app)
    admin = app.test_client()
    login_as(admin, app, factory.user("admin"))
    assert post(admin, app, f"/verwaltung/benutzer/{user.id}/deaktivieren").status_code == 302
    assert client.get(link).status_code == 404
    assert post(admin, app, f"/verwaltung/benutzer/{user.id}/aktivieren").status_code == 302
    assert client.get(link).status_code == 404
    assert (
        post(
            client, app, link, {"new_password": "Ganz-Neues-Passwort-2026", "confirm": "Ganz-Neues-Passwort-2026"}
        ).status_code
        == 404
    )
    # A new request after the reactivation works.
    _request(client, app, user.email)
    [new] = set(_links(app)) - {link}
    assert client.get(new).status_code == 200
