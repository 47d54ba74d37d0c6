"""knowledge bases: files, chunks, BM25 full-text index over chunks; citations on messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "knowledge_bases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("embedder", sa.String(300), nullable=False),
        sa.Column("embedding_dim", sa.Integer(), nullable=True),
        sa.Column("chunk_tokens", sa.Integer(), nullable=False),
        sa.Column("chunk_overlap", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "knowledge_files",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "kb_id",
            sa.String(32),
            sa.ForeignKey("knowledge_bases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("stored_path", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("kb_id", "sha256"),
    )
    # The ingest worker's queue: the oldest file in a given status.
    op.create_index("ix_knowledge_files_status", "knowledge_files", ["status", "created_at"])
    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "kb_id",
            sa.String(32),
            sa.ForeignKey("knowledge_bases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "file_id",
            sa.String(32),
            sa.ForeignKey("knowledge_files.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("char_start", sa.Integer(), nullable=False),
        sa.Column("char_end", sa.Integer(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sqlite_autoincrement=True,  # chunk ids are vector ids: never reused
    )
    op.create_index("ix_knowledge_chunks_kb_id", "knowledge_chunks", ["kb_id"])
    op.create_index("ix_knowledge_chunks_file_id", "knowledge_chunks", ["file_id"])
    # BM25 over the passage and its heading path. porter + unicode61 (not trigram as for
    # messages): word stems rank English prose better (measured on the evaluation set, see
    # docs/knowledge.md). External content: the text is stored once, in knowledge_chunks.
    op.execute(
        "CREATE VIRTUAL TABLE knowledge_chunks_fts USING fts5("
        "text, heading, content='knowledge_chunks', content_rowid='id', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks BEGIN "
        "INSERT INTO knowledge_chunks_fts(rowid, text, heading) "
        "VALUES (new.id, new.text, new.heading); END"
    )
    op.execute(
        "CREATE TRIGGER knowledge_chunks_fts_delete AFTER DELETE ON knowledge_chunks BEGIN "
        "INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, text, heading) "
        "VALUES ('delete', old.id, old.text, old.heading); END"
    )
    op.execute(
        "CREATE TRIGGER knowledge_chunks_fts_update AFTER UPDATE OF text, heading "
        "ON knowledge_chunks BEGIN "
        "INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, text, heading) "
        "VALUES ('delete', old.id, old.text, old.heading); "
        "INSERT INTO knowledge_chunks_fts(rowid, text, heading) "
        "VALUES (new.id, new.text, new.heading); END"
    )
    op.add_column("messages", sa.Column("citations", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "citations")
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS knowledge_chunks_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS knowledge_chunks_fts")
    op.drop_table("knowledge_chunks")
    op.drop_table("knowledge_files")
    op.drop_table("knowledge_bases")
