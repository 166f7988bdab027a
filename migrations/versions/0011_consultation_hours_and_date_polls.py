"""consultation hours in the neighbourhood (hours, exceptions, topics, figures, publishers); date polls

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


# The topics the Stadtteilbüros asked for; admins keep the list from here on.
TOPICS = [
    (
        "BuT – Bildung und Teilhabe",
        "Education and participation (BuT)",
        "Geld für Schule, Kita, Sport und Ausflüge von Kindern (Bildungs·paket)",
    ),
    ("Bürgergeld/Antrag", "Citizen's income (Bürgergeld): applying", "Bürger·geld beantragen"),
    ("Arbeit und Weiterbildung", "Work and further training", "Arbeit finden und dazu·lernen"),
    (
        "Kinderzuschlag und Wohngeld-Beratung",
        "Child supplement and housing benefit",
        "Extra·geld für Kinder und Geld für die Miete",
    ),
]


def upgrade():
    # The public pages' Last-Modified: existing rows count as changed now.
    with op.batch_alter_table("location") as batch:
        batch.add_column(
            sa.Column(
                "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()
            )
        )
    with op.batch_alter_table("district") as batch:
        batch.add_column(
            sa.Column(
                "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()
            )
        )
    with op.batch_alter_table("location") as batch:
        batch.alter_column("updated_at", server_default=None)
    with op.batch_alter_table("district") as batch:
        batch.alter_column("updated_at", server_default=None)

    topic = op.create_table(
        "consultation_topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("name_easy", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "consultation_hour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("rrule", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("topic_ids", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("step_free", sa.Boolean(), nullable=False),
        sa.Column("hearing_loop", sa.Boolean(), nullable=False),
        sa.Column("accessibility_note", sa.String(length=300), nullable=False),
        sa.Column("appointment_needed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("contact_office", sa.String(length=160), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        # Written out, not imported from the models: a migration stays what it was when it ran.
        sa.CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name="ck_consultation_hour_status"),
    )
    with op.batch_alter_table("consultation_hour") as batch:
        batch.create_index("ix_consultation_hour_team_id", ["team_id"], unique=False)
        batch.create_index("ix_consultation_hour_status_location", ["status", "location_id"], unique=False)
    op.create_table(
        "consultation_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=True),
        sa.Column("moved_start", sa.Time(), nullable=True),
        sa.Column("moved_end", sa.Time(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["hour_id"], ["consultation_hour.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hour_id", "day", name="uq_consultation_exception_hour_day"),
        sa.CheckConstraint("kind IN ('cancelled', 'moved')", name="ck_consultation_exception_kind"),
    )
    with op.batch_alter_table("consultation_exception") as batch:
        batch.create_index("ix_consultation_exception_hour_id", ["hour_id"], unique=False)
    op.create_table(
        "consultation_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("referrals", sa.JSON(), nullable=False),
        sa.Column("conferences_suggested", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hour_id"], ["consultation_hour.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hour_id", "day", name="uq_consultation_visit_hour_day"),
    )
    with op.batch_alter_table("consultation_visit") as batch:
        batch.create_index("ix_consultation_visit_hour_id", ["hour_id"], unique=False)
    op.create_table(
        "consultation_publisher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["granted_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )

    op.create_table(
        "date_poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answer_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["conference_id"], ["conference.id"]),
        sa.ForeignKeyConstraint(["organiser_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("status IN ('open', 'decided', 'cancelled')", name="ck_date_poll_status"),
    )
    with op.batch_alter_table("date_poll") as batch:
        batch.create_index("ix_date_poll_conference_id", ["conference_id"], unique=False)
        batch.create_index("ix_date_poll_organiser_id", ["organiser_id"], unique=False)
    op.create_table(
        "poll_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"]),
        sa.ForeignKeyConstraint(["poll_id"], ["date_poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("status IN ('proposed', 'chosen', 'released')", name="ck_poll_slot_status"),
    )
    with op.batch_alter_table("poll_slot") as batch:
        batch.create_index("ix_poll_slot_poll_id", ["poll_id"], unique=False)
        batch.create_index("ix_poll_slot_location_starts", ["location_id", "starts_at"], unique=False)
    op.create_table(
        "poll_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["answered_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["poll_id"], ["date_poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "agency_id", name="uq_poll_participant_poll_agency"),
        sa.CheckConstraint("status IN ('active', 'removed')", name="ck_poll_participant_status"),
    )
    with op.batch_alter_table("poll_participant") as batch:
        batch.create_index("ix_poll_participant_poll_id", ["poll_id"], unique=False)
        batch.create_index("ix_poll_participant_agency_status", ["agency_id", "status"], unique=False)
    op.create_table(
        "poll_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["poll_participant.id"]),
        sa.ForeignKeyConstraint(["slot_id"], ["poll_slot.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("participant_id", "slot_id", name="uq_poll_answer_participant_slot"),
        sa.CheckConstraint("answer IN ('yes', 'maybe', 'no')", name="ck_poll_answer_answer"),
    )
    with op.batch_alter_table("poll_answer") as batch:
        batch.create_index("ix_poll_answer_participant_id", ["participant_id"], unique=False)
        batch.create_index("ix_poll_answer_slot_id", ["slot_id"], unique=False)

    from datetime import UTC as utc
    from datetime import datetime

    now = datetime.now(utc)
    op.bulk_insert(
        topic,
        [
            {"name": name, "name_en": en, "name_easy": easy, "active": True, "updated_at": now}
            for name, en, easy in TOPICS
        ],
    )


def downgrade():
    for table in ("poll_answer", "poll_participant", "poll_slot", "date_poll"):
        op.drop_table(table)
    for table in (
        "consultation_publisher",
        "consultation_visit",
        "consultation_exception",
        "consultation_hour",
        "consultation_topic",
    ):
        op.drop_table(table)
    with op.batch_alter_table("district") as batch:
        batch.drop_column("updated_at")
    with op.batch_alter_table("location") as batch:
        batch.drop_column("updated_at")
