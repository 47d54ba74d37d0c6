"""Knowledge bases in a real sidecar process: kill -9 in the middle of ingest, then a restart on
the same data dir ends the file ready with every chunk, FTS row and vector (never "ready" with parts
missing); and the frozen build parses every format, embeds and searches with what PyInstaller
bundled."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from pydoc_data.topics import topics

import pytest
from websockets.sync.client import connect

from knowledge_client import write_docx, write_html, write_pdf
from sidecar_process import FROZEN, read_ready, sidecar_command, sidecar_env
from sidecar_process import api_call as call

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def start(command: list[str], env: dict[str, str]):
    proc = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    return proc, read_ready(proc, timeout=60)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def big_document(path: Path) -> str:
    """~60 kB of real prose (Python's own help topics): ~80 chunks, a second or two to embed."""
    text, names = "", sorted(topics)
    while len(text) < 60_000:
        text += topics[names.pop(0)] + "\n\n"
    path.write_text(text + "The last line of this file is about marmalade and lighthouses.\n")
    return text


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(sidecar_command(), id="venv"),
        pytest.param(
            [str(FROZEN)],
            id="frozen",
            marks=pytest.mark.skipif(not FROZEN.exists(), reason="no frozen build"),
        ),
    ],
)
def test_kill_9_mid_ingest_then_restart_finishes_the_file(tmp_path: Path, command: list[str]):
    data_dir = tmp_path / "data"
    env = sidecar_env(data_dir)
    key = env["SAGE_API_KEY"]
    source = tmp_path / "topics.txt"
    big_document(source)

    proc, ready = start(command, env)
    try:
        kb = call(ready.port, key, "POST", "/api/knowledge/bases", {"name": "Python help"})
        with connect(f"ws://127.0.0.1:{ready.port}/ws/events", close_timeout=0.5) as ws:
            ws.send(json.dumps({"type": "auth", "apiKey": key}))
            assert json.loads(ws.recv(timeout=10))["type"] == "auth.ok"
            (file,) = call(ready.port, key, "POST", f"/api/knowledge/bases/{kb['id']}/files/paths",
                           {"paths": [str(source)]})  # fmt: skip
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # kill as soon as the first vectors are done
                event = json.loads(ws.recv(timeout=60))
                if event["type"] != "knowledge.file":
                    continue
                assert event["status"] != "failed", event["error"]
                if event["status"] == "embedding" and 0 < event["progress"] < 1:
                    break
            else:
                raise AssertionError("no embedding progress within 60 s")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        proc.kill()
    db = data_dir / "agent_platform.db"
    with sqlite3.connect(db) as conn:
        (status,) = conn.execute("SELECT status FROM knowledge_files").fetchone()
    assert status == "embedding"  # cut off mid-way, and not claiming to be ready

    proc, ready = start(command, env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            file = call(
                ready.port, key, "GET", f"/api/knowledge/bases/{kb['id']}/files/{file['id']}"
            )
            if file["status"] in ("ready", "failed"):
                break
            time.sleep(0.1)
        assert file["status"] == "ready", file
        hits = call(ready.port, key, "POST", "/api/knowledge/search",
                    {"query": "marmalade and lighthouses", "kb_ids": [kb["id"]]})["hits"]  # fmt: skip
        assert "marmalade" in hits[0]["text"]  # the end of the file made it in
        hits = call(ready.port, key, "POST", "/api/knowledge/search",
                    {"query": "what does the assert statement do", "kb_ids": [kb["id"]],
                     "mode": "vector"})["hits"]  # fmt: skip
        assert hits and hits[0]["vector_score"] > 0.3
    finally:
        stop(proc)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        chunks = conn.execute("SELECT count(*) FROM knowledge_chunks").fetchone()[0]
        fts = conn.execute(
            "SELECT count(*) FROM knowledge_chunks_fts WHERE knowledge_chunks_fts MATCH 'the'"
        ).fetchone()[0]
        attempts = conn.execute("SELECT attempts FROM knowledge_files").fetchone()[0]
    assert chunks == file["chunk_count"] > 50 and fts <= chunks
    assert attempts == 2
    from sage_sidecar.knowledge.vectors import VectorIndex

    index = VectorIndex.open(data_dir / "vectors" / kb["id"], 384)
    assert len(index) == chunks  # no vector of the first attempt left behind, none missing


@pytest.mark.skipif(not FROZEN.exists(), reason="no frozen build: run scripts/build-sidecar.sh")
def test_frozen_sidecar_parses_every_format_and_searches(tmp_path: Path):
    env = sidecar_env(tmp_path / "data")
    key = env["SAGE_API_KEY"]
    notes = tmp_path / "notes.md"
    notes.write_text("# Garden\n\nWater tomatoes deeply twice a week in summer.\n")
    paths = [write_pdf(tmp_path / "guide.pdf"), write_docx(tmp_path / "birds.docx"),
             write_html(tmp_path / "tea.html"), notes]  # fmt: skip
    proc, ready = start([str(FROZEN)], env)
    try:
        kb = call(ready.port, key, "POST", "/api/knowledge/bases", {"name": "Formats"})
        call(ready.port, key, "POST", f"/api/knowledge/bases/{kb['id']}/files/paths",
             {"paths": [str(p) for p in paths]})  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            files = call(ready.port, key, "GET", f"/api/knowledge/bases/{kb['id']}/files")
            if all(f["status"] in ("ready", "failed") for f in files):
                break
            time.sleep(0.1)
        assert {f["name"]: f["status"] for f in files} == {p.name: "ready" for p in paths}, files
        for query, name in (
            ("choose a folder for the data", "guide.pdf"),
            ("grey herons in shallow water", "birds.docx"),
            ("green tea temperature", "tea.html"),
            ("watering tomatoes", "notes.md"),
        ):
            hits = call(ready.port, key, "POST", "/api/knowledge/search",
                        {"query": query, "kb_ids": [kb["id"]]})["hits"]  # fmt: skip
            assert hits[0]["file_name"] == name, (query, hits[0])
    finally:
        stop(proc)
