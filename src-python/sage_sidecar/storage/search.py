"""Full-text search over messages. SQLite FTS5 specifics live here (a PostgreSQL deployment
would swap this module for tsvector/pg_trgm)."""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TRIGRAM = 3  # the trigram tokenizer needs at least three characters to match


@dataclass
class MessageHit:
    conversation_id: str
    title: str
    message_id: str | None
    snippet: str


def _fts_phrase(query: str) -> str:
    return '"' + query.replace('"', '""') + '"'


async def search_messages(session: AsyncSession, query: str, limit: int = 50) -> list[MessageHit]:
    query = query.strip()
    if not query:
        return []
    like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if len(query) >= TRIGRAM:
        message_sql = text(
            "SELECT m.conversation_id, c.title, m.id, "
            "snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet "
            "FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid "
            "JOIN conversations c ON c.id = m.conversation_id "
            "WHERE messages_fts MATCH :match ORDER BY rank LIMIT :limit"
        ).bindparams(match=_fts_phrase(query), limit=limit)
    else:
        message_sql = text(
            "SELECT m.conversation_id, c.title, m.id, substr(m.content, 1, 80) AS snippet "
            "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE m.content LIKE :like ESCAPE '\\' ORDER BY m.created_at DESC LIMIT :limit"
        ).bindparams(like=like, limit=limit)
    title_sql = text(
        "SELECT id, title, NULL, title FROM conversations "
        "WHERE title LIKE :like ESCAPE '\\' ORDER BY updated_at DESC LIMIT :limit"
    ).bindparams(like=like, limit=limit)
    hits = [MessageHit(*row) for row in (await session.execute(title_sql)).all()]
    hits += [MessageHit(*row) for row in (await session.execute(message_sql)).all()]
    return hits[:limit]
