"""retry by elapsed time, silences at send time, content-derived group keys, pruning

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("matchers", sa.Text(), nullable=True))
        batch_op.create_index("ix_notifications_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("notification_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("part_key", sa.String(length=64), nullable=True))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_resolved_at", ["resolved_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_resolved_at")
    with op.batch_alter_table("notification_items", schema=None) as batch_op:
        batch_op.drop_column("part_key")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_created_at")
        batch_op.drop_column("matchers")
        batch_op.drop_column("retry_since")
