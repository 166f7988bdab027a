"""Imports every table, so Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from app.accounts.models import (  # noqa: F401
    AccountChange,
    AccountToken,
    LoginFailure,
    RecoveryCode,
    ResetRequest,
    Team,
    User,
    UserSession,
)
from app.agencies.models import Agency, District, Location  # noqa: F401
from app.audit import AuditEntry  # noqa: F401
from app.cases.models import Case, CaseObstacle, Consent, PseudonymCounter  # noqa: F401
from app.conferences.models import AgendaItem, Conference, Invitation, Measure, Note  # noqa: F401
from app.mail import OutboxMessage  # noqa: F401
from app.minutes.models import Minutes, MinutesComment, MinutesPdf  # noqa: F401

metadata = SQLModel.metadata
