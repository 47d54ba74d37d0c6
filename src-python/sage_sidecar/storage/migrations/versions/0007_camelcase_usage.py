"""messages.usage in camelCase, like the frames and the other JSON columns (docs/protocol.md)

Rows written before hold `{"prompt_tokens", "completion_tokens"}`; they are rewritten as
`{"promptTokens", "completionTokens"}`. Keys this migration does not know are kept.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_RENAMES = {"prompt_tokens": "promptTokens", "completion_tokens": "completionTokens"}
_messages = sa.table("messages", sa.column("id", sa.String), sa.column("usage", sa.JSON))


def _rewrite(renames: dict[str, str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_messages.c.id, _messages.c.usage).where(
        _messages.c.usage.is_not(None))).all()  # fmt: skip
    for row_id, usage in rows:
        if not isinstance(usage, dict) or not any(k in usage for k in renames):
            continue
        renamed: dict[str, Any] = {str(renames.get(k, k)): v for k, v in usage.items()}
        bind.execute(_messages.update().where(_messages.c.id == row_id).values(usage=renamed))


def upgrade() -> None:
    _rewrite(_RENAMES)


def downgrade() -> None:
    _rewrite({new: old for old, new in _RENAMES.items()})
