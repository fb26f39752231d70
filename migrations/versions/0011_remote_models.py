"""models served by inference endpoints, with a fingerprint of their weights

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added columns only (no table rebuild): a model without endpoints runs in-process.
    op.add_column("models", sa.Column("endpoints", sa.JSON(), nullable=True))
    op.add_column("models", sa.Column("fingerprint", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.drop_column("fingerprint")
        batch.drop_column("endpoints")
