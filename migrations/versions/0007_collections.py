"""collections: every document in one, API keys limited to some

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Documents stored before collections existed land in "default".
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column("collection", sa.String(64), nullable=False, server_default="default")
        )
        batch.create_index("ix_documents_collection", ["collection"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("collections", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("collections")
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_collection")
        batch.drop_column("collection")
