"""Append-only, hash-chained audit trail.

Each entry holds ids and action names (never free text) and the hash of the entry
before it, so that altering or deleting a row breaks the chain at that point.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Index, event, select, text
from sqlalchemy.orm import Session
from sqlmodel import JSON, Column, Field, SQLModel

from app import db
from app.clock import utcnow

GENESIS = "0" * 64


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=60, index=True)
    object_type: str | None = Field(default=None, max_length=40)
    object_id: int | None = None
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


def _digest(prev_hash: str, at: datetime, actor_id, action, object_type, object_id, details) -> str:
    payload = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor_id, action, object_type, object_id, details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock_chain(session) -> None:
    # Serialise writers of the chain for the rest of the transaction: PostgreSQL with an
    # advisory lock, SQLite with its write lock (a page view takes it only now, app.db).
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(424242)"))
    else:
        db.take_write_lock(session.connection())


def record(
    action: str,
    obj: Any = None,
    *,
    actor=None,
    object_type: str | None = None,
    object_id: int | None = None,
    session=None,
    **details,
) -> AuditEntry | None:
    """Append an entry in the caller's transaction. ``details`` must hold ids or codes only.

    In a transaction marked with ``defer`` the entry is kept back and chained at its commit
    (then there is no row yet and None is returned).
    """
    session = session or db.get_session()
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    actor_id = actor if isinstance(actor, int) or actor is None else actor.id
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:
        if not session.in_transaction():
            session.begin()  # so that a rollback (which fires no event without one) drops it
        deferred.append(_Pending(utcnow(), actor_id, action, object_type, object_id, details))
        return None
    return _append(session, actor_id, action, object_type, object_id, details)


def _append(session, actor_id, action, object_type, object_id, details, at=None) -> AuditEntry:
    _lock_chain(session)
    last = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = at or utcnow()
    entry = AuditEntry(
        at=at,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
        prev_hash=prev,
        hash=_digest(prev, at, actor_id, action, object_type, object_id, details),
    )
    session.add(entry)
    # Flush now so the next record() in this transaction chains onto this one.
    session.flush()
    return entry


# --- long jobs: chained at their commit ------------------------------------------------

_DEFERRED = "fk_audit_deferred"


@dataclass(frozen=True)
class _Pending:
    """An entry kept back by ``defer``: everything but its place in the chain."""

    at: datetime
    actor_id: int | None
    action: str
    object_type: str | None
    object_id: int | None
    details: dict


def defer(session) -> None:
    """Keep this session's audit entries back and chain them just before its transaction
    commits. For long jobs (``flask send-reminders``): the chain's lock (PostgreSQL's advisory
    lock, SQLite's write lock) is then held for the moment of writing them, not for the whole
    job, so page views on every application server do not wait for it. The entries keep the
    time of the event; a rolled-back transaction drops them with everything else.
    """
    session.info.setdefault(_DEFERRED, [])


@event.listens_for(Session, "before_commit")
def _chain_deferred(session):
    entries = session.info.get(_DEFERRED)
    if not entries:
        return
    session.info[_DEFERRED] = []
    for e in entries:
        _append(session, e.actor_id, e.action, e.object_type, e.object_id, e.details, at=e.at)


@event.listens_for(Session, "after_soft_rollback")
def _drop_deferred(session, previous_transaction):
    if not previous_transaction.nested and session.info.get(_DEFERRED):
        session.info[_DEFERRED] = []


def record_overrides(obj, actor, kinds, *, session=None) -> None:
    """What a user confirmed and saved anyway, kinds only, never the text: the guard's findings
    as not about the person ("pii.override"), the topic hint's categories as not needed
    ("topic.override", from kinds "topic:<category>")."""
    kinds = set(kinds)
    categories = sorted(kind.split(":", 1)[1] for kind in kinds if kind.startswith("topic:"))
    personal = sorted(kind for kind in kinds if not kind.startswith("topic:"))
    if personal:
        record("pii.override", obj, actor=actor, session=session, kinds=personal)
    if categories:
        record("topic.override", obj, actor=actor, session=session, categories=categories)


class BulkChain:
    """Audit rows for a bulk insert (synthetic data for benchmarks), chained in memory.

    ``row`` returns the column values of the next entry; the caller inserts the rows in
    order, in one transaction, with nothing else writing to the trail meanwhile.
    """

    def __init__(self, session):
        self.prev = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar() or GENESIS

    def row(self, action: str, actor_id, object_type, object_id, at: datetime, **details) -> dict:
        digest = _digest(self.prev, at, actor_id, action, object_type, object_id, details)
        row = dict(
            at=at,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details=details,
            prev_hash=self.prev,
            hash=digest,
        )
        self.prev = digest
        return row


def verify(session, batch: int = 20000) -> tuple[int, int | None]:
    """Walk the chain in id order. Returns (entries checked, id of first broken entry)."""
    t = AuditEntry.__table__.c
    cols = (t.id, t.at, t.actor_id, t.action, t.object_type, t.object_id, t.details, t.prev_hash, t.hash)
    # Core rows, not ORM objects: a million entries must verify in seconds.
    conn = session.connection()
    prev, count, last_id = GENESIS, 0, 0
    while True:
        rows = conn.execute(select(*cols).where(t.id > last_id).order_by(t.id).limit(batch)).all()
        if not rows:
            return count, None
        for id_, at, actor_id, action, otype, oid, details, prev_hash, hash_ in rows:
            if prev_hash != prev or hash_ != _digest(prev_hash, at, actor_id, action, otype, oid, details):
                return count, id_
            prev = hash_
            count += 1
            last_id = id_
