"""Administration: accounts and the directory (teams, agencies, locations, districts)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import audit
from app.accounts import services as accounts
from app.accounts.models import Role, User


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


def save_user(session, actor, data: dict, user: User | None = None, *, invite_lifetime=None, base_url=None) -> User:
    role = data["role"]
    team_id = data["team_id"] if role in (Role.CASEWORKER, Role.TEAM_LEAD) else None
    agency_id = data["agency_id"] if role == Role.PARTNER else None
    _check_affiliation(role, team_id, agency_id)
    if user is not None and user.id == actor.id and role != user.role:
        raise AdminError("role", _l("Sie können Ihre eigene Rolle nicht ändern."))
    email = data["email"].strip().lower()
    if _email_taken(session, email, user.id if user else None):
        raise AdminError("email", _l("Diese E-Mail-Adresse gehört schon zu einem Konto."))
    created = user is None
    if created:
        user = User(email=email, name=data["name"].strip(), role=role, team_id=team_id, agency_id=agency_id)
        session.add(user)
        session.flush()
        audit.record("user.created", user, actor=actor, session=session, role=role)
        accounts.send_account_link(session, user, "invite", lifetime=invite_lifetime, base_url=base_url)
        return user
    affiliation_changed = (user.role, user.team_id, user.agency_id, user.email) != (role, team_id, agency_id, email)
    user.name, user.email, user.role, user.team_id, user.agency_id = data["name"].strip(), email, role, team_id, agency_id
    if affiliation_changed:
        # What the user may see changes: their open sessions must not keep the old view.
        accounts.end_all_sessions(session, user)
    audit.record("user.updated", user, actor=actor, session=session, role=role,
                 affiliation_changed=affiliation_changed)
    return user


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
    session.add(obj)
    session.flush()
    audit.record(f"{model.__tablename__}.{'created' if created else 'updated'}", obj, actor=actor, session=session)
    return obj
