"""Accounts: passwords, server-side sessions, log-in limits, two-factor, account links."""

import hashlib
import secrets
import time
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import aliased, object_session
from sqlalchemy.orm.attributes import set_committed_value

from app import audit, mail
from app.accounts.models import (
    AccountChange,
    AccountChangeKind,
    AccountChangeStatus,
    AccountToken,
    LoginFailure,
    RecoveryCode,
    ResetRequest,
    Role,
    Team,
    User,
    UserSession,
)
from app.agencies.models import Agency, District, Location
from app.clock import utcnow

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- passwords ------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    try:
        if user is None or not user.password_hash:
            _hasher.verify(_DUMMY_HASH, password)
            return False
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(session, user: User, password: str, *, actor=None) -> None:
    user.password_hash = hash_password(password)
    end_all_sessions(session, user)
    audit.record("account.password_set", user, actor=actor or user, session=session)


# --- log-in limit ---------------------------------------------------------------------


def _failure_keys(email: str, ip: str) -> list[str]:
    # Hashed: the address typed (often a typo of someone else's) is not kept in clear.
    return [f"email:{sha256(email.strip().lower())}", f"ip:{sha256(ip)}"]


def is_locked(session, email: str, ip: str, *, max_failures: int, max_per_address: int, window: timedelta) -> bool:
    """``max_failures`` for the account typed, ``max_per_address`` for the client's address."""
    since = utcnow() - window
    account, address = _failure_keys(email, ip)
    counts = dict(
        session.execute(
            select(LoginFailure.key, func.count())
            .where(LoginFailure.key.in_((account, address)), LoginFailure.at >= since)
            .group_by(LoginFailure.key)
        ).all()
    )
    return counts.get(account, 0) >= max_failures or counts.get(address, 0) >= max_per_address


def record_failure(session, email: str, ip: str, user: User | None, *, reason: str, window: timedelta) -> None:
    # Failures older than the window count for nothing: they go as new ones come.
    prune_failures(session, window)
    for key in _failure_keys(email, ip):
        session.add(LoginFailure(key=key))
    # The address typed is not recorded: only whether it belongs to an account.
    audit.record("login.failed", user, session=session, reason=reason, known_account=user is not None)


def clear_failures(session, email: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key == _failure_keys(email, "")[0]))


def prune_failures(session, window: timedelta) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - window))


# --- server-side sessions -------------------------------------------------------------


def start_session(session, user: User) -> str:
    """A fresh session record (and so a fresh id) at every log-in."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=sha256(token), user_id=user.id))
    user.last_login_at = utcnow()
    user._session_token = token
    return token


def load_session_user(session, token: str, *, idle: timedelta, absolute: timedelta) -> User | None:
    row = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == sha256(token))
    ).first()
    if row is None:
        return None
    us, user = row
    now = utcnow()
    if not user.active or not user.confirmed or now - us.last_seen_at > idle or now - us.created_at > absolute:
        # A statement, not the ORM's delete: another request (on another worker or server) may
        # end the same session at the same moment, and deleting no row is then no error.
        session.execute(delete(UserSession).where(UserSession.id == us.id))
        return None
    # The idle clock moves at most once a minute, and only at the end of the request
    # (``move_session_clock``): a page view does not write before it has read.
    if now - us.last_seen_at > SESSION_CLOCK_STEP:
        session.info[SESSION_CLOCK] = (us.id, now)
    user._session_token = token
    return user


SESSION_CLOCK_STEP = timedelta(minutes=1)
SESSION_CLOCK = "fk_session_clock"  # in the request's session info: (session id, time) to write


def move_session_clock(session) -> bool:
    """Write the idle clock that ``load_session_user`` found due; returns whether a row moved.

    A statement of its own, in the request's last transaction: it holds the row (PostgreSQL)
    or SQLite's write lock only for that moment. A session that another request ended
    meanwhile moves nothing (no stale-row error), and one that another request is moving
    right now (another worker or server, same cookie) is skipped rather than waited for
    (``SKIP LOCKED``; SQLite has one writer at a time anyway).
    """
    due = session.info.pop(SESSION_CLOCK, None)
    if due is None:
        return False
    session_id, now = due
    free = select(UserSession.id).where(UserSession.id == session_id).with_for_update(skip_locked=True)
    moved = session.execute(
        update(UserSession)
        .where(UserSession.id.in_(free), UserSession.last_seen_at < now)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(moved)


def end_session(session, token: str | None) -> None:
    if token:
        session.execute(delete(UserSession).where(UserSession.token_hash == sha256(token)))


def end_all_sessions(session, user: User) -> None:
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))


# --- two-factor -----------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = at if at is not None else time.time()
    step = int(now // totp.interval)
    # One step of clock drift either way.
    for candidate in (step - 1, step, step + 1):
        if secrets.compare_digest(totp.at(candidate * totp.interval), code):
            return candidate
    return None


def verify_totp(user: User, code: str, secret: str | None = None, at: float | None = None) -> bool:
    """Accept a code once: its time step must be later than the last one accepted."""
    secret = secret or user.totp_secret
    if not secret:
        return False
    step = _matching_step(secret, code, at)
    if step is None:
        return False
    # Claimed in one conditional UPDATE, so that two requests racing with the same code
    # (or one holding a stale copy of the user) cannot both get in.
    claimed = (
        object_session(user)
        .execute(
            update(User)
            .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step)
        )
        .rowcount
    )
    if claimed:
        set_committed_value(user, "totp_last_step", step)
    return bool(claimed)


def new_recovery_codes(session, user: User, count: int = 10) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(count)]
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=sha256(code)))
    return codes


def use_recovery_code(session, user: User, code: str) -> bool:
    normalised = code.strip().lower()
    # One conditional UPDATE: of two requests racing with the same code, one wins.
    return (
        session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == sha256(normalised),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        ).rowcount
        > 0
    )


def enable_two_factor(session, user: User, secret: str) -> list[str]:
    user.totp_secret = secret
    codes = new_recovery_codes(session, user)
    audit.record("account.2fa_enabled", user, actor=user, session=session)
    return codes


def reset_two_factor(session, user: User, *, actor) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_all_sessions(session, user)
    audit.record("account.2fa_reset", user, actor=actor, session=session)


# --- invitation and password-reset links -----------------------------------------------


def issue_token(session, user: User, purpose: str, lifetime: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(user_id=user.id, purpose=purpose, token_hash=sha256(token), expires_at=utcnow() + lifetime)
    )
    return token


def find_token(session, token: str, purpose: str) -> AccountToken | None:
    # A deactivated account's links die with it (deactivate ends them for good); an account
    # no team lead has confirmed yet has none that work.
    row = session.execute(
        select(AccountToken)
        .join(User, User.id == AccountToken.user_id)
        .where(
            AccountToken.token_hash == sha256(token),
            AccountToken.purpose == purpose,
            User.active.is_(True),
            User.confirmed.is_(True),
        )
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    return row


def send_account_link(session, user: User, purpose: str, *, actor, lifetime: timedelta, base_url: str) -> None:
    """E-mail an invitation or reset link. ``actor``: who had it sent (the admin who sent an
    invitation again, the team lead whose confirmation made an account; None for a reset the
    person asked for on the public form)."""
    token = issue_token(session, user, purpose, lifetime)
    link = f"{base_url.rstrip('/')}/konto/link/{purpose}/{token}"
    mail.queue(
        [user.email],
        f"account_{purpose}",
        session=session,
        user=user,
        link=link,
        hours=int(lifetime.total_seconds() // 3600),
    )
    audit.record(f"account.{purpose}_sent", user, actor=actor, session=session)


def end_links(session, user: User, purpose: str | None = None) -> None:
    """The account's open links die (all, or those of one purpose): no later event revives them."""
    stmt = update(AccountToken).where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
    if purpose is not None:
        stmt = stmt.where(AccountToken.purpose == purpose)
    session.execute(stmt.values(used_at=utcnow()))


class ResetThrottled(Exception):
    """Too many reset requests from one client address."""


def request_password_reset(
    session,
    email: str,
    ip: str,
    *,
    max_per_address: int,
    max_per_account: int,
    window: timedelta,
    lifetime: timedelta,
    base_url: str,
) -> None:
    """The public form's request for a reset link.

    The same answer, and nearly the same work, whether or not the address has an account: every
    request is counted for its client address and writes one audit entry; the e-mail leaves
    after the response (the route asks ``mail.after_response``). An account gets at most
    ``max_per_account`` links per window, and only the newest one works. Raises
    ``ResetThrottled`` beyond ``max_per_address`` requests of the address (its audit entry stays
    to be committed).
    """
    since = utcnow() - window
    session.execute(delete(ResetRequest).where(ResetRequest.at < since))
    key = f"ip:{sha256(ip)}"
    requests = session.execute(
        select(func.count()).select_from(ResetRequest).where(ResetRequest.key == key, ResetRequest.at >= since)
    ).scalar()
    if requests >= max_per_address:
        audit.record("account.reset_throttled", session=session, limit="address")
        raise ResetThrottled()
    session.add(ResetRequest(key=key))
    user = session.execute(select(User).where(func.lower(User.email) == email.strip().lower())).scalar_one_or_none()
    if user is None or not user.active or not user.confirmed:
        # The address typed is not recorded, only that it has no (usable) account.
        audit.record("account.reset_requested", session=session, known_account=False)
        return
    sent = session.execute(
        select(func.count())
        .select_from(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == "reset", AccountToken.created_at >= since)
    ).scalar()
    if sent >= max_per_account:
        audit.record("account.reset_throttled", user, session=session, limit="account")
        return
    end_links(session, user, "reset")  # one open reset link per account: the newest
    send_account_link(session, user, "reset", actor=None, lifetime=lifetime, base_url=base_url)


def redeem_token(session, row: AccountToken, password: str) -> User:
    user = session.get(User, row.user_id)
    row.used_at = utcnow()
    # Any other open link of the user dies with this one.
    for other in session.execute(
        select(AccountToken).where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
    ).scalars():
        other.used_at = row.used_at
    set_password(session, user, password)
    return user


def deactivate(session, user: User, *, actor) -> None:
    user.active = False
    end_all_sessions(session, user)
    # A link sent before the deactivation must not work after a reactivation.
    end_links(session, user)
    audit.record("user.deactivated", user, actor=actor, session=session)


# --- the directory as the anonymisation guard sees it ---------------------------------


def directory_people(session) -> tuple[list[str], list[str], list[str]]:
    """What the directory knows, as the anonymisation guard needs it (issue 12).

    Names and e-mail addresses of the tool's own people (active users; agencies' contact
    addresses) are the professionals around a case, not the person, so the guard does not
    flag them; the names of districts, agencies, locations and teams are never taken for
    a person's name.
    """
    users = session.execute(select(User.name, User.email).where(User.active.is_(True))).all()
    emails = [email for _name, email in users]
    emails += session.execute(select(Agency.contact_email).where(Agency.active.is_(True))).scalars().all()
    terms: list[str] = []
    for column in (District.name, Agency.name, Location.name, Team.name):
        terms += session.execute(select(column)).scalars().all()
    return [name for name, _email in users], emails, terms


# --- four eyes: staff accounts take effect once a team lead confirms them -------------------
#
# An admin proposes (admin.services.save_user); a team lead of the confirming team decides.
# Until then a new staff account cannot log in and gets no invitation; a changed account
# keeps its old role, team and e-mail address. Every step is audited with both actors.


class AccountChangeError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def confirming_team(old_role, old_team_id, role, team_id):
    """The team whose lead confirms: the one the account joins as staff, else the one it leaves as staff;
    None when neither the old nor the new role is staff (no confirmation)."""
    if Role(role).is_staff:
        return team_id
    if old_role is not None and Role(old_role).is_staff:
        return old_team_id
    return None


def pending_change(session, user: User) -> AccountChange | None:
    return session.execute(
        select(AccountChange).where(
            AccountChange.user_id == user.id, AccountChange.status == AccountChangeStatus.PENDING
        )
    ).scalar_one_or_none()


def team_leads_to_ask(session, team_id: int, user: User) -> list[str]:
    """E-mail addresses of the team leads who may confirm a change of ``user``."""
    return list(
        session.execute(
            select(User.email).where(
                User.role == Role.TEAM_LEAD,
                User.team_id == team_id,
                User.active.is_(True),
                User.confirmed.is_(True),
                User.id != user.id,
            )
        ).scalars()
    )


def withdraw_change(session, user: User, *, actor) -> None:
    """The admin's earlier proposal for ``user`` is void (a newer one replaces it, or the old values are kept)."""
    change = pending_change(session, user)
    if change is not None:
        change.status = AccountChangeStatus.SUPERSEDED
        change.decided_by_id, change.decided_at = actor.id, utcnow()
        audit.record("account_change.withdrawn", user, actor=actor, session=session, change_id=change.id)


def propose_change(
    session,
    user: User,
    *,
    actor,
    kind: AccountChangeKind,
    email: str,
    role: str,
    team_id,
    agency_id,
    confirming_team_id: int,
    base_url: str,
) -> tuple[AccountChange, int]:
    """Record an admin's proposal and ask the confirming team's leads by e-mail.

    Returns the proposal and how many team leads were asked (0: the team has none yet; then
    only ``flask confirm-account-change`` on the server confirms it)."""
    withdraw_change(session, user, actor=actor)
    change = AccountChange(
        user_id=user.id,
        kind=kind,
        email=email,
        role=role,
        team_id=team_id,
        agency_id=agency_id,
        confirming_team_id=confirming_team_id,
        proposed_by_id=actor.id,
    )
    session.add(change)
    session.flush()
    changed = ["email"] * (email != user.email) + ["role"] * (role != user.role) + ["team"] * (team_id != user.team_id)
    audit.record(
        "account_change.proposed",
        user,
        actor=actor,
        session=session,
        change_id=change.id,
        kind=kind,
        role=role,
        team_id=team_id,
        confirming_team_id=confirming_team_id,
        changed=changed if kind == AccountChangeKind.UPDATE else [],
    )
    leads = team_leads_to_ask(session, confirming_team_id, user)
    if leads:
        mail.queue(leads, "account_change_pending", session=session, link=f"{base_url.rstrip('/')}/#kontoaenderungen")
    return change, len(leads)


def changes_to_confirm(session, team_id: int) -> list[tuple]:
    """The team's open proposals, oldest first: (change, account, the account's team's name now,
    the proposed team's name, the proposing admin's name)."""
    proposer, team_now, new_team = aliased(User), aliased(Team), aliased(Team)
    return list(
        session.execute(
            select(AccountChange, User, team_now.name, new_team.name, proposer.name)
            .join(User, User.id == AccountChange.user_id)
            .join(proposer, proposer.id == AccountChange.proposed_by_id)
            .outerjoin(team_now, team_now.id == User.team_id)
            .outerjoin(new_team, new_team.id == AccountChange.team_id)
            .where(AccountChange.confirming_team_id == team_id, AccountChange.status == AccountChangeStatus.PENDING)
            .order_by(AccountChange.proposed_at, AccountChange.id)
        ).all()
    )


ALREADY_DECIDED = _l(
    "Über diese Änderung ist schon entschieden, oder die Administration hat sie inzwischen "
    "ersetzt. Die Liste zeigt den aktuellen Stand."
)
EMAIL_TAKEN = _l(
    "Die vorgeschlagene E-Mail-Adresse gehört inzwischen zu einem anderen Konto. Lehnen Sie die "
    "Änderung ab; die Administration kann eine neue vorschlagen."
)


def decide_change(
    session, change: AccountChange, *, actor, confirm: bool, invite_lifetime: timedelta, base_url: str
) -> None:
    """A team lead (``actor``; None from the server's command line) confirms or refuses a proposal.

    Confirmed, a new account becomes usable and its invitation leaves; a change takes effect,
    ends the account's sessions and open links. Whoever decided and whoever proposed are both
    in the audit entry."""
    user = session.get(User, change.user_id)
    if (
        confirm
        and change.kind == AccountChangeKind.UPDATE
        and session.execute(
            select(User.id).where(func.lower(User.email) == change.email.lower(), User.id != user.id)
        ).first()
    ):
        raise AccountChangeError(EMAIL_TAKEN)
    status = AccountChangeStatus.CONFIRMED if confirm else AccountChangeStatus.REFUSED
    now = utcnow()
    # One conditional UPDATE: of two team leads deciding at once, one wins.
    claimed = session.execute(
        update(AccountChange)
        .where(AccountChange.id == change.id, AccountChange.status == AccountChangeStatus.PENDING)
        .values(status=status, decided_by_id=actor.id if actor else None, decided_at=now)
    ).rowcount
    if not claimed:
        raise AccountChangeError(ALREADY_DECIDED)
    for name, value in (("status", status), ("decided_by_id", actor.id if actor else None), ("decided_at", now)):
        set_committed_value(change, name, value)
    details = dict(change_id=change.id, kind=change.kind, proposed_by=change.proposed_by_id)
    if not confirm:
        audit.record("account_change.refused", user, actor=actor, session=session, **details)
        return
    if change.kind == AccountChangeKind.CREATE:
        user.confirmed = True
        audit.record("account_change.confirmed", user, actor=actor, session=session, **details)
        send_account_link(session, user, "invite", actor=actor, lifetime=invite_lifetime, base_url=base_url)
        return
    user.email, user.role, user.team_id, user.agency_id = change.email, change.role, change.team_id, change.agency_id
    # What the account may see, or where its links go, changed: nothing from before carries over.
    end_all_sessions(session, user)
    end_links(session, user)
    audit.record("account_change.confirmed", user, actor=actor, session=session, **details)
