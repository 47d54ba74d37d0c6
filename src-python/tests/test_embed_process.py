"""The offline embedder runs in a child process (knowledge/embed_process.py, embed_worker.py): the
caller's process does none of the work, a query goes ahead of a file's batches, a killed child is
replaced (and a second death fails with the reason), and no child outlives the sidecar."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy
import pytest
from proc_tree import children_running, thread_nices

from sage_sidecar.knowledge.embed_local import LocalMiniLM
from sage_sidecar.knowledge.embed_process import EmbedderProcess
from sage_sidecar.knowledge.embed_provider import EmbeddingError

from sidecar_process import api_call, read_ready, sidecar_command, sidecar_env, wait_gone

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="/proc")
# ~200 tokens each: one model run per text, ~50-100 ms each on 2 cores.
LONG = [f"Passage {i}: " + "lighthouses guide ships along rocky coasts at night " * 25
        for i in range(48)]  # fmt: skip


@pytest.fixture
def embedder() -> Iterator[EmbedderProcess]:
    """A child of its own (not the process-wide one other tests share), killed afterwards."""
    process = EmbedderProcess()
    try:
        yield process
    finally:
        process.close()


async def _wait_for_child(embedder: EmbedderProcess, other_than: int | None = None) -> int:
    for _ in range(600):
        pid = embedder.pid
        if pid is not None and pid != other_than:
            return pid
        await asyncio.sleep(0.01)
    raise AssertionError("no embedder process started")


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


async def test_vectors_are_the_models_own_in_input_order(embedder):
    texts = ["short", LONG[0], "How do I reset my password?", "mid size text " * 5]
    vectors = await asyncio.wait_for(embedder.embed(texts), 60)
    assert vectors.shape == (4, 384) and vectors.dtype == numpy.float32
    numpy.testing.assert_allclose(vectors, LocalMiniLM().embed_sync(texts), atol=1e-6)
    assert (await embedder.embed([])).shape == (0, 384)
    assert embedder.started == 1


def test_the_callers_process_does_none_of_the_work(tmp_path):
    """In a fresh interpreter: embedding 48 long texts leaves onnxruntime and the tokenizer
    unimported there, and its own CPU time is a sliver of the child's. In a thread of the caller
    (the old way) all of that CPU was the caller's, holding its Python lock in between."""
    script = (
        "import asyncio, json, os, sys, time\n"
        "from pathlib import Path\n"
        "from sage_sidecar.knowledge.embedders import local_embedder\n"
        f"texts = {LONG!r}\n"
        "embedder = local_embedder()\n"
        "asyncio.run(embedder.embed(['warm up']))\n"
        "cpu = time.process_time()\n"
        "asyncio.run(embedder.embed(texts))\n"
        "own = time.process_time() - cpu\n"
        "stat = Path(f'/proc/{embedder.pid}/stat').read_text().rsplit(')', 1)[1].split()\n"
        "child = (int(stat[11]) + int(stat[12])) / os.sysconf('SC_CLK_TCK')\n"
        "print(json.dumps({'own': own, 'child': child, 'loaded': sorted(\n"
        "    m for m in ('onnxruntime', 'tokenizers') if m in sys.modules)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True, env=env)  # fmt: skip
    out = json.loads(result.stdout)
    print(out)
    assert out["loaded"] == []
    if sys.platform == "linux":
        assert out["child"] > 1.0  # the model's work happened there
        assert out["own"] < 0.1 * out["child"], out


async def test_a_query_goes_ahead_of_a_files_batch(embedder):
    await asyncio.wait_for(embedder.embed(["warm up"]), 60)
    batch = asyncio.create_task(embedder.embed(LONG))
    await asyncio.sleep(0.2)  # the batch is under way in the child
    started = time.perf_counter()
    query = await asyncio.wait_for(embedder.embed(["where do ships find light"]), 30)
    waited = time.perf_counter() - started
    assert not batch.done(), "the query waited for the whole batch"
    vectors = await asyncio.wait_for(batch, 120)
    print(f"query answered in {waited * 1000:.0f} ms while a 48-text batch ran")
    numpy.testing.assert_allclose(query, LocalMiniLM().embed_sync(["where do ships find light"]),
                                  atol=1e-6)  # fmt: skip
    assert vectors.shape == (48, 384)


async def test_a_killed_child_is_replaced_and_its_work_redone(embedder):
    batch = asyncio.create_task(embedder.embed(LONG[:24]))
    first = await _wait_for_child(embedder)
    await asyncio.sleep(1.0)  # mid-batch (the model loads, then runs text after text)
    _kill(first)
    vectors = await asyncio.wait_for(batch, 120)
    numpy.testing.assert_allclose(vectors, LocalMiniLM().embed_sync(LONG[:24]), atol=1e-6)
    assert embedder.started == 2 and embedder.pid not in (None, first)


async def test_a_second_death_fails_the_request_with_the_reason(embedder):
    batch = asyncio.create_task(embedder.embed(LONG[:24]))
    first = await _wait_for_child(embedder)
    _kill(first)
    _kill(await _wait_for_child(embedder, other_than=first))
    with pytest.raises(EmbeddingError, match=r"stopped unexpectedly twice \(exit status -9\)"):
        await asyncio.wait_for(batch, 60)
    # The next request gets a fresh child.
    assert (await asyncio.wait_for(embedder.embed(["again"]), 60)).shape == (1, 384)
    assert embedder.started == 3


async def test_a_cancelled_request_leaves_the_child_free(embedder):
    await asyncio.wait_for(embedder.embed(["warm up"]), 60)
    batch = asyncio.create_task(embedder.embed(LONG * 4))  # ~10-20 s of work
    await asyncio.sleep(0.3)
    batch.cancel()
    started = time.perf_counter()
    await asyncio.wait_for(embedder.embed(LONG[:9]), 60)  # not a "small" request: no priority
    assert time.perf_counter() - started < 8, "the cancelled batch was still being computed"


def _nices_and_environ(pid: int | None) -> tuple[list[int], list[bytes]]:
    assert pid is not None
    return thread_nices(pid), Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


@linux_only
async def test_the_child_runs_below_the_callers_priority_with_no_key(embedder, monkeypatch):
    monkeypatch.setenv("SAGE_API_KEY", "k" * 64)
    await asyncio.wait_for(embedder.embed(["Lighthouses guide ships at night."] * 4), 60)
    nices, environ = _nices_and_environ(embedder.pid)
    assert len(nices) > 1 and set(nices) == {10}, nices  # ONNX's threads too
    assert os.getpriority(os.PRIO_PROCESS, 0) == 0
    assert not [v for v in environ if v.startswith(b"SAGE_API_KEY")]


# --- a real sidecar -----------------------------------------------------------------------------


class Sidecar:
    def __init__(self, data_dir: Path) -> None:
        self.proc = subprocess.Popen(sidecar_command(), env=(env := sidecar_env(data_dir)),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        self.ready = read_ready(self.proc, timeout=60)
        self.key = env["SAGE_API_KEY"]

    def call(self, method: str, path: str, body: dict | None = None):
        return api_call(self.ready.port, self.key, method, path, body, timeout=60)

    def embedder_pid(self, timeout: float = 30, other_than: tuple[int, ...] = ()) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for child in children_running(self.proc.pid, b"embed_worker"):
                if child not in other_than:
                    return child
            time.sleep(0.02)
        raise AssertionError("the sidecar started no embedder process")

    def add(self, kb_id: str, path: Path) -> str:
        added = self.call("POST", f"/api/knowledge/bases/{kb_id}/files/paths",
                          {"paths": [str(path)]})  # fmt: skip
        file_id: str = added[0]["id"]
        return file_id

    def file(self, kb_id: str, file_id: str) -> dict:
        files = self.call("GET", f"/api/knowledge/bases/{kb_id}/files")
        return next(f for f in files if f["id"] == file_id)

    def wait_file(self, kb_id: str, file_id: str, statuses: tuple[str, ...]) -> dict:
        for _ in range(1200):
            found = self.file(kb_id, file_id)
            if found["status"] in statuses:
                return found
            time.sleep(0.05)
        raise AssertionError(f"file never reached {statuses}: {found}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(15)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_busy(pid: int) -> None:
    """Until the process computes (its CPU time grows): it holds a request."""
    start = _cpu_seconds(pid)
    for _ in range(1500):
        if _cpu_seconds(pid) - start >= 0.1:
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never started computing")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "coast.txt").write_text("\n\n".join(LONG[:30]), encoding="utf-8")
    (folder / "harbour.txt").write_text("\n\n".join(LONG[10:40]), encoding="utf-8")
    return folder


@linux_only
def test_ingest_goes_on_after_the_embedder_is_killed_and_fails_a_file_after_two(tmp_path, corpus):
    sidecar = Sidecar(tmp_path / "data")
    try:
        kb = sidecar.call("POST", "/api/knowledge/bases", {"name": "Coast"})
        coast = sidecar.add(kb["id"], corpus / "coast.txt")
        sidecar.wait_file(kb["id"], coast, ("embedding", "ready", "failed"))
        first = sidecar.embedder_pid()
        time.sleep(0.5)
        os.kill(first, signal.SIGKILL)  # mid-file
        done = sidecar.wait_file(kb["id"], coast, ("ready", "failed"))
        assert done["status"] == "ready" and done["chunk_count"] >= 10, done

        second = sidecar.embedder_pid(other_than=(first,))  # the one that finished coast.txt
        harbour = sidecar.add(kb["id"], corpus / "harbour.txt")
        _wait_busy(second)  # embedding harbour.txt
        os.kill(second, signal.SIGKILL)
        os.kill(sidecar.embedder_pid(other_than=(first, second)), signal.SIGKILL)
        failed = sidecar.wait_file(kb["id"], harbour, ("ready", "failed"))
        assert failed["status"] == "failed", failed
        assert "stopped unexpectedly twice (exit status -9)" in failed["error"], failed
        hits = sidecar.call("POST", "/api/knowledge/search",
                            {"query": "lighthouses", "kb_ids": [kb["id"]]})["hits"]  # fmt: skip
        assert hits and {h["file_id"] for h in hits} == {coast}, hits
    finally:
        sidecar.kill()


@linux_only
@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
def test_no_embedder_process_outlives_the_sidecar(tmp_path, stop):
    sidecar = Sidecar(tmp_path / "data")
    try:
        kb = sidecar.call("POST", "/api/knowledge/bases", {"name": "Notes"})
        note = tmp_path / "note.txt"
        note.write_text("Lighthouses guide ships at night.\n")
        sidecar.wait_file(kb["id"], sidecar.add(kb["id"], note), ("ready",))
        pid = sidecar.embedder_pid()
        if stop == "sigterm":  # a quit: the clean shutdown
            sidecar.proc.send_signal(signal.SIGTERM)
            sidecar.proc.wait(15)
        else:  # a crash: the parent-death signal
            sidecar.kill()
        assert wait_gone(pid, 2.0), f"embedder {pid} outlived the sidecar ({stop})"
    finally:
        sidecar.kill()
