"""The consent register: recording, scope, expiry at Berlin midnight, changes as new records, withdrawal."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.cases.models import Consent
from app.clock import berlin_today
from app.conferences.models import Invitation
from app.permissions import Reader, can, valid_consent, visible_content
from tests.cases.conftest import audit_actions, count, in_request
from tests.conftest import login_as, outbox_messages, post, text_of


def consent_data(agency=None, **overrides):
    today = berlin_today()
    data = {
        "signed_on": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "scope": ["debt", "housing"],
        "proof_reference": "E-Akte, Dokument 12",
        "note": "",
    }
    if agency is not None:
        data["agency_id"] = str(agency.id)
    data.update(overrides)
    return data


def form_values(**overrides):
    """What a validated consent form hands to the service."""
    today = berlin_today()
    values = {
        "signed_on": today,
        "valid_until": today + timedelta(days=365),
        "scope": ["debt"],
        "proof_reference": "E-Akte, Dokument 12",
        "note": "",
    }
    values.update(overrides)
    return values


def de(day: date) -> str:
    return day.strftime("%d.%m.%Y")


@pytest.fixture
def case(factory, team, caseworker, district):
    return factory.case(team=team, caseworker=caseworker, district=district, internal_reference="GEHEIM-77")


@pytest.fixture
def agency(factory):
    return factory.agency("Schuldnerberatung Offenbach")


def consents(session, case):
    session.expire_all()
    return list(session.execute(select(Consent).where(Consent.case_id == case.id).order_by(Consent.id)).scalars())


# --- recording ----------------------------------------------------------------------------


def test_form_proposes_today_and_the_configured_validity(app, client, case, caseworker, agency):
    app.config["CONSENT_DEFAULT_VALIDITY_DAYS"] = 100
    try:
        login_as(client, app, caseworker)
        page = client.get(f"/faelle/{case.id}/einwilligungen/neu").get_data(as_text=True)
    finally:
        app.config["CONSENT_DEFAULT_VALIDITY_DAYS"] = 365
    today = berlin_today()
    assert f'value="{today.isoformat()}"' in page
    assert f'value="{(today + timedelta(days=100)).isoformat()}"' in page
    assert "Schuldnerberatung Offenbach" in page


def test_record_a_consent_and_see_it_in_plain_german(app, client, session, case, caseworker, agency):
    login_as(client, app, caseworker)
    until = berlin_today() + timedelta(days=200)
    r = post(
        client,
        app,
        f"/faelle/{case.id}/einwilligungen/neu",
        consent_data(agency, valid_until=de(until), scope=["housing", "debt"], note="Mündlich erläutert."),
    )
    assert r.status_code == 302
    [consent] = consents(session, case)
    assert (consent.agency_id, consent.valid_until, consent.scope, consent.recorded_by_id) == (
        agency.id,
        until,
        ["debt", "housing"],
        caseworker.id,
    )
    assert (consent.proof_reference, consent.note, consent.replaces_id) == (
        "E-Akte, Dokument 12",
        "Mündlich erläutert.",
        None,
    )
    [entry] = audit_actions(session, "consent.recorded")
    assert entry.details == {
        "case_id": case.id,
        "agency_id": agency.id,
        "replaces_id": None,
        "scope": ["debt", "housing"],
    }
    page = text_of(client.get(f"/faelle/{case.id}"))
    assert (
        f"Schuldnerberatung Offenbach</strong>: Datenweitergabe erlaubt bis {de(until)} für: Schulden, Wohnen" in page
    )


def test_status_texts_for_withdrawn_and_expired_consents(app, client, factory, case, caseworker):
    today = berlin_today()
    withdrawn = factory.agency("Bildungswerk")
    expired = factory.agency("Gesundheitsamt")
    factory.consent(case, withdrawn, withdrawn_on=today - timedelta(days=3))
    factory.consent(case, expired, signed_on=today - timedelta(days=400), valid_until=today - timedelta(days=10))
    login_as(client, app, caseworker)
    page = text_of(client.get(f"/faelle/{case.id}"))
    assert f"Bildungswerk</strong>: Widerrufen am {de(today - timedelta(days=3))} – keine Datenweitergabe." in page
    assert (
        f"Gesundheitsamt</strong>: Abgelaufen am {de(today - timedelta(days=9))} "
        f"(gültig bis {de(today - timedelta(days=10))}) – keine Datenweitergabe."
    ) in page


def test_second_consent_for_an_agency_with_live_access_is_refused(
    app, client, session, factory, case, caseworker, agency
):
    factory.consent(case, agency)
    login_as(client, app, caseworker)
    r = post(client, app, f"/faelle/{case.id}/einwilligungen/neu", consent_data(agency))
    assert r.status_code == 400
    assert "Für diese Einrichtung ist schon eine Einwilligung erfasst." in text_of(r)
    assert len(consents(session, case)) == 1


def test_new_signature_after_withdrawal_continues_the_history(app, client, session, factory, case, caseworker, agency):
    old = factory.consent(case, agency, withdrawn_on=berlin_today() - timedelta(days=1))
    login_as(client, app, caseworker)
    assert post(client, app, f"/faelle/{case.id}/einwilligungen/neu", consent_data(agency)).status_code == 302
    first, new = consents(session, case)
    assert first.id == old.id and first.superseded_at is not None and first.withdrawn_on is not None
    assert new.replaces_id == old.id and new.superseded_at is None
    assert valid_consent_now(app, session, case, agency).id == new.id


def valid_consent_now(app, session, case, agency, day=None):
    session.expire_all()
    with in_request(app, session):
        return valid_consent(case.id, agency.id, day)


# --- scope ----------------------------------------------------------------------------------


def test_scope_is_stored_as_checked_and_decides_which_notes_a_partner_sees(app, factory, case, agency):
    consent = factory.consent(case, agency, scope=("general", "addiction"))
    author = factory.user("caseworker", team=None)
    conf = factory.conference(case)
    general = factory.note(conf, author, categories=("general",), agency=None)
    addiction = factory.note(conf, author, categories=("addiction",), agency=None)
    health = factory.note(conf, author, categories=("health",), agency=None)
    mixed = factory.note(conf, author, categories=("general", "health"), agency=None)
    internal = factory.note(conf, author, categories=("general",), agency=None, visibility="jobcenter")
    content = {
        "notes": [
            {"id": n.id, "agency_id": n.agency_id, "categories": n.categories, "visibility": n.visibility}
            for n in (general, addiction, health, mixed, internal)
        ]
    }
    seen = [n["id"] for n in visible_content(Reader(agency.id, frozenset(consent.scope)), content)["notes"]]
    assert seen == [general.id, addiction.id]
    assert consent.covers(["general"]) and not consent.covers(["health"])


# --- expiry: valid through valid_until, Europe/Berlin ------------------------------------------


class _Clock:
    """Replaces ``datetime`` in app.clock so that berlin_today() sees a chosen instant."""

    def __init__(self, instant):
        self.instant = instant

    def now(self, tz=None):
        return self.instant.astimezone(tz) if tz else self.instant


@pytest.mark.parametrize(
    "last_utc,first_utc",
    [
        # Winter (CET, UTC+1) and summer (CEST, UTC+2): the day ends at Berlin midnight, not at UTC midnight.
        (datetime(2026, 10, 31, 22, 59, 59, tzinfo=UTC), datetime(2026, 10, 31, 23, 0, tzinfo=UTC)),
        (datetime(2026, 6, 30, 21, 59, 59, tzinfo=UTC), datetime(2026, 6, 30, 22, 0, tzinfo=UTC)),
    ],
)
def test_consent_expires_at_midnight_in_berlin(app, monkeypatch, session, factory, case, agency, last_utc, first_utc):
    valid_until = last_utc.date()
    factory.consent(case, agency, signed_on=date(2026, 1, 1), valid_until=valid_until)
    partner = factory.user("partner", agency=agency)
    conf = factory.conference(case)
    factory.invitation(conf, agency, status="accepted")

    def access_at(instant):
        monkeypatch.setattr(clock, "datetime", _Clock(instant))
        with in_request(app, session):
            return valid_consent(case.id, agency.id) is not None, can(partner, "conference.view", conf)

    assert access_at(last_utc) == (True, True)  # 23:59:59 in Berlin on the last valid day
    assert access_at(first_utc) == (False, False)  # 00:00 in Berlin the next day
    assert valid_consent_now(app, session, case, agency, valid_until) is not None
    assert valid_consent_now(app, session, case, agency, valid_until + timedelta(days=1)) is None


# --- changes are new records ---------------------------------------------------------------------


def test_change_is_a_new_record_replacing_the_old_one(app, client, session, factory, case, caseworker, agency):
    old = factory.consent(case, agency, scope=("debt",))
    login_as(client, app, caseworker)
    page = client.get(f"/faelle/{case.id}/einwilligungen/{old.id}/aendern").get_data(as_text=True)
    assert "Akte Blatt 12" in page and "agency_id" not in page
    until = berlin_today() + timedelta(days=30)
    r = post(
        client,
        app,
        f"/faelle/{case.id}/einwilligungen/{old.id}/aendern",
        consent_data(
            scope=["debt", "health"],
            valid_until=until.isoformat(),
            proof_reference="Akte Blatt 13",
            signed_on=old.signed_on.isoformat(),
        ),
    )
    assert r.status_code == 302
    first, new = consents(session, case)
    # The old record keeps what it said; only the marker that it was replaced is set.
    assert (first.scope, first.proof_reference, first.withdrawn_on) == (["debt"], "Akte Blatt 12", None)
    assert first.superseded_at is not None
    assert (new.replaces_id, new.scope, new.valid_until, new.agency_id) == (
        old.id,
        ["health", "debt"],
        until,
        agency.id,
    )
    assert valid_consent_now(app, session, case, agency).id == new.id
    [entry] = audit_actions(session, "consent.changed")
    assert (entry.object_id, entry.details["replaces_id"]) == (new.id, old.id)
    page = text_of(client.get(f"/faelle/{case.id}"))
    assert "Akte Blatt 12" in page and "Akte Blatt 13" in page and "ersetzt am" in page
    assert f"Datenweitergabe erlaubt bis {de(until)} für: Gesundheit, Schulden" in page

    # The replaced record cannot be changed or withdrawn any more.
    for action in ("aendern", "widerrufen"):
        r = post(
            client,
            app,
            f"/faelle/{case.id}/einwilligungen/{old.id}/{action}",
            consent_data(withdrawn_on=berlin_today().isoformat()),
        )
        assert r.status_code == 409
        assert "Diese Einwilligung wurde inzwischen geändert oder widerrufen" in text_of(r)
    assert len(consents(session, case)) == 2


@pytest.mark.committed
def test_change_racing_with_another_change_is_refused(app, session, factory, case, caseworker, agency):
    from app import db
    from app.cases import services

    mine = factory.consent(case, agency)  # as loaded by the first of two requests
    with app.app_context():
        other = db.new_session()
        services.change_consent(other, other.get(Consent, mine.id), caseworker, form_values(), ())
        other.commit()
        other.close()
    assert mine.superseded_at is None  # this copy does not know yet
    with in_request(app, session):
        with pytest.raises(services.ConsentChanged):
            services.change_consent(session, mine, caseworker, form_values(scope=["housing"]), ())
        session.rollback()
    assert [c.scope for c in consents(session, case)] == [["general", "work"], ["debt"]]


# --- withdrawal -------------------------------------------------------------------------------


def test_withdrawal_ends_access_at_once_and_cancels_open_invitations(
    app, client, session, factory, case, caseworker, agency
):
    consent = factory.consent(case, agency)
    partner = factory.user("partner", agency=agency)
    other_agency = factory.agency("Bildungswerk")
    factory.consent(case, other_agency)
    planned = factory.conference(case)
    later = factory.conference(case, starts_at=planned.starts_at + timedelta(days=30))
    held = factory.conference(case, starts_at=planned.starts_at - timedelta(days=30), status="held")
    pending = factory.invitation(planned, agency, status="pending")
    accepted = factory.invitation(later, agency, status="accepted")
    declined_conf = factory.conference(case, starts_at=planned.starts_at + timedelta(days=60))
    declined = factory.invitation(declined_conf, agency, status="declined")
    past = factory.invitation(held, agency, status="accepted")
    other = factory.invitation(planned, other_agency, status="pending")

    with in_request(app, session):
        assert can(partner, "conference.view", planned)

    login_as(client, app, caseworker)
    r = post(
        client,
        app,
        f"/faelle/{case.id}/einwilligungen/{consent.id}/widerrufen",
        {"withdrawn_on": de(berlin_today()), "note": "Telefonisch widerrufen."},
    )
    assert r.status_code == 302

    session.expire_all()
    with in_request(app, session):
        assert not can(partner, "conference.view", planned)
        assert valid_consent(case.id, agency.id) is None
    session.expire_all()
    status = {i.id: (i.status, i.cancelled_at is not None) for i in session.execute(select(Invitation)).scalars()}
    assert status[pending.id] == ("cancelled", True) and status[accepted.id] == ("cancelled", True)
    assert status[declined.id] == ("declined", False)
    assert status[past.id] == ("accepted", False)
    assert status[other.id] == ("pending", False)

    record = session.get(Consent, consent.id)
    assert (record.withdrawn_on, record.withdrawal_note, record.withdrawn_by_id) == (
        berlin_today(),
        "Telefonisch widerrufen.",
        caseworker.id,
    )
    assert record.superseded_at is None and record.scope == ["general", "work"]  # the rest stays as it was

    mails = outbox_messages(app)
    assert len(mails) == 2
    for msg in mails:
        assert msg["To"] == agency.contact_email
        body = msg.get_body(("plain",)).get_content()  # the calendar CANCEL is attached
        assert case.pseudonym in msg["Subject"] and case.pseudonym in body
        assert "GEHEIM-77" not in body and "Telefonisch widerrufen" not in body
        assert "Einladung" in msg["Subject"] and "zurückgezogen" in msg["Subject"]
    cancelled = audit_actions(session, "invitation.cancelled")
    assert sorted(e.object_id for e in cancelled) == sorted([pending.id, accepted.id])
    [withdrawn] = audit_actions(session, "consent.withdrawn")
    assert "Telefonisch" not in repr(withdrawn.details)
    page = text_of(client.get(f"/faelle/{case.id}"))
    assert "2 offene Einladungen wurden zurückgezogen" in page
    assert f"Widerrufen am {de(berlin_today())}" in page


def test_cancel_invitations_for_consent_is_callable_on_its_own(app, session, factory, case, caseworker, agency):
    from app.cases.services import cancel_invitations_for_consent

    consent = factory.consent(case, agency)
    inv = factory.invitation(factory.conference(case), agency)
    with in_request(app, session):
        assert cancel_invitations_for_consent(session, consent, caseworker) == [inv]
        session.commit()
        assert cancel_invitations_for_consent(session, consent, caseworker) == []
    assert len(outbox_messages(app)) == 1


def test_withdrawal_dates_are_checked(app, client, session, factory, case, caseworker, agency):
    consent = factory.consent(case, agency, signed_on=berlin_today() - timedelta(days=5))
    login_as(client, app, caseworker)
    url = f"/faelle/{case.id}/einwilligungen/{consent.id}/widerrufen"
    cases = {
        (berlin_today() + timedelta(days=1)).isoformat(): "Ein Widerruf gilt sofort",
        (berlin_today() - timedelta(days=6)).isoformat(): "Der Widerruf kann nicht vor der Unterschrift liegen.",
        "31.02.2026": "Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ).",
        "gestern": "Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ).",
        "": "Bitte füllen Sie dieses Feld aus.",
    }
    for value, message in cases.items():
        r = post(client, app, url, {"withdrawn_on": value, "note": "Notiz bleibt"})
        assert r.status_code == 400, value
        assert message in text_of(r) and "Notiz bleibt" in text_of(r)
    assert consents(session, case)[0].withdrawn_on is None
    assert post(client, app, url, {"withdrawn_on": berlin_today().isoformat()}).status_code == 302
    r = post(client, app, url, {"withdrawn_on": berlin_today().isoformat()})
    assert r.status_code == 409  # withdrawn once is enough


def test_withdrawal_note_passes_the_guard(app, client, session, factory, case, caseworker, agency):
    consent = factory.consent(case, agency)
    login_as(client, app, caseworker)
    url = f"/faelle/{case.id}/einwilligungen/{consent.id}/widerrufen"
    note = "Widerruf per Mail von person@example.org"
    r = post(client, app, url, {"withdrawn_on": berlin_today().isoformat(), "note": note})
    assert r.status_code == 400 and "Enthält vermutlich eine E-Mail-Adresse" in text_of(r)
    assert (
        post(
            client, app, url, {"withdrawn_on": berlin_today().isoformat(), "note": note, "confirm_not_personal": "y"}
        ).status_code
        == 302
    )
    [entry] = audit_actions(session, "pii.override")
    assert (entry.object_type, entry.object_id, entry.details) == ("consent", consent.id, {"kinds": ["email"]})


def test_history_is_kept_through_change_withdrawal_and_renewal(app, client, session, factory, case, caseworker, agency):
    login_as(client, app, caseworker)
    post(client, app, f"/faelle/{case.id}/einwilligungen/neu", consent_data(agency, scope=["debt"]))
    [first] = consents(session, case)
    post(client, app, f"/faelle/{case.id}/einwilligungen/{first.id}/aendern", consent_data(scope=["debt", "work"]))
    second = consents(session, case)[1]
    post(
        client,
        app,
        f"/faelle/{case.id}/einwilligungen/{second.id}/widerrufen",
        {"withdrawn_on": berlin_today().isoformat()},
    )
    post(client, app, f"/faelle/{case.id}/einwilligungen/neu", consent_data(agency, scope=["housing"]))
    records = consents(session, case)
    assert [c.scope for c in records] == [["debt"], ["work", "debt"], ["housing"]]
    assert [c.replaces_id for c in records] == [None, records[0].id, records[1].id]
    assert records[1].withdrawn_on == berlin_today()
    assert [c.superseded_at is None for c in records] == [False, False, True]
    assert count(session, Consent) == 3
    assert [e.action for e in audit_actions(session) if e.action.startswith("consent.")] == [
        "consent.recorded",
        "consent.changed",
        "consent.withdrawn",
        "consent.recorded",
    ]


def test_change_that_ends_the_consent_earlier_cancels_invitations_beyond_it(
    app, client, session, factory, case, caseworker, agency
):
    consent = factory.consent(case, agency)
    today = berlin_today()
    soon = factory.conference(
        case,
        starts_at=datetime.combine(today + timedelta(days=5), datetime.min.time(), tzinfo=UTC).replace(hour=9),
    )
    later = factory.conference(
        case,
        starts_at=datetime.combine(today + timedelta(days=40), datetime.min.time(), tzinfo=UTC).replace(hour=9),
    )
    kept = factory.invitation(soon, agency, status="accepted")
    beyond = factory.invitation(later, agency, status="pending")
    login_as(client, app, caseworker)
    r = post(
        client,
        app,
        f"/faelle/{case.id}/einwilligungen/{consent.id}/aendern",
        consent_data(valid_until=(today + timedelta(days=20)).isoformat(), signed_on=consent.signed_on.isoformat()),
    )
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Invitation, kept.id).status == "accepted"
    assert session.get(Invitation, beyond.id).status == "cancelled"
    session.commit()
    [entry] = audit_actions(session, "invitation.cancelled")
    assert (entry.object_id, entry.details["reason"]) == (beyond.id, "consent_changed")
    [mail] = outbox_messages(app)
    assert mail["To"] == agency.contact_email and case.pseudonym in mail["Subject"]
