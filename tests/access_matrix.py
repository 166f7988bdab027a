"""The access matrix: for every route of the app, what each kind of user gets.

``tests/test_access_matrix.py`` walks ``app.url_map`` and fails for any rule and method
that has no entry here, then runs one test per cell (entry × actor): it builds the
scenario's objects, logs the actor in, sends the request (POSTs with a valid CSRF token
and the entry's data) and compares the answer with the declared outcome. A refusal
(403/404) must also write an ``access.refused`` audit entry and change nothing.

Vocabulary
- *actor*: who sends the request, built per test by a function registered with ``@actor``.
- *object*: something a URL points at (a team, a user, later a case of another team),
  built on first use by a function registered with ``@obj`` and read as ``s.<name>``.
- *outcome*: an HTTP status (``200``, ``403``, ``404``, ``400``...) or ``Redirect(path)``;
  ``LOGIN`` is the redirect to the log-in page; ``MISSING`` a 404 for an id that does not
  exist (an answer, not a refusal). A 403 or 404 is a refusal: audited, nothing changed.
- *expectation*: the outcome per actor. ``protected(default, **named)``: anonymous and
  refused sessions are sent to the log-in page, named actors get their outcome, every
  other logged-in actor gets ``default`` (a refusal, unless the page is for everyone).
  ``everyone(outcome, **named)``: public pages. An actor not named falls back to the one
  it is ``like`` (a deactivated user is treated like an anonymous one), then to
  ``default``. So a new actor is refused everywhere until a route says otherwise: the
  matrix fails closed.

How to add
- A route: one ``route(...)`` line per rule and method (several lines for one rule when
  its variants differ, with ``name=``)::

      route("GET", "/faelle/<int:case_id>", lambda s: f"/faelle/{s.case.id}",
            protected(404, team_lead=200, caseworker=200))
      route("POST", "/faelle/<int:case_id>/schliessen", lambda s: f"/faelle/{s.case.id}/schliessen",
            protected(404, caseworker=Redirect(lambda s: f"/faelle/{s.case.id}")),
            data=lambda s: {"reason": "done"})

  The data is sent to every actor: a refused one must be refused *with* valid data.
  A GET changes nothing; one that stores a cache names its table: ``caches=("minutes_pdf",)``.
- An object: a function named like the attribute it provides::

      @obj
      def case_other_team(s):
          return make_case(s.factory, team=s.other_team)

- An actor::

      @actor()
      def caseworker_other_team(s):
          return s.factory.user("caseworker", team=s.other_team)

  It is refused (``default``) wherever no route names it, so name it where it is allowed.
  ``@actor(like="anonymous", revoke=True)``: logged in, then deactivated before the request.

Admins see no case content: ``test_admin_sees_no_staff_or_partner_page`` checks that no
route (other than public or ``authenticated_only`` ones) lets both the admin and staff or
partners in. Case and conference pages must use ``protected(...)`` without ``admin=``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from app.accounts import services as accounts
from app.accounts.models import AccountChange
from tests.conftest import PASSWORD

# --- outcomes and expectations -----------------------------------------------------------


@dataclass(frozen=True)
class Redirect:
    """A 302 to ``to`` (a path, or a function of the scenario); the query string is ignored."""

    to: str | Callable
    status: int = 302

    def path(self, s) -> str:
        return self.to(s) if callable(self.to) else self.to

    def __repr__(self):
        return f"Redirect({self.to if isinstance(self.to, str) else '…'})"


@dataclass(frozen=True)
class NotFound:
    """A 404 for an object that does not exist: an answer, not a refusal (nothing audited)."""

    status: int = 404


LOGIN = Redirect("/anmelden")
MISSING = NotFound()
REFUSALS = (403, 404)
Outcome = int | Redirect | NotFound


def allows(outcome: Outcome) -> bool:
    return outcome not in REFUSALS and not isinstance(outcome, NotFound)


@dataclass(frozen=True)
class Expect:
    default: Outcome
    named: dict = field(default_factory=dict)
    protected: bool = True  # anonymous and refused sessions must change nothing

    def outcome(self, actor: "Actor") -> Outcome:
        if actor.name in self.named:
            return self.named[actor.name]
        if actor.like and actor.like in self.named:
            return self.named[actor.like]
        return self.default


def protected(default: Outcome = 403, **named: Outcome) -> Expect:
    """A page behind log-in: anonymous → log-in page; ``named`` actors as given; others ``default``."""
    return Expect(default, {"anonymous": LOGIN, **named})


def everyone(outcome: Outcome, **named: Outcome) -> Expect:
    """A public page (log-in, reset, health check): the same outcome for everyone not named."""
    return Expect(outcome, {"anonymous": outcome, **named}, protected=False)


ADMIN_PAGE = protected(admin=200)
STAFF_PAGE = protected(team_lead=200, caseworker=200)
ANY_USER_PAGE = protected(200)

# --- scenario: the objects of one test ---------------------------------------------------

OBJECTS: dict[str, Callable] = {}


def obj(fn):
    """Register an object builder; it runs at most once per test, on first ``s.<name>``."""
    OBJECTS[fn.__name__] = fn
    return fn


class Scenario:
    def __init__(self, factory):
        self.factory = factory
        self.user = None  # the actor's account, once built
        self._built = {}

    def __getattr__(self, name):
        if name.startswith("_") or name not in OBJECTS:
            raise AttributeError(name)
        if name not in self._built:
            self._built[name] = OBJECTS[name](self)
            # A builder that only read left a transaction open; on SQLite that holds the
            # write lock (BEGIN IMMEDIATE) and the request would wait for it.
            self.factory.s.commit()
        return self._built[name]


@obj
def team(s):
    return s.factory.team()


@obj
def district(s):
    return s.factory.district()


@obj
def agency(s):
    return s.factory.agency(district=s.district)


@obj
def location(s):
    return s.factory.location()


@obj
def staff_user(s):
    """A caseworker of ``team``: the account the admin pages act on."""
    return s.factory.user("caseworker", team=s.team)


@obj
def inactive_user(s):
    return s.factory.user("caseworker", team=s.team, active=False)


def _account_token(s, purpose):
    token = accounts.issue_token(s.factory.s, s.staff_user, purpose, timedelta(hours=1))
    s.factory.s.commit()
    return token


@obj
def invite_token(s):
    return _account_token(s, "invite")


@obj
def reset_token(s):
    return _account_token(s, "reset")


# --- actors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    build: Callable  # scenario → User, or None for anonymous
    like: str | None = None
    revoke: bool = False  # deactivate the account after log-in: its old session must be refused

    @property
    def logged_in(self) -> bool:
        return self.name != "anonymous" and not self.revoke


ACTORS: dict[str, Actor] = {}


def actor(like: str | None = None, revoke: bool = False):
    def register(fn):
        ACTORS[fn.__name__] = Actor(fn.__name__, fn, like, revoke)
        return fn

    return register


@actor()
def anonymous(s):
    return None


@actor()
def admin(s):
    return s.factory.user("admin")


@actor()
def team_lead(s):
    return s.factory.user("team_lead", team=s.team)


@actor()
def caseworker(s):
    return s.factory.user("caseworker", team=s.team)


@actor()
def partner(s):
    return s.factory.user("partner", agency=s.agency)


@actor()
def controlling(s):
    """Steuerung: aggregated figures of all teams; refused on every case, conference and minutes page."""
    return s.factory.user("controlling")


@actor(like="anonymous", revoke=True)
def deactivated_admin(s):
    return s.factory.user("admin")


@actor(like="anonymous", revoke=True)
def deactivated_caseworker(s):
    return s.factory.user("caseworker", team=s.team)


# --- routes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    url: str | Callable
    expect: Expect
    data: Callable | None = None
    name: str | None = None
    # Tables a GET may write because they cache what is derived from stored data (a
    # rendered PDF); tests/test_csrf.py allows these and no others.
    caches: tuple = ()

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}" + (f" [{self.name}]" if self.name else "")

    def url_for(self, s) -> str:
        return self.url(s) if callable(self.url) else self.url


ROUTES: list[Route] = []


def route(method, rule, url, expect, data=None, name=None, caches=()):
    ROUTES.append(Route(method, rule, url, expect, data, name, tuple(caches)))


# main, static

route("GET", "/static/<path:filename>", "/static/app.css", everyone(200))
route("GET", "/healthz", "/healthz", everyone(200))
# The footer's pages: public, for anyone with or without an account.
for public_page in ("/barrierefreiheit", "/datenschutz", "/impressum", "/leichte-sprache"):
    route("GET", public_page, public_page, everyone(200))
route("GET", "/", "/", protected(200, admin=Redirect("/verwaltung/"), controlling=Redirect("/netzwerkbericht")))

# accounts: log-in and account links are public; a logged-in user is sent home.

route("GET", "/anmelden", "/anmelden", everyone(Redirect("/"), anonymous=200))
route(
    "POST",
    "/anmelden",
    "/anmelden",
    everyone(Redirect("/"), anonymous=Redirect("/anmelden/zwei-faktor/einrichten")),
    data=lambda s: {"email": s.staff_user.email, "password": PASSWORD},
)
# Without a pending log-in (password checked moments before) both steps send to the log-in.
for rule in ("/anmelden/zwei-faktor", "/anmelden/zwei-faktor/einrichten"):
    route("GET", rule, rule, everyone(LOGIN))
    route("POST", rule, rule, everyone(LOGIN), data=lambda s: {"code": "123456"})
route("POST", "/abmelden", "/abmelden", everyone(LOGIN))
route("GET", "/konto", "/konto", ANY_USER_PAGE)
# A changed password ends every session, this one too.
route(
    "POST",
    "/konto",
    "/konto",
    protected(LOGIN),
    data=lambda s: {
        "current_password": PASSWORD,
        "new_password": "Ein-Neues-Passwort-2",
        "confirm": "Ein-Neues-Passwort-2",
    },
)
route("GET", "/passwort-vergessen", "/passwort-vergessen", everyone(200))
route(
    "POST", "/passwort-vergessen", "/passwort-vergessen", everyone(LOGIN), data=lambda s: {"email": s.staff_user.email}
)
for purpose in ("invite", "reset"):
    link = "/konto/link/<any(invite, reset):purpose>/<token>"
    url = (lambda p: lambda s: f"/konto/link/{p}/{getattr(s, p + '_token')}")(purpose)
    route("GET", link, url, everyone(200), name=purpose)
    route(
        "POST",
        link,
        url,
        everyone(LOGIN),
        name=purpose,
        data=lambda s: {"new_password": "Ein-Neues-Passwort-2", "confirm": "Ein-Neues-Passwort-2"},
    )
route("POST", "/sprache", "/sprache", everyone(Redirect("/")), data=lambda s: {"lang": "en", "next": "/"})

# Four eyes (issue 10): a team lead of the confirming team decides on an admin's account change;
# never the admin, never the account it is about, never the one who proposed it.
DECIDE = "/kontoaenderungen/<int:change_id>/<any(bestaetigen, ablehnen):decision>"


def _change(s, user, proposer):
    change = AccountChange(
        user_id=user.id,
        kind="create" if not user.confirmed else "update",
        email=user.email,
        role=user.role,
        team_id=s.team.id,
        confirming_team_id=s.team.id,
        proposed_by_id=proposer.id,
    )
    s.factory.s.add(change)
    s.factory.s.commit()
    return change


@obj
def account_change(s):
    """An admin's new caseworker account in ``team``, waiting for a team lead of ``team``."""
    return _change(s, s.factory.user("caseworker", team=s.team, confirmed=False), s.factory.user("admin"))


@obj
def own_account_change(s):
    """A proposed change of the acting user's own account."""
    return _change(s, s.user or s.staff_user, s.factory.user("admin"))


@obj
def change_proposed_by_actor(s):
    """A proposal the acting user made (only admins propose: the rule holds for anyone)."""
    return _change(s, s.factory.user("caseworker", team=s.team, confirmed=False), s.user or s.staff_user)


for decision in ("bestaetigen", "ablehnen"):
    route(
        "POST",
        DECIDE,
        (lambda d: lambda s: f"/kontoaenderungen/{s.account_change.id}/{d}")(decision),
        protected(404, team_lead=Redirect("/")),
        name=decision,
    )
    route(
        "POST",
        DECIDE,
        (lambda d: lambda s: f"/kontoaenderungen/{s.own_account_change.id}/{d}")(decision),
        protected(404),
        name=f"{decision}, own account",
    )
    route(
        "POST",
        DECIDE,
        (lambda d: lambda s: f"/kontoaenderungen/{s.change_proposed_by_actor.id}/{d}")(decision),
        protected(404),
        name=f"{decision}, own proposal",
    )
route("POST", DECIDE, "/kontoaenderungen/999999/bestaetigen", protected(MISSING), name="unknown id")

# administration

route("GET", "/verwaltung/", "/verwaltung/", ADMIN_PAGE)
route("GET", "/verwaltung/benutzer", "/verwaltung/benutzer", ADMIN_PAGE)
route("GET", "/verwaltung/benutzer/neu", "/verwaltung/benutzer/neu", ADMIN_PAGE)
route(
    "POST",
    "/verwaltung/benutzer/neu",
    "/verwaltung/benutzer/neu",
    protected(admin=Redirect("/verwaltung/benutzer")),
    data=lambda s: {
        "name": "Neue Person",
        "email": "neu@example.org",
        "role": "caseworker",
        "team_id": str(s.team.id),
        "agency_id": "",
    },
)


def _user_page(s):
    return f"/verwaltung/benutzer/{s.staff_user.id}"


route("GET", "/verwaltung/benutzer/<int:user_id>", _user_page, ADMIN_PAGE)
route(
    "POST",
    "/verwaltung/benutzer/<int:user_id>",
    _user_page,
    protected(admin=Redirect("/verwaltung/benutzer")),
    data=lambda s: {
        "name": "Neuer Name",
        "email": s.staff_user.email,
        "role": "caseworker",
        "team_id": str(s.team.id),
        "agency_id": "",
    },
)
# Unknown ids: the admin learns that nothing is there; everyone else is refused first.
route(
    "GET",
    "/verwaltung/benutzer/<int:user_id>",
    "/verwaltung/benutzer/999999",
    protected(admin=MISSING),
    name="unknown id",
)
route(
    "POST",
    "/verwaltung/benutzer/<int:user_id>/einladung",
    "/verwaltung/benutzer/999999/einladung",
    protected(admin=MISSING),
    name="unknown id",
)
route(
    "POST",
    "/verwaltung/benutzer/<int:user_id>/<any(deaktivieren, aktivieren):change>",
    lambda s: f"{_user_page(s)}/deaktivieren",
    protected(admin=Redirect(_user_page)),
    name="deaktivieren",
)
route(
    "POST",
    "/verwaltung/benutzer/<int:user_id>/<any(deaktivieren, aktivieren):change>",
    lambda s: f"/verwaltung/benutzer/{s.inactive_user.id}/aktivieren",
    protected(admin=Redirect(lambda s: f"/verwaltung/benutzer/{s.inactive_user.id}")),
    name="aktivieren",
)
route(
    "POST",
    "/verwaltung/benutzer/<int:user_id>/einladung",
    lambda s: f"{_user_page(s)}/einladung",
    protected(admin=Redirect(_user_page)),
)
route(
    "POST",
    "/verwaltung/benutzer/<int:user_id>/zwei-faktor-zuruecksetzen",
    lambda s: f"{_user_page(s)}/zwei-faktor-zuruecksetzen",
    protected(admin=Redirect(_user_page)),
)

# The directory: one rule per page serves all four kinds; every kind gets its cells.
DIRECTORY = {
    "teams": ("team", lambda s: {"name": "Team West", "active": "y"}),
    "einrichtungen": (
        "agency",
        lambda s: {
            "name": "Beratung Ost",
            "type": "health",
            "district_id": str(s.district.id),
            "contact_email": "ost@example.org",
            "active": "y",
        },
    ),
    "orte": (
        "location",
        lambda s: {
            "name": "Videoraum",
            "kind": "online",
            "district_id": "",
            "agency_id": "",
            "address": "",
            "video_url": "https://video.example.org/raum",
            "active": "y",
        },
    ),
    "stadtteile": ("district", lambda s: {"name": "Hafen", "active": "y"}),
    "sprechstunden-themen": (
        "hour_topic",
        lambda s: {"name": "Wohngeld", "name_en": "Housing benefit", "name_easy": "", "active": "y"},
    ),
}
for kind, (object_name, data) in DIRECTORY.items():
    listing = f"/verwaltung/{kind}"
    existing = (lambda k, o: lambda s: f"/verwaltung/{k}/{getattr(s, o).id}")(kind, object_name)
    route("GET", "/verwaltung/<kind>", listing, ADMIN_PAGE, name=kind)
    route("GET", "/verwaltung/<kind>/neu", f"{listing}/neu", ADMIN_PAGE, name=kind)
    route("POST", "/verwaltung/<kind>/neu", f"{listing}/neu", protected(admin=Redirect(listing)), data=data, name=kind)
    route("GET", "/verwaltung/<kind>/<int:obj_id>", existing, ADMIN_PAGE, name=kind)
    route("POST", "/verwaltung/<kind>/<int:obj_id>", existing, protected(admin=Redirect(listing)), data=data, name=kind)
route("GET", "/verwaltung/<kind>", "/verwaltung/unbekannt", protected(admin=MISSING), name="unknown kind")
route(
    "GET",
    "/verwaltung/<kind>/<int:obj_id>",
    "/verwaltung/einrichtungen/999999",
    protected(admin=MISSING),
    name="unknown id",
)
route(
    "POST",
    "/verwaltung/<kind>/<int:obj_id>",
    "/verwaltung/teams/999999",
    protected(admin=MISSING),
    data=DIRECTORY["teams"][1],
    name="unknown id",
)

# Each domain's routes in a module of their own, registered through the functions above.
from tests import (  # noqa: E402,F401
    access_matrix_cases,
    access_matrix_conferences,
    access_matrix_consultations,
    access_matrix_minutes,
    access_matrix_reports,  # noqa: E402,F401
)
