"""consent-exact content: data categories on agenda items, measures, the minutes' summary and
each decision; what an agency's taking part reveals; existing content Jobcenter-only

Revision ID: 0007
Revises: 0006
"""

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

EMPTY = sa.text("'[]'")
# Written out, not imported: what an agency type revealed when this migration was written.
TYPE_REVEALS = {
    "education": ["work"],
    "health": ["health"],
    "counselling": ["addiction", "debt", "family", "residence"],
    "youth": ["family"],
    "neighbourhood_office": ["general"],
    "other": ["general", "health", "addiction", "debt", "housing", "family", "residence"],
}
NUMBERING = re.compile(r"^\s*(?:\d+[.)]|[-•*])\s*")

minutes = sa.table(
    "minutes",
    sa.column("id", sa.Integer),
    sa.column("decisions", sa.Text),
    sa.column("decision_list", sa.JSON),
    sa.column("content", sa.JSON),
)
note = sa.table("note", sa.column("visibility", sa.String), sa.column("categories", sa.JSON))
agency = sa.table("agency", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("type", sa.String))
minutes_pdf = sa.table("minutes_pdf", sa.column("variant", sa.String))


def decision_list(text: str | None) -> list:
    """One decision per line, as the form asked for them; each for the Jobcenter only."""
    lines = [NUMBERING.sub("", line).strip() for line in (text or "").splitlines()]
    return [{"text": line, "categories": []} for line in lines if line]


def upgrade():
    for table in ("agenda_item", "measure"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("categories", sa.JSON(), nullable=False, server_default=EMPTY))
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("reveals", sa.JSON(), nullable=True))
    with op.batch_alter_table("minutes") as batch:
        batch.add_column(sa.Column("summary_categories", sa.JSON(), nullable=False, server_default=EMPTY))
        batch.add_column(sa.Column("decision_list", sa.JSON(), nullable=False, server_default=EMPTY))

    conn = op.get_bind()
    agencies = {
        name: (agency_id, kind)
        for agency_id, name, kind in conn.execute(sa.select(agency.c.id, agency.c.name, agency.c.type))
    }
    for minutes_id, decisions, content in conn.execute(
        sa.select(minutes.c.id, minutes.c.decisions, minutes.c.content)
    ).all():
        values = {"decision_list": decision_list(decisions)}
        if content:
            values["content"] = _with_agency_ids(content, agencies)
        conn.execute(minutes.update().where(minutes.c.id == minutes_id).values(**values))
    with op.batch_alter_table("minutes") as batch:
        batch.drop_column("decisions")
        batch.alter_column("decision_list", new_column_name="decisions")

    # Nothing defaults to shared: a note without categories is for the Jobcenter only.
    conn.execute(
        note.update().where(sa.cast(note.c.categories, sa.Text).in_(["[]", ""])).values(visibility="jobcenter")
    )
    # Partners' copies were rendered under the old rules (notes filtered, nothing else):
    # they are made again, under the new rules, when next requested.
    conn.execute(minutes_pdf.delete().where(minutes_pdf.c.variant != "archive"))


def _with_agency_ids(content, agencies) -> dict:
    """Frozen content knew agencies by name only: add their ids (a partner recognises its own
    notes and measures by them) and what their taking part reveals."""
    content = dict(json.loads(content) if isinstance(content, str) else content)
    for participant in content.get("participants", []):
        agency_id, kind = agencies.get(participant.get("agency"), (None, "other"))
        participant.setdefault("agency_id", agency_id)
        participant.setdefault("reveals", TYPE_REVEALS.get(kind, TYPE_REVEALS["other"]))
    for item in content.get("notes", []):
        item.setdefault("agency_id", agencies.get(item.get("agency"), (None, None))[0])
    for key in ("measures", "reviewed"):
        for item in content.get(key, []):
            item.setdefault("responsible_agency_id", agencies.get(item.get("responsible_agency"), (None, None))[0])
    return content


def downgrade():
    conn = op.get_bind()
    with op.batch_alter_table("minutes") as batch:
        batch.alter_column("decisions", new_column_name="decision_list")
        batch.add_column(sa.Column("decisions", sa.Text(), nullable=False, server_default=""))
    for minutes_id, items in conn.execute(sa.select(minutes.c.id, minutes.c.decision_list)).all():
        items = json.loads(items) if isinstance(items, str) else items
        text = "\n".join(f"{i}. {d['text']}" for i, d in enumerate(items or [], start=1))
        conn.execute(minutes.update().where(minutes.c.id == minutes_id).values(decisions=text))
    with op.batch_alter_table("minutes") as batch:
        batch.drop_column("decision_list")
        batch.drop_column("summary_categories")
    with op.batch_alter_table("agency") as batch:
        batch.drop_column("reveals")
    for table in ("agenda_item", "measure"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("categories")
