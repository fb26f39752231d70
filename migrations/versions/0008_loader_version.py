"""documents remember which loader version read them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty for documents stored before: the next ingest reads them again with today's
    # loaders (a scanned PDF stored as text-less pages gains its OCR text, for example).
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column("loader_version", sa.String(64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("loader_version")
