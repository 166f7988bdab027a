"""Accounts: passwords, server-side sessions, log-in limits, two-factor, account links."""
import hashlib
import secrets
import time
from datetime import timedelta
from typing import Optional

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value

from app import audit, mail
from app.accounts.models import (
    AccountToken,
    LoginFailure,
    RecoveryCode,
    User,
    UserSession,
)
from app.clock import utcnow

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- passwords ------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: Optional[User], password: str) -> bool:
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
    counts = dict(session.execute(
        select(LoginFailure.key, func.count())
        .where(LoginFailure.key.in_((account, address)), LoginFailure.at >= since)
        .group_by(LoginFailure.key)
    ).all())
    return counts.get(account, 0) >= max_failures or counts.get(address, 0) >= max_per_address


def record_failure(session, email: str, ip: str, user: Optional[User], *, reason: str, window: timedelta) -> None:
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


def load_session_user(session, token: str, *, idle: timedelta, absolute: timedelta) -> Optional[User]:
    row = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == sha256(token))
    ).first()
    if row is None:
        return None
    us, user = row
    now = utcnow()
    if not user.active or now - us.last_seen_at > idle or now - us.created_at > absolute:
        session.delete(us)
        return None
    # Write the idle clock at most once a minute, not on every request.
    if now - us.last_seen_at > timedelta(minutes=1):
        us.last_seen_at = now
    user._session_token = token
    return user


def end_session(session, token: Optional[str]) -> None:
    if token:
        session.execute(delete(UserSession).where(UserSession.token_hash == sha256(token)))


def end_all_sessions(session, user: User) -> None:
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))


# --- two-factor -----------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _matching_step(secret: str, code: str, at: Optional[float] = None) -> Optional[int]:
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


def verify_totp(user: User, code: str, secret: Optional[str] = None, at: Optional[float] = None) -> bool:
    """Accept a code once: its time step must be later than the last one accepted."""
    secret = secret or user.totp_secret
    if not secret:
        return False
    step = _matching_step(secret, code, at)
    if step is None:
        return False
    # Claimed in one conditional UPDATE, so that two requests racing with the same code
    # (or one holding a stale copy of the user) cannot both get in.
    claimed = object_session(user).execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
    ).rowcount
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
    return session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == sha256(normalised),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    ).rowcount > 0


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
    session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=sha256(token),
                             expires_at=utcnow() + lifetime))
    return token


def find_token(session, token: str, purpose: str) -> Optional[AccountToken]:
    # A deactivated account's links die with it: no password is set for it any more.
    row = session.execute(
        select(AccountToken)
        .join(User, User.id == AccountToken.user_id)
        .where(AccountToken.token_hash == sha256(token), AccountToken.purpose == purpose, User.active.is_(True))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    return row


def send_account_link(session, user: User, purpose: str, *, lifetime: timedelta, base_url: str) -> None:
    token = issue_token(session, user, purpose, lifetime)
    link = f"{base_url.rstrip('/')}/konto/link/{purpose}/{token}"
    mail.queue([user.email], f"account_{purpose}", session=session, user=user, link=link,
               hours=int(lifetime.total_seconds() // 3600))
    audit.record(f"account.{purpose}_sent", user, session=session)


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
    audit.record("user.deactivated", user, actor=actor, session=session)
