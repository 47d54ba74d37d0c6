"""Lexical search for Chinese and Japanese text: character bigrams and unigrams.

These scripts are written without spaces, so FTS5's `porter unicode61` tokenizer takes a whole
run of characters between punctuation marks as one "word" and a question's words never match
(BM25 found 0 of 5 Chinese questions). A chunk that contains CJK text is therefore also indexed
in `knowledge_chunks_cjk`, an FTS5 table of its text rewritten as overlapping bigrams plus the
single characters (`列出目录` -> `列出 出目 目录 列 出 目 录`), and a query written in CJK is
rewritten the same way. Bigrams match words; unigrams let `睡不着` still meet `入睡`, with BM25's
IDF keeping common characters cheap. Chosen by measurement on bench/quality's Chinese set
(docs/knowledge.md): bigrams + unigrams recall@5 0.657 / MRR 0.561; bigrams alone 0.586 / 0.488;
jieba's word segmentation 0.586 / 0.458 (and a 20 MB sdist, a dictionary to load, 10x slower
indexing); FTS5's `trigram` tokenizer 0.471 / 0.361 (it cannot match two-character words, which
most Chinese words are).

The table is created at start, idempotently (`ensure_index`), and filled from the chunks already
stored the first time; a trigger removes a chunk's row with the chunk. Only chunks with CJK text
are in it, so an English-only library pays nothing.
"""

import re
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Hiragana, Katakana, CJK Unified Ideographs (and extension A), compatibility ideographs.
CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
_RUN = re.compile(f"[{CJK_RANGES}]+|[^\\W{CJK_RANGES}]+")
_WORD_CHAR = re.compile(r"\w")
QUERY_SHARE = 0.2  # a query is "CJK" when at least this share of its letters are CJK characters
TABLE = "knowledge_chunks_cjk"
MAX_QUERY_TERMS = 64


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def is_cjk_query(text: str) -> bool:
    """Mostly CJK: one Chinese word in an English question does not make it Chinese (its
    characters carry ~2.5x the information of Latin letters, hence the low share)."""
    cjk = len(_CJK_CHAR.findall(text))
    return cjk > 0 and cjk >= QUERY_SHARE * len(_WORD_CHAR.findall(text))


def terms(text: str) -> list[str]:
    """CJK runs as overlapping bigrams then their characters, other words lowercased."""
    found: list[str] = []
    for match in _RUN.finditer(text.lower()):
        run = match.group(0)
        if _CJK_CHAR.match(run) and len(run) > 1:
            found += [run[i : i + 2] for i in range(len(run) - 1)] + list(run)
        else:
            found.append(run)
    return found


def index_text(text: str | None) -> str:
    return " ".join(terms(text)) if text else ""


def match_query(query: str) -> str | None:
    """An FTS5 OR-query of quoted terms (no FTS5 syntax gets through); None if nothing is left."""
    unique = list(dict.fromkeys(terms(query)))[:MAX_QUERY_TERMS]
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in unique) or None


def rows_for(chunks: Iterable[tuple[int, str, str | None]]) -> list[dict[str, object]]:
    """The index rows of those (id, text, heading) that contain CJK text."""
    return [
        {"id": chunk_id, "text": index_text(text), "heading": index_text(heading)}
        for chunk_id, text, heading in chunks
        if has_cjk(text) or (heading and has_cjk(heading))
    ]


INSERT_SQL = text(f"INSERT INTO {TABLE}(rowid, text, heading) VALUES (:id, :text, :heading)")
_CREATE = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(text, heading, "
    "tokenize='unicode61 remove_diacritics 2')"
)
_TRIGGER = (
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON knowledge_chunks "
    f"BEGIN DELETE FROM {TABLE} WHERE rowid = old.id; END"
)
_BACKFILL_BATCH = 2000


async def ensure_index(session: AsyncSession) -> bool:
    """Create the table and its trigger if missing, and index the chunks already stored (an
    upgrade from a version without it); commits. True when it was created. One transaction: a
    crash half-way leaves no table, and the next start does it all again."""
    exists = await session.scalar(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": TABLE}
    )
    if not exists:
        # A trigger left without its table would fail every chunk delete.
        await session.execute(text(f"DROP TRIGGER IF EXISTS {TABLE}_delete"))
        # sqlite3 opens its transaction only before DML, not before CREATE: a no-op DELETE
        # opens it first, so the CREATE and the backfill commit together or not at all.
        await session.execute(text("DELETE FROM knowledge_chunks WHERE 0"))
        await session.execute(text(_CREATE))
        last = 0
        while batch := (
            await session.execute(
                text("SELECT id, text, heading FROM knowledge_chunks WHERE id > :last "
                     "ORDER BY id LIMIT :limit"),
                {"last": last, "limit": _BACKFILL_BATCH},
            )
        ).all():  # fmt: skip
            last = batch[-1][0]
            if rows := rows_for((row[0], row[1], row[2]) for row in batch):
                await session.execute(INSERT_SQL, rows)
    await session.execute(text(_TRIGGER))
    await session.commit()
    return not exists
