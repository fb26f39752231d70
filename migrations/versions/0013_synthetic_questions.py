"""synthetic questions per chunk, for a retriever tuned on the corpus

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "synthetic_questions",
        sa.Column("document_sha256", sa.String(64), primary_key=True),
        sa.Column("chunk_sha256", sa.String(64), primary_key=True),
        sa.Column("model_sha256", sa.String(64), primary_key=True),
        sa.Column("prompt_version", sa.String(32), primary_key=True),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("cpu_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("synthetic_questions")
