"""Chinese in knowledge bases: the bigram index beside FTS5's porter one (storage/cjk.py), how a
query picks its index, and hybrid search leaving the English-only embedder out of a Chinese
query. Real sidecar app in-process, SQLite on disk, the offline embedder."""

import asyncio
import sqlite3

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.app import create_app
from sage_sidecar.core.config import Settings
from sage_sidecar.storage import cjk
from sage_sidecar.storage.db import Database

from conftest import TEST_ORIGIN
from knowledge_client import create_base, files_of, search, upload, wait_indexed

# Short Chinese notes on four topics, and plain questions that share few words with them.
DOCS = {
    "tea.txt": "绿茶不经过发酵，保留了茶叶本来的清香。冲泡绿茶时水温以八十度左右为宜，"
    "水太烫会把嫩芽烫熟，使茶汤发苦。",
    "bikes.txt": "自行车链条缺油时骑行会发出响声，而且容易生锈。每骑三四百公里，"
    "应当清洁链条并滴上专用润滑油，多余的油要擦掉。",
    "backup.txt": "重要文件至少保存三份副本：两份放在不同的本地硬盘上，另一份存放在异地。"
    "定期检查备份能否恢复，比单纯备份更重要。",
    "sleep.txt": "成年人每晚通常需要七到九小时睡眠。睡前一小时避免看手机屏幕，"
    "卧室保持安静、黑暗和凉爽，有助于更快入睡。",
}
QUESTIONS = [
    ("泡绿茶应该用多少度的水？", "tea.txt"),
    ("自行车链条多久需要上一次油？", "bikes.txt"),
    ("文件备份要放几个地方才安全？", "backup.txt"),
    ("晚上总是睡不着怎么办？", "sleep.txt"),
    ("链条生锈了还响是什么原因", "bikes.txt"),
]


def test_bigram_terms_and_the_query_language():
    bigrams, characters = ["列出", "出目", "目录"], ["列", "出", "目", "录"]
    assert cjk.terms("列出目录 ls -A 与 Foo_Bar") == [
        *bigrams,
        *characters,
        "ls",
        "a",
        "与",
        "foo_bar",
    ]
    assert cjk.is_cjk_query("怎样查看文件夹里的文件？")
    assert cjk.is_cjk_query("PostgreSQL 数据库怎么备份")
    assert not cjk.is_cjk_query("How do I install the 宋体 font on Debian?")
    assert not cjk.is_cjk_query("plain English")
    # quotes cannot break out of a term: FTS5 syntax never gets through
    assert cjk.match_query('中文" OR x') == '"中文" OR "中" OR "文" OR "or" OR "x"'


def test_chinese_questions_find_their_passage_first(client: TestClient, auth):
    kb = create_base(client, auth)
    upload(client, auth, kb["id"], *((name, text.encode()) for name, text in DOCS.items()))
    wait_indexed(client, auth, kb["id"])
    for mode in ("bm25", "hybrid"):
        for question, expected in QUESTIONS:
            hits = search(client, auth, question, [kb["id"]], mode=mode, top_k=3)
            assert hits and hits[0]["file_name"] == expected, (mode, question, hits[:1])
    # hybrid does not ask the English-only embedder about Chinese; it does for English
    hits = search(client, auth, QUESTIONS[0][0], [kb["id"]], mode="hybrid")
    assert all(h["vector_rank"] is None for h in hits)
    assert search(client, auth, "tea", [kb["id"]], mode="vector")  # asked explicitly: it answers


def test_english_questions_keep_the_stemming_index_and_mixed_queries_reach_english_pages(
    client: TestClient, auth
):
    kb = create_base(client, auth)
    upload(client, auth, kb["id"], ("tea.txt", DOCS["tea.txt"].encode()),
           ("pg.txt", b"Nightly PostgreSQL backups: pg_dump writes each database to a file."),
           ("run.txt", b"The scheduler runs jobs in the order they were queued."))  # fmt: skip
    wait_indexed(client, auth, kb["id"])
    assert (
        search(client, auth, "running jobs", [kb["id"]], mode="bm25")[0]["file_name"] == "run.txt"
    )
    # a Chinese question naming an English product finds the English page by that word
    hits = search(client, auth, "PostgreSQL 数据库怎么备份？", [kb["id"]], mode="bm25")
    assert [h["file_name"] for h in hits] == ["pg.txt"]


def bigram_rows(settings: Settings) -> int:
    with sqlite3.connect(settings.db_path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {cjk.TABLE}").fetchone()[0])


def test_only_chunks_with_cjk_text_are_indexed_and_deleting_a_file_removes_them(
    client: TestClient, auth, settings: Settings
):
    kb = create_base(client, auth)
    upload(client, auth, kb["id"], ("tea.txt", DOCS["tea.txt"].encode()),
           ("en.txt", b"Only English words here."))  # fmt: skip
    wait_indexed(client, auth, kb["id"])
    assert bigram_rows(settings) == 1
    tea = next(f for f in files_of(client, auth, kb["id"]) if f["name"] == "tea.txt")
    response = client.delete(f"/api/knowledge/bases/{kb['id']}/files/{tea['id']}", headers=auth)
    assert response.status_code == 204
    assert bigram_rows(settings) == 0
    upload(client, auth, kb["id"], ("sleep.txt", DOCS["sleep.txt"].encode()))
    wait_indexed(client, auth, kb["id"])
    assert client.delete(f"/api/knowledge/bases/{kb['id']}", headers=auth).status_code == 204
    assert bigram_rows(settings) == 0


def test_a_library_from_before_the_index_gets_it_at_start(settings: Settings, api_key, auth):
    """An upgrade: chunks stored without the bigram table are indexed once, at the next start."""
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
        kb = create_base(client, auth)
        upload(client, auth, kb["id"], *((name, text.encode()) for name, text in DOCS.items()))
        wait_indexed(client, auth, kb["id"])
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute(f"DROP TABLE {cjk.TABLE}")
        conn.execute(f"DROP TRIGGER {cjk.TABLE}_delete")
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
        assert bigram_rows(settings) == len(DOCS)
        hits = search(client, auth, QUESTIONS[1][0], [kb["id"]], mode="bm25")
        assert hits[0]["file_name"] == "bikes.txt"


def test_the_backfill_is_one_transaction(settings: Settings, auth, monkeypatch):
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
        kb = create_base(client, auth)
        upload(client, auth, kb["id"], ("tea.txt", DOCS["tea.txt"].encode()))
        wait_indexed(client, auth, kb["id"])
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute(f"DROP TABLE {cjk.TABLE}")

    def crash(_chunks):
        raise RuntimeError("power cut")

    async def run() -> None:
        db = Database(settings.db_path)
        try:
            monkeypatch.setattr(cjk, "rows_for", crash)
            async with db.session() as session:
                with pytest.raises(RuntimeError):
                    await cjk.ensure_index(session)
            monkeypatch.undo()
            async with db.session() as session:
                assert await cjk.ensure_index(session)  # created now, as if for the first time
            async with db.session() as session:
                assert not await cjk.ensure_index(session)  # and only once
        finally:
            await db.dispose()

    asyncio.run(run())
    assert bigram_rows(settings) == 1
