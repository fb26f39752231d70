"""conversations owned by an OpenID Connect token's subject

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("owner_subject", sa.String(300), nullable=True))
    op.create_index("ix_conversations_owner_subject", "conversations", ["owner_subject"])


def downgrade() -> None:
    op.drop_index("ix_conversations_owner_subject", table_name="conversations")
    op.drop_column("conversations", "owner_subject")
