"""messages: (conversation_id, seq) is unique, so two concurrent sends can never share a place

Before, a send read max(seq) outside its write transaction and two sends to one conversation
could get the same seq. Conversations that already have such duplicates are renumbered in
insertion order (rowid: every write path inserts at the end of its conversation), which keeps
each question next to its reply.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "WITH ranked AS ("
        " SELECT id, ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY rowid) AS place"
        " FROM messages WHERE conversation_id IN ("
        "  SELECT conversation_id FROM messages GROUP BY conversation_id, seq HAVING COUNT(*) > 1))"
        " UPDATE messages SET seq = (SELECT place FROM ranked WHERE ranked.id = messages.id)"
        " WHERE id IN (SELECT id FROM ranked)"
    )
    op.drop_index("ix_messages_conversation_id", table_name="messages")
    op.create_index(
        "ux_messages_conversation_seq", "messages", ["conversation_id", "seq"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_messages_conversation_seq", table_name="messages")
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id", "seq"])
