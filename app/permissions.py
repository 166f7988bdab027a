"""The one policy module: every "may this user do this to this object" is answered here.

Routes call ``authorize(action, obj)`` after loading the object. Rules are plain
functions registered per action; a domain adds rules, never checks of its own.
A refusal is written to the audit trail and answered with 403, or with 404 where the
user must not learn that the object exists.
"""
from functools import wraps
from typing import Callable

from flask import abort, g
from flask_login import current_user

from app import audit
from app.accounts.models import Role

Rule = Callable[..., bool]
_RULES: dict[str, tuple[Rule, bool]] = {}


def rule(action: str, *, hide: bool = False):
    """Register the rule for ``action``. ``hide``: refuse with 404 instead of 403."""

    def register(fn: Rule) -> Rule:
        if action in _RULES:
            raise RuntimeError(f"rule for {action!r} registered twice")
        _RULES[action] = (fn, hide)
        return fn

    return register


def can(user, action: str, obj=None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    fn, _hide = _RULES[action]
    return bool(fn(user, obj))


def authorize(action: str, obj=None, user=None) -> None:
    user = user if user is not None else current_user
    g.authorized = True
    if can(user, action, obj):
        return
    _fn, hide = _RULES[action]
    audit.record(
        "access.refused", obj, actor=user if getattr(user, "id", None) else None,
        rule=action,
    )
    from app import db  # the refusal is recorded even though the request ends in an error

    db.session.commit()
    abort(404 if hide else 403)


def public(view):
    """Mark a view that needs no log-in (log-in page, password reset, health check)."""
    view.public = True
    return view


def authenticated_only(view):
    """Mark a view any logged-in, active user may call (own account, log-out)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.authorized = True
        return view(*args, **kwargs)

    return wrapper


# --- roles -----------------------------------------------------------------------


def is_admin(user) -> bool:
    return user.role == Role.ADMIN


def is_staff(user) -> bool:
    return user.role in (Role.CASEWORKER, Role.TEAM_LEAD)


def is_team_lead(user) -> bool:
    return user.role == Role.TEAM_LEAD


def is_partner(user) -> bool:
    return user.role == Role.PARTNER and user.agency_id is not None


# --- administration ----------------------------------------------------------------


@rule("admin.manage")
def _admin_manage(user, _obj=None):
    return is_admin(user)


@rule("staff.area")
def _staff_area(user, _obj=None):
    return is_staff(user)


@rule("partner.area")
def _partner_area(user, _obj=None):
    return is_partner(user)
