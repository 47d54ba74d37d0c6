"""SAGE_EMBEDDER_THREADS sets onnxruntime's intra-op threads (bench/ingest/bench_loop.py)."""

import os

import pytest

from sage_sidecar.knowledge import embed_local


def test_the_thread_override_and_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    default = max(1, min(os.cpu_count() or 1, 8))
    monkeypatch.delenv("SAGE_EMBEDDER_THREADS", raising=False)
    assert embed_local.intra_op_threads() == default
    monkeypatch.setenv("SAGE_EMBEDDER_THREADS", "1")
    assert embed_local.intra_op_threads() == 1
    for ignored in ("0", "-2", "many", ""):
        monkeypatch.setenv("SAGE_EMBEDDER_THREADS", ignored)
        assert embed_local.intra_op_threads() == default
