"""Access-matrix entries for the case and consent routes (issue 3), in the vocabulary of
``tests/access_matrix.py``, which imports this module at its end.

The scenario: ``case`` is an open case of ``team`` with a valid consent of ``agency`` (the
generic ``partner`` actor's agency), a withdrawn and an expired consent of two other
agencies; ``closed_case`` is closed; ``case_other_team`` belongs to ``other_team`` and holds
a consent of ``agency`` as well. Object ids are swapped between the teams (a case of one
team requested by the other, a consent of another case or team under this case's URL, a
caseworker of the other team as the new owner) to prove there is no IDOR.

Actors added here, refused everywhere unless a route names them:

- ``caseworker_other_team``, ``team_lead_other_team``: staff of ``other_team``; they see
  their own team's cases and nothing of ``team``'s;
- ``partner_consent_expired``: invited to ``conference`` (accepted), its consent for the
  case expired yesterday;
- ``partner_no_consent``: its agency holds no consent at all, though a pending invitation to
  ``conference`` exists.

No partner sees any case page: partner access goes through conferences (DESIGN.md section 4).
``test_access_matrix.py`` also searches every response body for the internal references of
all cases and fails if one reaches anyone but staff of the owning team.
"""

import os
from datetime import timedelta

from sqlalchemy import func, select

from app.cases.models import Case
from app.clock import berlin_today
from tests.access_matrix import OBJECTS, Redirect, actor, obj, protected, route

# --- objects -------------------------------------------------------------------------------


@obj
def other_team(s):
    return s.factory.team()


@obj
def case(s):
    c = s.factory.case(team=s.team, caseworker=s.case_owner, district=s.district)
    s.factory.consent(c, s.agency, scope=("general", "debt"))
    today = berlin_today()
    s.factory.consent(c, s.factory.agency(), withdrawn_on=today - timedelta(days=2))
    s.factory.consent(
        c, s.factory.agency(), signed_on=today - timedelta(days=400), valid_until=today - timedelta(days=1)
    )
    return c


@obj
def case_owner(s):
    return s.factory.user("caseworker", team=s.team)


@obj
def case_consent(s):
    """``agency``'s valid consent for ``case``."""
    s.case  # noqa: B018
    return _consent_of(s, s.case, s.agency)


@obj
def closed_case(s):
    return s.factory.case(
        team=s.team, caseworker=s.case_owner, district=s.district, status="closed", close_reason="work"
    )


@obj
def sibling_case_consent(s):
    """A consent of another case of the same team."""
    sibling = s.factory.case(team=s.team, caseworker=s.case_owner, district=s.district)
    return s.factory.consent(sibling, s.agency)


@obj
def other_owner(s):
    return s.factory.user("caseworker", team=s.other_team)


@obj
def case_other_team(s):
    c = s.factory.case(team=s.other_team, caseworker=s.other_owner, district=s.district)
    s.factory.consent(c, s.agency)
    return c


@obj
def consent_other_team(s):
    s.case_other_team  # noqa: B018
    return _consent_of(s, s.case_other_team, s.agency)


@obj
def new_agency(s):
    """An agency without a consent for any case yet."""
    return s.factory.agency()


def _consent_of(s, case, agency):
    from app.cases.models import Consent

    return s.factory.s.execute(
        select(Consent).where(Consent.case_id == case.id, Consent.agency_id == agency.id)
    ).scalar_one()


# --- actors ----------------------------------------------------------------------------------


@actor()
def caseworker_other_team(s):
    return s.factory.user("caseworker", team=s.other_team)


@actor()
def team_lead_other_team(s):
    return s.factory.user("team_lead", team=s.other_team)


def _cases_and_conference(s):
    """``case`` and, once the conference routes are in the matrix, the case and conference they use."""
    if "conference" not in OBJECTS:
        return [s.case], None
    return [s.case, s.conf_case], s.conference


@actor()
def partner_consent_expired(s):
    agency = s.factory.agency()
    today = berlin_today()
    cases, conference = _cases_and_conference(s)
    for c in cases:
        s.factory.consent(c, agency, signed_on=today - timedelta(days=366), valid_until=today - timedelta(days=1))
    if conference is not None:
        s.factory.invitation(conference, agency, status="accepted")
    return s.factory.user("partner", agency=agency)


@actor()
def partner_no_consent(s):
    agency = s.factory.agency()
    _cases, conference = _cases_and_conference(s)
    if conference is not None:
        s.factory.invitation(conference, agency, status="pending")
    return s.factory.user("partner", agency=agency)


# --- routes ----------------------------------------------------------------------------------

OWN = {"team_lead": 200, "caseworker": 200}
OTHER = {"team_lead_other_team": 200, "caseworker_other_team": 200}
ALL_STAFF = {**OWN, **OTHER}


def _to(name):
    return Redirect(lambda s: f"/faelle/{getattr(s, name).id}")


def _to_newest_case(s):
    s.factory.s.commit()
    return f"/faelle/{s.factory.s.execute(select(func.max(Case.id))).scalar()}"


def own(ok):
    """``ok`` for staff of ``team``; everyone else (other team, partners, admin) 404."""
    return protected(404, team_lead=ok, caseworker=ok)


def other(ok):
    """``ok`` for staff of ``other_team`` on their own case; ``team``'s staff and everyone else 404."""
    return protected(404, team_lead_other_team=ok, caseworker_other_team=ok)


def _case_form(name):
    def data(s):
        c = getattr(s, name)
        return {
            "district_id": str(s.district.id),
            "age_band": "u25",
            "household_type": "single",
            "obstacles": ["debt"],
            "summary": "Sucht eine Ausbildung.",
            "goals": "",
            "internal_reference": c.internal_reference,
            "version": str(c.version),
        }

    return data


def _consent_form(agency_name=None):
    def data(s):
        today = berlin_today()
        form = {
            "signed_on": today.isoformat(),
            "valid_until": (today + timedelta(days=90)).isoformat(),
            "scope": ["debt"],
            "proof_reference": "E-Akte, Dokument 3",
            "note": "",
        }
        if agency_name:
            form["agency_id"] = str(getattr(s, agency_name).id)
        return form

    return data


def _withdrawal(s):
    return {"withdrawn_on": berlin_today().isoformat(), "note": ""}


F = "/faelle/<int:case_id>"
E = f"{F}/einwilligungen"

route("GET", "/faelle", "/faelle", protected(403, **ALL_STAFF))


def _reference_search(s):
    """A part common to the references of both teams' cases: each team finds only its own
    (the matrix fails if a reference of another team reaches the page)."""
    common = os.path.commonprefix([s.case.internal_reference, s.case_other_team.internal_reference])
    assert len(common) >= 4, (s.case.internal_reference, s.case_other_team.internal_reference)
    return {"suche": common, "status": "alle"}


# The list's search form posts (an internal reference must not stand in a URL); it changes nothing.
route("POST", "/faelle", "/faelle", protected(403, **ALL_STAFF), data=_reference_search)
route("GET", "/faelle/neu", "/faelle/neu", protected(403, **ALL_STAFF))
route(
    "POST",
    "/faelle/neu",
    "/faelle/neu",
    protected(403, **{name: Redirect(_to_newest_case) for name in ALL_STAFF}),
    data=_case_form("case"),
)

for method, suffix, ok, _data in (
    ("GET", "", 200, None),
    ("GET", "/bearbeiten", 200, None),
    ("GET", "/zustaendigkeit", 200, None),
    ("GET", "/schliessen", 200, None),
    ("GET", "/einwilligungen/neu", 200, None),
):
    route(method, F + suffix, lambda s, x=suffix: f"/faelle/{s.case.id}{x}", own(ok))
    route(
        method,
        F + suffix,
        lambda s, x=suffix: f"/faelle/{s.case_other_team.id}{x}",
        other(ok),
        name="other team's case",
    )
    route(method, F + suffix, lambda s, x=suffix: f"/faelle/999999{x}", protected(404), name="unknown id")

route("POST", f"{F}/bearbeiten", lambda s: f"/faelle/{s.case.id}/bearbeiten", own(_to("case")), data=_case_form("case"))
route(
    "POST",
    f"{F}/bearbeiten",
    lambda s: f"/faelle/{s.case_other_team.id}/bearbeiten",
    other(_to("case_other_team")),
    data=_case_form("case_other_team"),
    name="other team's case",
)
route("GET", f"{F}/bearbeiten", lambda s: f"/faelle/{s.closed_case.id}/bearbeiten", own(409), name="closed case")
route(
    "POST",
    f"{F}/bearbeiten",
    lambda s: f"/faelle/{s.closed_case.id}/bearbeiten",
    own(409),
    data=_case_form("closed_case"),
    name="closed case",
)

route(
    "POST",
    f"{F}/zustaendigkeit",
    lambda s: f"/faelle/{s.case.id}/zustaendigkeit",
    own(_to("case")),
    data=lambda s: {"caseworker_id": str(s.case_owner.id)},
)
route(
    "POST",
    f"{F}/zustaendigkeit",
    lambda s: f"/faelle/{s.case.id}/zustaendigkeit",
    own(400),
    data=lambda s: {"caseworker_id": str(s.other_owner.id)},
    name="to a caseworker of another team",
)
route(
    "POST",
    f"{F}/zustaendigkeit",
    lambda s: f"/faelle/{s.case_other_team.id}/zustaendigkeit",
    other(_to("case_other_team")),
    data=lambda s: {"caseworker_id": str(s.other_owner.id)},
    name="other team's case",
)

route(
    "POST",
    f"{F}/schliessen",
    lambda s: f"/faelle/{s.case.id}/schliessen",
    own(_to("case")),
    data=lambda s: {"reason": "training"},
)
route(
    "POST",
    f"{F}/schliessen",
    lambda s: f"/faelle/{s.case_other_team.id}/schliessen",
    other(_to("case_other_team")),
    data=lambda s: {"reason": "training"},
    name="other team's case",
)
route("POST", f"{F}/wiedereroeffnen", lambda s: f"/faelle/{s.closed_case.id}/wiedereroeffnen", own(_to("closed_case")))
route("POST", f"{F}/wiedereroeffnen", lambda s: f"/faelle/{s.case.id}/wiedereroeffnen", own(409), name="open case")

# consents

route(
    "POST",
    f"{E}/neu",
    lambda s: f"/faelle/{s.case.id}/einwilligungen/neu",
    own(_to("case")),
    data=_consent_form("new_agency"),
)
route(
    "POST",
    f"{E}/neu",
    lambda s: f"/faelle/{s.case_other_team.id}/einwilligungen/neu",
    other(_to("case_other_team")),
    data=_consent_form("new_agency"),
    name="other team's case",
)
route(
    "POST",
    f"{E}/neu",
    lambda s: f"/faelle/{s.closed_case.id}/einwilligungen/neu",
    own(409),
    data=_consent_form("new_agency"),
    name="closed case",
)

for action, data in (("aendern", _consent_form()), ("widerrufen", _withdrawal)):
    rule = f"{E}/<int:consent_id>/{action}"
    route("GET", rule, lambda s, a=action: f"/faelle/{s.case.id}/einwilligungen/{s.case_consent.id}/{a}", own(200))
    route(
        "POST",
        rule,
        lambda s, a=action: f"/faelle/{s.case.id}/einwilligungen/{s.case_consent.id}/{a}",
        own(_to("case")),
        data=data,
    )
    route(
        "POST",
        rule,
        lambda s, a=action: f"/faelle/{s.case_other_team.id}/einwilligungen/{s.consent_other_team.id}/{a}",
        other(_to("case_other_team")),
        data=data,
        name="other team's case",
    )
    # Swapped ids: a consent of another team, or of another case, under this case's URL.
    for method in ("GET", "POST"):
        route(
            method,
            rule,
            lambda s, a=action: f"/faelle/{s.case.id}/einwilligungen/{s.consent_other_team.id}/{a}",
            protected(404),
            data=data if method == "POST" else None,
            name="consent of another team",
        )
        route(
            method,
            rule,
            lambda s, a=action: f"/faelle/{s.case.id}/einwilligungen/{s.sibling_case_consent.id}/{a}",
            protected(404),
            data=data if method == "POST" else None,
            name="consent of another case",
        )
        route(
            method,
            rule,
            lambda s, a=action: f"/faelle/{s.case.id}/einwilligungen/999999/{a}",
            protected(404),
            data=data if method == "POST" else None,
            name="unknown consent",
        )

# The access report (Art. 15 GDPR, § 83 SGB X): the owning team only; nobody else learns the case exists.
route("GET", f"{F}/auskunft", lambda s: f"/faelle/{s.case.id}/auskunft", own(200))
route("GET", f"{F}/auskunft", lambda s: f"/faelle/{s.closed_case.id}/auskunft", own(200), name="closed case")
route(
    "GET", f"{F}/auskunft", lambda s: f"/faelle/{s.case_other_team.id}/auskunft", other(200), name="other team's case"
)
route("GET", f"{F}/auskunft", "/faelle/999999/auskunft", protected(404), name="unknown id")
for output in ("pdf", "json", "csv"):
    route(
        "GET",
        f"{F}/auskunft/<any(pdf, json, csv):output>",
        lambda s, o=output: f"/faelle/{s.case.id}/auskunft/{o}",
        own(200),
        name=output,
    )
    route(
        "GET",
        f"{F}/auskunft/<any(pdf, json, csv):output>",
        lambda s, o=output: f"/faelle/{s.case_other_team.id}/auskunft/{o}",
        other(200),
        name=f"{output}, other team's case",
    )
