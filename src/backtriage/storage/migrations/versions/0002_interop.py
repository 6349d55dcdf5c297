"""Interoperability: CDS Hooks feedback, JWT ids already seen, SMART launch state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("issuer", sa.String(400), nullable=True),
        sa.Column("card", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_cds_feedback_received_at", "cds_feedback", ["received_at"])
    op.create_table(
        "seen_tokens",
        sa.Column("issuer", sa.String(400), primary_key=True),
        sa.Column("jti", sa.String(200), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seen_tokens_expires_at", "seen_tokens", ["expires_at"])
    op.create_table(
        "smart_state",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_smart_state_expires_at", "smart_state", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_smart_state_expires_at", table_name="smart_state")
    op.drop_table("smart_state")
    op.drop_index("ix_seen_tokens_expires_at", table_name="seen_tokens")
    op.drop_table("seen_tokens")
    op.drop_index("ix_cds_feedback_received_at", table_name="cds_feedback")
    op.drop_table("cds_feedback")
