"""Initial audit store: interviews, their answers, assessments and API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interviews",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kb_version", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(8), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("asked", sa.JSON(), nullable=False),
        sa.Column("current_question", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("api_key_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_interviews_created_at", "interviews", ["created_at"])
    op.create_table(
        "interview_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "interview_id", sa.String(36), sa.ForeignKey("interviews.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question_id", sa.String(64), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
    )
    op.create_index("ix_interview_events_interview_id", "interview_events", ["interview_id"])
    op.create_table(
        "assessments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kb_version", sa.String(32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("api_key_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_assessments_created_at", "assessments", ["created_at"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("ix_assessments_created_at", table_name="assessments")
    op.drop_table("assessments")
    op.drop_index("ix_interview_events_interview_id", table_name="interview_events")
    op.drop_table("interview_events")
    op.drop_index("ix_interviews_created_at", table_name="interviews")
    op.drop_table("interviews")
