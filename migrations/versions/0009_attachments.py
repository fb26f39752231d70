"""an e-mail's attachments are documents of their own, tied to the mail

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The document it came out of (an attachment's mail); forgetting the mail forgets it.
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_documents_parent_id", "documents", ["parent_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_documents_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_parent_id")
        batch.drop_constraint("fk_documents_parent_id", type_="foreignkey")
        batch.drop_column("parent_id")
