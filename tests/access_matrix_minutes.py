"""Access-matrix entries for the minutes routes (issue 5), in the vocabulary of
``tests/access_matrix.py``, which imports this module at its end.

The scenario: ``minutes_conference`` is a held conference of a case of ``team``, organised
by the acting caseworker (so the ``caseworker`` cells are the organiser's; the
``team_lead`` is not the organiser). ``agency`` (the ``partner`` actor's agency) is invited
and holds a valid consent. ``minutes_draft`` is its draft, shared for comments;
``minutes_final`` is the finalised version 1 of a second held conference.
"""

import hashlib
from datetime import timedelta

from app.clock import berlin_today, utcnow
from app.minutes import document
from app.minutes.models import Minutes, MinutesPdf
from tests.access_matrix import MISSING, Redirect, obj, protected, route


def _organiser(s):
    user = s.user
    if user is not None and user.role == "caseworker" and user.team_id == s.team.id:
        return user
    return s.minutes_staff


@obj
def minutes_staff(s):
    return s.factory.user("caseworker", team=s.team)


@obj
def minutes_case(s):
    return s.factory.case(team=s.team, caseworker=_organiser(s), district=s.district)


def _held_conference(s):
    starts_at = (utcnow() - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    conf = s.factory.conference(
        s.minutes_case, location=s.location, starts_at=starts_at, status="held", organiser=_organiser(s)
    )
    s.factory.invitation(conf, s.agency, status="accepted")
    return conf


@obj
def minutes_conference(s):
    s.factory.consent(s.minutes_case, s.agency)
    return _held_conference(s)


@obj
def minutes_draft(s):
    m = Minutes(
        conference_id=s.minutes_conference.id, summary="Entwurf.", comments_until=berlin_today() + timedelta(days=7)
    )
    s.factory.s.add(m)
    s.factory.s.commit()
    return m


@obj
def minutes_draft_due(s):
    """A draft of a second held conference whose comment round ended yesterday: it can be finalised."""
    s.minutes_conference  # noqa: B018  (consent and invitation of the case)
    m = Minutes(
        conference_id=_held_conference(s).id, summary="Entwurf.", comments_until=berlin_today() - timedelta(days=1)
    )
    s.factory.s.add(m)
    s.factory.s.commit()
    return m


@obj
def minutes_final(s):
    """Version 1, final, as finalisation leaves it (the archive bytes stand in for a real PDF:
    only who gets an answer is checked here; tests/minutes/ check the documents)."""
    s.minutes_conference  # noqa: B018  (consent and invitation of the case)
    conf = _held_conference(s)
    session = s.factory.s
    content = document.assemble(session, conf)
    pdf = b"%PDF-1.7 stand-in"
    m = Minutes(
        conference_id=conf.id,
        status="final",
        summary="Abgeschlossen.",
        content=content,
        finalised_by_id=_organiser(s).id,
        finalised_at=utcnow(),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        pdf_size=len(pdf),
    )
    session.add(m)
    session.flush()
    session.add(MinutesPdf(minutes_id=m.id, variant=document.ARCHIVE, content=pdf, sha256=m.pdf_sha256))
    conf.status = "closed"
    session.commit()
    return m


def _page(name):
    """The minutes page of the conference ``name`` is, or of the conference its minutes belong to."""

    def url(s):
        thing = getattr(s, name)
        return f"/konferenzen/{thing.conference_id if isinstance(thing, Minutes) else thing.id}/protokoll"

    return url


def to_page(name):
    return Redirect(_page(name))


def _form(s):
    return {"summary": "Lage stabil.", "decisions": "Weiter wie besprochen.", "next_date_note": ""}


M = "/protokolle/<int:minutes_id>"
STAFF = {"team_lead": 200, "caseworker": 200}

route(
    "GET",
    "/konferenzen/<int:conference_id>/protokoll",
    _page("minutes_conference"),
    protected(404, **STAFF, partner=200),
)
route(
    "GET",
    "/konferenzen/<int:conference_id>/protokoll",
    "/konferenzen/999999/protokoll",
    protected(MISSING),
    name="unknown id",
)
# Only the organiser writes the minutes; the team lead and the invited partner see the page, so 403.
route(
    "POST",
    "/konferenzen/<int:conference_id>/protokoll",
    _page("minutes_conference"),
    protected(404, caseworker=to_page("minutes_conference"), team_lead=403, partner=403),
    data=_form,
)
# "Speichern und abschließen" saves the draft and leads to the confirmation page.
route(
    "POST",
    "/konferenzen/<int:conference_id>/protokoll",
    _page("minutes_draft"),
    protected(
        404,
        caseworker=Redirect(lambda s: f"/protokolle/{s.minutes_draft.id}/abschliessen"),
        team_lead=403,
        partner=403,
    ),
    data=lambda s: {**_form(s), "version": str(s.minutes_draft.version), "finalise": "1"},
    name="finalise",
)
# The confirmation page of finalising: the organiser and the team lead.
route(
    "GET",
    f"{M}/abschliessen",
    lambda s: f"/protokolle/{s.minutes_draft.id}/abschliessen",
    protected(404, **STAFF, partner=403),
)
route(
    "GET",
    f"{M}/abschliessen",
    lambda s: f"/protokolle/{s.minutes_final.id}/abschliessen",
    protected(404, team_lead=403, caseworker=403, partner=403),
    name="final",
)
route(
    "POST",
    f"{M}/abschliessen",
    lambda s: f"/protokolle/{s.minutes_draft_due.id}/abschliessen",
    protected(404, caseworker=to_page("minutes_draft_due"), team_lead=to_page("minutes_draft_due"), partner=403),
    data=lambda s: {"version": str(s.minutes_draft_due.version)},
)
# While the comment round runs, the confirmation page warns; confirming still finalises.
route(
    "POST",
    f"{M}/abschliessen",
    lambda s: f"/protokolle/{s.minutes_draft.id}/abschliessen",
    protected(404, caseworker=to_page("minutes_draft"), team_lead=to_page("minutes_draft"), partner=403),
    data=lambda s: {"version": str(s.minutes_draft.version)},
    name="comment round running",
)
route(
    "POST",
    f"{M}/teilen",
    lambda s: f"/protokolle/{s.minutes_draft.id}/teilen",
    protected(404, caseworker=to_page("minutes_draft"), team_lead=403, partner=403),
    data=lambda s: {"days": "7"},
)
route(
    "POST",
    f"{M}/anmerkungen",
    lambda s: f"/protokolle/{s.minutes_draft.id}/anmerkungen",
    protected(404, partner=to_page("minutes_draft"), team_lead=403, caseworker=403),
    data=lambda s: {"body": "Bitte den Termin im Mai ergänzen."},
)
route(
    "GET",
    f"{M}/korrektur",
    lambda s: f"/protokolle/{s.minutes_final.id}/korrektur",
    protected(404, **STAFF, partner=403),
)
route(
    "POST",
    f"{M}/korrektur",
    lambda s: f"/protokolle/{s.minutes_final.id}/korrektur",
    protected(404, caseworker=to_page("minutes_final"), team_lead=to_page("minutes_final"), partner=403),
    data=lambda s: {**_form(s), "reason": "Beschluss 2 war unvollständig.", "version": str(s.minutes_final.version)},
)
# A partner's copy is rendered for its consent scope on first request and kept.
route(
    "GET",
    f"{M}/pdf",
    lambda s: f"/protokolle/{s.minutes_final.id}/pdf",
    protected(404, **STAFF, partner=200),
    caches=("minutes_pdf",),
)
route("GET", f"{M}/pdf", lambda s: f"/protokolle/{s.minutes_draft.id}/pdf", protected(404), name="draft")
route("GET", f"{M}/pdf", "/protokolle/999999/pdf", protected(MISSING), name="unknown id")
route("GET", "/protokolle/export", "/protokolle/export", protected(403, team_lead=200, team_lead_other_team=200))
route(
    "POST",
    "/protokolle/export",
    "/protokolle/export",
    protected(403, team_lead=200, team_lead_other_team=200),
    data=lambda s: {
        "date_from": (berlin_today() - timedelta(days=31)).isoformat(),
        "date_to": berlin_today().isoformat(),
    },
)
