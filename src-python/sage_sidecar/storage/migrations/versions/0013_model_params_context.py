"""model parameters per agent and conversation, context policy

Agents keep their `temperature` and `max_tokens` columns (exports and older clients name them)
and gain the other sampling parameters as columns of their own: `top_p`, `seed`, `stop` (JSON
list), `reasoning_effort`, and `context_policy` (`drop` | `summarise`: what happens when the
history no longer fits the model's context window). A conversation's override of any of them is
one JSON object, `conversations.model_params` (only the parameters it sets).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("top_p", sa.Float(), nullable=True))
        batch.add_column(sa.Column("seed", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("stop", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("reasoning_effort", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("context_policy", sa.String(16), nullable=False, server_default="drop")
        )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("model_params", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("model_params")
    with op.batch_alter_table("agents") as batch:
        for column in ("context_policy", "reasoning_effort", "stop", "seed", "top_p"):
            batch.drop_column(column)
