"""conversation turns name the inference endpoint that wrote the answer

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An added nullable column (no table rebuild): turns answered in-process have none.
    op.add_column("conversation_turns", sa.Column("model_endpoint", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_turns") as batch:
        batch.drop_column("model_endpoint")
