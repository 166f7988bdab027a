from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import one_of


class Role(StrEnum):
    ADMIN = "admin"
    TEAM_LEAD = "team_lead"
    CASEWORKER = "caseworker"
    PARTNER = "partner"
    # Steuerung: aggregated figures of all teams, small cells suppressed; no case pages at all.
    CONTROLLING = "controlling"

    @property
    def is_staff(self) -> bool:
        return self in (Role.TEAM_LEAD, Role.CASEWORKER)


# In the order the user form offers them.
ROLE_LABELS = {
    Role.CASEWORKER: _l("Fallmanagement"),
    Role.TEAM_LEAD: _l("Teamleitung"),
    Role.PARTNER: _l("Partnereinrichtung"),
    Role.CONTROLLING: _l("Steuerung"),
    Role.ADMIN: _l("Administration"),
}


class Team(SQLModel, table=True):
    __tablename__ = "team"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = (one_of("role", Role, "ck_user_account_role"),)
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=120)
    role: str = Field(max_length=20, index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = Field(default=True, index=True)
    totp_secret: str | None = Field(default=None, max_length=64)
    # The last accepted TOTP time step: a code from that step or earlier is a replay.
    totp_last_step: int | None = Field(default=None)
    locale: str | None = Field(default=None, max_length=5)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # A staff account an admin created takes effect once a team lead of its team confirmed it
    # (four eyes, AccountChange): until then it cannot log in and gets no invitation link.
    confirmed: bool = Field(default=True)

    # Flask-Login: the id it stores is the server-side session token, not the user id,
    # so a copied cookie dies with the session record.
    _session_token: str | None = None

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_staff(self) -> bool:
        return self.role_enum.is_staff

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self):
        return self._session_token


class AccountChangeKind(StrEnum):
    CREATE = "create"  # a new staff account
    UPDATE = "update"  # role, team or e-mail of an account that is or becomes staff


class AccountChangeStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REFUSED = "refused"
    SUPERSEDED = "superseded"  # replaced by a newer proposal, or withdrawn


ACCOUNT_CHANGE_KIND_LABELS = {
    AccountChangeKind.CREATE: _l("Neues Konto"),
    AccountChangeKind.UPDATE: _l("Änderung"),
}


class AccountChange(SQLModel, table=True):
    """Separation of duties (DESIGN.md section 4): a new staff account, or a change of role,
    team or e-mail address of a staff account, as an admin proposed it. It takes effect only
    once a team lead of ``confirming_team_id`` (not the admin, not the account itself)
    confirms it; until then the account keeps its old values, a new one cannot log in."""

    __tablename__ = "account_change"
    __table_args__ = (
        one_of("kind", AccountChangeKind, "ck_account_change_kind"),
        one_of("status", AccountChangeStatus, "ck_account_change_status"),
        one_of("role", Role, "ck_account_change_role"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    kind: str = Field(max_length=10)
    # The account's values once confirmed.
    email: str = Field(max_length=254)
    role: str = Field(max_length=20)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    # The team whose lead confirms: the one the account joins as staff, else the one it leaves.
    confirming_team_id: int = Field(foreign_key="team.id", index=True)
    status: str = Field(default=AccountChangeStatus.PENDING, max_length=12, index=True)
    proposed_by_id: int = Field(foreign_key="user_account.id")
    proposed_at: datetime = Field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = None


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class LoginFailure(SQLModel, table=True):
    """Failed log-ins, kept in the database so the limit holds across workers."""

    __tablename__ = "login_failure"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, index=True)  # "email:<addr>" or "ip:<addr>"
    at: datetime = Field(default_factory=utcnow, index=True)


class ResetRequest(SQLModel, table=True):
    """Password-reset requests per client address (hashed), in the database so that the limit
    holds across workers. Requests older than the window are deleted as new ones come."""

    __tablename__ = "reset_request"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, index=True)  # "ip:<sha256 of the address>"
    at: datetime = Field(default_factory=utcnow, index=True)


class RecoveryCode(SQLModel, table=True):
    __tablename__ = "recovery_code"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = None


class AccountToken(SQLModel, table=True):
    """Single-use, expiring link for an account invitation or a password reset."""

    __tablename__ = "account_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    purpose: str = Field(max_length=20)  # "invite" or "reset"
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
