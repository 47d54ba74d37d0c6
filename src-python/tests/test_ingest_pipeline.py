"""The ingest pipeline: the next file is parsed and its chunks written while the one before it
embeds; files embed in queue order; a failing embedder call fails its file only, with its reason;
a file deleted while it waits is dropped; a shutdown leaves nothing running and no attempt counted.

Real parts: the app's ingest worker, parse worker processes, SQLite and the vector index on disk,
and the offline embedder, wrapped so the test can hold a file's embedding and see the order."""

import asyncio
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal
from fastapi.testclient import TestClient

from sage_sidecar.knowledge.embedders import Embedder
from sage_sidecar.knowledge.ingest import PIPELINE_DEPTH

from knowledge_client import create_base, files_of, search, upload, wait_indexed

WAIT_S = 30


class GatedEmbedder:
    """The real offline embedder; a text containing a `hold` word waits for `release` first, one
    containing `poison` fails. Records which file (its marker word) each call embedded."""

    def __init__(self, real: Embedder) -> None:
        self.id, self._real = real.id, real
        self.calls: list[str] = []
        self.holding = False
        self.release = asyncio.Event()

    @property
    def dim(self) -> int | None:
        return self._real.dim

    async def embed(self, texts: Sequence[str]) -> Any:
        marker = next(w for w in texts[0].split() if w.startswith("doc"))
        self.calls.append(marker)
        if "hold" in texts[0]:
            self.holding = True
            await self.release.wait()
        if "poison" in texts[0]:
            raise RuntimeError("the model ran out of memory")
        return await self._real.embed(texts)


def portal(client: TestClient) -> BlockingPortal:
    assert client.portal is not None
    return client.portal


@pytest.fixture
def gated(client: TestClient) -> Iterator[GatedEmbedder]:
    knowledge = client.app.state.sage.knowledge  # type: ignore[attr-defined]
    real = portal(client).call(knowledge.embedder_for, "local:all-minilm-l6-v2")
    embedder = GatedEmbedder(real)

    async def embedder_for(_embedder_id: str) -> Embedder:
        return embedder

    knowledge.worker._embedder_for = embedder_for
    yield embedder
    portal(client).call(embedder.release.set)  # never leave a file held


def doc(marker: str, extra: str = "") -> tuple[str, bytes]:
    return f"{marker}.txt", f"{marker} {extra} notes about tides and harbour cranes.\n".encode()


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def status(client: TestClient, auth: dict, kb_id: str) -> dict[str, str]:
    return {f["name"]: f["status"] for f in files_of(client, auth, kb_id)}


def test_the_next_file_is_parsed_while_one_embeds_and_files_embed_in_order(
    client: TestClient, auth, gated: GatedEmbedder
):
    names = ["doca", "docb", "docc", "docd", "doce"]
    assert len(names) > PIPELINE_DEPTH + 1
    kb = create_base(client, auth)
    upload(client, auth, kb["id"], doc("doca", "hold"), *(doc(name) for name in names[1:]))
    wait_for(lambda: gated.holding, "doca to start embedding")
    # While doca's embedding is held, the files after it are parsed and their chunks are in
    # SQLite: they wait as `embedding`, not `queued`. PIPELINE_DEPTH files at most (bounded).
    last = f"{names[PIPELINE_DEPTH - 1]}.txt"
    wait_for(lambda: status(client, auth, kb["id"])[last] == "embedding", "the pipeline full")
    time.sleep(0.3)
    assert status(client, auth, kb["id"])[f"{names[PIPELINE_DEPTH]}.txt"] == "queued"
    # doca has sent its last batch: the next files' batches wait at the embedder behind it, in
    # queue order (the embedder never idles between two files), but they are stored only after
    # doca: none is ready before it.
    in_flight = names[:PIPELINE_DEPTH]
    wait_for(lambda: gated.calls == in_flight, "the next files' batches sent behind doca's")
    time.sleep(0.3)
    assert {status(client, auth, kb["id"])[f"{n}.txt"] for n in in_flight} == {"embedding"}
    portal(client).call(gated.release.set)
    files = wait_indexed(client, auth, kb["id"], timeout=WAIT_S)
    assert {f["name"]: f["status"] for f in files} == {f"{n}.txt": "ready" for n in names}
    assert gated.calls == names
    index = client.app.state.sage.knowledge.indexes.get(kb["id"], 384)  # type: ignore[attr-defined]
    assert len(index) == len(names)


def test_a_failing_embedding_fails_its_file_alone_with_the_reason(
    client: TestClient, auth, gated: GatedEmbedder
):
    kb = create_base(client, auth)
    upload(client, auth, kb["id"], doc("doca"), doc("docb", "poison"), doc("docc"))
    files = {f["name"]: f for f in wait_indexed(client, auth, kb["id"], timeout=WAIT_S)}
    assert files["docb.txt"]["status"] == "failed"
    assert files["docb.txt"]["error"] == (
        "The embedder failed on this file: the model ran out of memory"
    )
    assert files["docb.txt"]["chunk_count"] == 0
    assert files["doca.txt"]["status"] == files["docc.txt"]["status"] == "ready"
    hits = search(client, auth, "harbour cranes", [kb["id"]])
    assert sorted({h["file_name"] for h in hits}) == ["doca.txt", "docc.txt"]


def test_a_file_deleted_while_it_waits_for_its_turn_is_dropped(
    client: TestClient, auth, settings, gated: GatedEmbedder
):
    kb = create_base(client, auth)
    a, b, c = upload(client, auth, kb["id"], doc("doca", "hold"), doc("docb"), doc("docc")).json()
    wait_for(lambda: status(client, auth, kb["id"])["docb.txt"] == "embedding", "docb parsed")
    url = f"/api/knowledge/bases/{kb['id']}/files/{b['id']}"
    assert client.delete(url, headers=auth).status_code == 204
    portal(client).call(gated.release.set)
    files = wait_indexed(client, auth, kb["id"], timeout=WAIT_S)
    assert {f["name"]: f["status"] for f in files} == {"doca.txt": "ready", "docc.txt": "ready"}
    with sqlite3.connect(settings.db_path) as conn:
        left = conn.execute("SELECT count(*) FROM knowledge_chunks WHERE file_id = ?", (b["id"],))
        assert left.fetchone()[0] == 0
    index = client.app.state.sage.knowledge.indexes.get(kb["id"], 384)  # type: ignore[attr-defined]
    assert len(index) == 2


def test_shutdown_stops_every_file_in_flight_and_counts_no_attempt(
    client: TestClient, auth, settings, gated: GatedEmbedder
):
    names = ["doca", "docb", "docc", "docd", "doce"][: PIPELINE_DEPTH + 1]
    kb = create_base(client, auth)
    upload(client, auth, kb["id"], doc("doca", "hold"), *(doc(name) for name in names[1:]))
    last = f"{names[PIPELINE_DEPTH - 1]}.txt"
    wait_for(lambda: status(client, auth, kb["id"])[last] == "embedding", "the pipeline full")
    worker = client.app.state.sage.knowledge.worker  # type: ignore[attr-defined]
    assert worker.in_flight == PIPELINE_DEPTH

    async def stop_and_look() -> list[str]:
        await worker.stop()
        names = [getattr(t.get_coro(), "__qualname__", "") for t in asyncio.all_tasks()]
        return [name for name in names if "IngestWorker" in name]

    assert portal(client).call(stop_and_look) == []  # no pipeline task left running
    assert worker.in_flight == 0
    with sqlite3.connect(settings.db_path) as conn:
        rows = dict(conn.execute("SELECT name, status || ':' || attempts FROM knowledge_files"))
    assert rows == {f"{name}.txt": "queued:0" for name in names}


def test_a_file_that_embeds_during_a_grouped_save_waits_for_the_next_one(
    client: TestClient, auth, gated: GatedEmbedder
):
    """The save awaits the index write; a file finishing meanwhile joins the pending list and
    must stay there (it was dropped, and stuck as `embedding`, before)."""
    from sage_sidecar.knowledge.ingest import Job

    kb = create_base(client, auth)
    [a] = upload(client, auth, kb["id"], doc("doca")).json()
    wait_indexed(client, auth, kb["id"], timeout=WAIT_S)
    worker = client.app.state.sage.knowledge.worker  # type: ignore[attr-defined]

    def job(file_id: str) -> Job:
        return Job(file_id, kb["id"], Path("unused"), "txt", file_id, "local", 200, 20, 384)

    async def save_while_one_arrives() -> list[str]:
        worker._pending = [job(a["id"])]
        saving = asyncio.create_task(worker._save_pending())
        await asyncio.sleep(0)  # the save is under way, awaiting the index write
        worker._pending.append(job("late"))
        await saving
        left = [j.file_id for j in worker._pending]
        worker._pending = []
        return left

    assert portal(client).call(save_while_one_arrives) == ["late"]


def test_a_files_next_batch_waits_at_the_embedder_while_one_runs_and_vectors_keep_their_order(
    client: TestClient, auth, gated: GatedEmbedder
):
    """EMBED_AHEAD: batch 2 is sent while batch 1 is held (the model never waits for the round
    trip), batch 3 only once batch 1 is back; each chunk keeps its own vector."""
    worker = client.app.state.sage.knowledge.worker  # type: ignore[attr-defined]
    worker.embed_batch = 1
    kb = create_base(client, auth)
    sections = {
        "Tides": "docm hold The tide rises twice a day as the moon pulls the ocean.",
        "Cranes": "docm Harbour cranes lift shipping containers from the deck onto trucks.",
        "Bread": "docm Sourdough bread needs a starter, flour, water, salt and a hot oven.",
    }
    text = "".join(f"# {heading}\n\n{body}\n\n" for heading, body in sections.items())
    upload(client, auth, kb["id"], ("docm.md", text.encode()))
    wait_for(lambda: gated.holding, "the first batch held")
    wait_for(lambda: len(gated.calls) == 2, "the second batch sent while the first runs")
    time.sleep(0.3)
    assert gated.calls == ["docm", "docm"]  # not the third: two at the embedder at most
    portal(client).call(gated.release.set)
    [file] = wait_indexed(client, auth, kb["id"], timeout=WAIT_S)
    assert (file["status"], file["chunk_count"], len(gated.calls)) == ("ready", 3, 3)
    for heading, question in [("Tides", "moon and ocean tide"), ("Cranes", "container lifting"),
                              ("Bread", "baking with a starter")]:  # fmt: skip
        hits = search(client, auth, question, [kb["id"]])
        best = min((h for h in hits if h["vector_rank"]), key=lambda h: h["vector_rank"])
        assert best["heading"] == heading, (question, hits)
