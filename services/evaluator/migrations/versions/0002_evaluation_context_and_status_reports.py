"""evaluation context and status reports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 00:27:41.504445
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluation_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_reports_target", "status_reports", ["target_id", "reported_at"], unique=False)

    # Nullable columns only: evaluations stored before this migration keep their rows as they were.
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("related_actual", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("related_observation_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("related_vintage", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("softened", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("report_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("report_id")
        batch_op.drop_column("softened")
        batch_op.drop_column("related_vintage")
        batch_op.drop_column("related_observation_id")
        batch_op.drop_column("related_actual")

    op.drop_index("ix_status_reports_target", table_name="status_reports")
    op.drop_table("status_reports")
