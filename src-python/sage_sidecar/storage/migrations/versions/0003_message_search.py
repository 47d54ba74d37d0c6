"""full-text search over messages (FTS5, trigram: substring search that works for CJK too)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5("
        "content, content='messages', content_rowid='rowid', tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); END"
    )
    op.execute(
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content) "
        "VALUES ('delete', old.rowid, old.content); END"
    )
    # Only when the text changes: streaming flushes rewrite content, status updates must not.
    op.execute(
        "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content) "
        "VALUES ('delete', old.rowid, old.content); "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); END"
    )
    op.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")


def downgrade() -> None:
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS messages_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS messages_fts")
