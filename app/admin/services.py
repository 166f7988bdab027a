"""Administration: accounts and the directory (teams, agencies, locations, districts)."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import audit
from app.accounts import services as accounts
from app.accounts.models import AccountChange, AccountChangeKind, Role, User
from app.clock import utcnow


class AdminError(ValueError):
    """A rule of the directory was broken; ``field`` names the form field to mark."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def _check_affiliation(role: str, team_id, agency_id) -> None:
    if role in (Role.CASEWORKER, Role.TEAM_LEAD) and not team_id:
        raise AdminError("team_id", _l("Fallmanagement und Teamleitung gehören zu einem Team."))
    if role == Role.PARTNER and not agency_id:
        raise AdminError("agency_id", _l("Partner-Konten gehören zu genau einer Partnereinrichtung."))


def _email_taken(session, email: str, exclude_id=None) -> bool:
    q = select(User.id).where(func.lower(User.email) == email.lower())
    if exclude_id:
        q = q.where(User.id != exclude_id)
    return session.execute(q).first() is not None


@dataclass
class SavedUser:
    user: User
    # A new staff account, or a change of a staff account's role, team or e-mail address,
    # waits for a team lead of ``change.confirming_team_id`` (four eyes).
    change: AccountChange | None = None
    # Team leads asked by e-mail just now; 0: the team has none who could confirm.
    asked: int | None = None


def _values(obj) -> tuple:
    return obj.email, obj.role, obj.team_id, obj.agency_id


def save_user(session, actor, data: dict, user: User | None = None, *, invite_lifetime, base_url) -> SavedUser:
    """Create or change an account.

    Partner and admin accounts take effect at once. A new staff account, and a change of the
    role, team or e-mail address of an account that is or becomes staff, take effect only when
    a team lead confirms them (``accounts.decide_change``): until then a new account cannot log
    in and gets no invitation, a changed one keeps its old values. A name takes effect at once.
    """
    role = data["role"]
    team_id = data["team_id"] if role in (Role.CASEWORKER, Role.TEAM_LEAD) else None
    agency_id = data["agency_id"] if role == Role.PARTNER else None
    _check_affiliation(role, team_id, agency_id)
    if user is not None and user.id == actor.id and role != user.role:
        raise AdminError("role", _l("Sie können Ihre eigene Rolle nicht ändern."))
    email = data["email"].strip().lower()
    if _email_taken(session, email, user.id if user else None):
        raise AdminError("email", _l("Diese E-Mail-Adresse gehört schon zu einem Konto."))
    new = (email, role, team_id, agency_id)
    links = dict(invite_lifetime=invite_lifetime, base_url=base_url)
    if user is None:
        staff = Role(role).is_staff
        user = User(
            email=email, name=data["name"].strip(), role=role, team_id=team_id, agency_id=agency_id, confirmed=not staff
        )
        session.add(user)
        session.flush()
        audit.record("user.created", user, actor=actor, session=session, role=role)
        if staff:
            return SavedUser(user, *_propose(session, actor, user, AccountChangeKind.CREATE, new, team_id, base_url))
        accounts.send_account_link(session, user, "invite", actor=actor, lifetime=invite_lifetime, base_url=base_url)
        return SavedUser(user)

    user.name = data["name"].strip()
    pending = accounts.pending_change(session, user)
    if not user.confirmed:
        return _save_unconfirmed(session, actor, user, new, pending, **links)
    confirming_team_id = accounts.confirming_team(user.role, user.team_id, role, team_id)
    if confirming_team_id is None or new == _values(user):
        # Nothing a team lead must confirm: a partner's or an admin's account, or the old values
        # kept (which withdraws an open proposal).
        affiliation_changed = new != _values(user)
        accounts.withdraw_change(session, user, actor=actor)
        user.email, user.role, user.team_id, user.agency_id = new
        if affiliation_changed:
            # What the user may see changes: their open sessions must not keep the old view.
            accounts.end_all_sessions(session, user)
        audit.record(
            "user.updated", user, actor=actor, session=session, role=role, affiliation_changed=affiliation_changed
        )
        return SavedUser(user)
    audit.record("user.updated", user, actor=actor, session=session, role=user.role, affiliation_changed=False)
    if pending is not None and _values(pending) == new:
        return SavedUser(user, pending)  # the open proposal stands as it is
    return SavedUser(user, *_propose(session, actor, user, AccountChangeKind.UPDATE, new, confirming_team_id, base_url))


def _save_unconfirmed(session, actor, user, new, pending, *, invite_lifetime, base_url) -> SavedUser:
    """A new staff account no team lead has confirmed yet: nobody can log in with it, so its
    values change at once, and the proposal with them."""
    user.email, user.role, user.team_id, user.agency_id = new
    audit.record("user.updated", user, actor=actor, session=session, role=user.role, affiliation_changed=False)
    if not Role(user.role).is_staff:
        # No longer a staff account: nothing to confirm; the invitation leaves now.
        accounts.withdraw_change(session, user, actor=actor)
        user.confirmed = True
        accounts.send_account_link(session, user, "invite", actor=actor, lifetime=invite_lifetime, base_url=base_url)
        return SavedUser(user)
    if pending is not None and _values(pending) == new:
        return SavedUser(user, pending)
    return SavedUser(user, *_propose(session, actor, user, AccountChangeKind.CREATE, new, user.team_id, base_url))


def _propose(session, actor, user, kind, new, confirming_team_id, base_url):
    email, role, team_id, agency_id = new
    return accounts.propose_change(
        session,
        user,
        actor=actor,
        kind=kind,
        email=email,
        role=role,
        team_id=team_id,
        agency_id=agency_id,
        confirming_team_id=confirming_team_id,
        base_url=base_url,
    )


def resend_invitation(session, actor, user: User, *, lifetime, base_url) -> None:
    if not user.confirmed:
        raise AdminError(
            "active",
            _l(
                "Dieses Konto wartet noch auf die Bestätigung durch eine Teamleitung; "
                "die Einladung geht mit der Bestätigung hinaus."
            ),
        )
    accounts.send_account_link(session, user, "invite", actor=actor, lifetime=lifetime, base_url=base_url)


def set_active(session, actor, user: User, active: bool) -> None:
    if user.id == actor.id and not active:
        raise AdminError("active", _l("Sie können Ihr eigenes Konto nicht deaktivieren."))
    if active:
        user.active = True
        audit.record("user.reactivated", user, actor=actor, session=session)
    else:
        accounts.deactivate(session, user, actor=actor)


def save_entry(session, actor, model, data: dict, obj=None):
    """Create or update a directory entry (team, agency, location, district)."""
    name = data["name"].strip()
    q = select(model.id).where(func.lower(model.name) == name.lower())
    if obj is not None:
        q = q.where(model.id != obj.id)
    if session.execute(q).first() is not None:
        raise AdminError("name", _l("Dieser Name ist schon vergeben."))
    created = obj is None
    obj = obj or model()
    for key, value in data.items():
        setattr(obj, key, value.strip() if isinstance(value, str) else value)
    obj.name = name
    if hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()  # the public pages that show it answer with a new Last-Modified
    session.add(obj)
    session.flush()
    audit.record(f"{model.__tablename__}.{'created' if created else 'updated'}", obj, actor=actor, session=session)
    return obj
