"""notifications record the open alert and the rule that inhibited them (status inhibited)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inhibited_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("inhibit_rule", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("inhibit_rule")
        batch_op.drop_column("inhibited_by")
