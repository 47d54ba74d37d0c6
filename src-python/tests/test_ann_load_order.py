"""The vector graph's library must never take the process down with the embedder's.

Loading onnxruntime after usearch's compiled module crashes (SIGSEGV); `knowledge.ann` imports
usearch only after onnxruntime. Each case runs in its own interpreter: a crash must not end the
test session, and load order is per process.
"""

import subprocess
import sys

import pytest

CASES = {
    "a graph then the embedder's runtime in a thread": """
import threading
from sage_sidecar.knowledge import ann
graph = ann.Graph(8)
t = threading.Thread(target=lambda: __import__("onnxruntime"))
t.start(); t.join()
print("alive")
""",
    "a saved graph mapped, then the runtime": """
import pathlib, tempfile, numpy
from sage_sidecar.knowledge import ann
path = pathlib.Path(tempfile.mkdtemp()) / "graph"
rows = numpy.eye(4, 8, dtype=numpy.float32)
graph = ann.Graph(8)
graph.add(numpy.arange(4, dtype=numpy.uint64), rows)
graph.save(path)
ann.Graph.view(path, 8).search(rows[0], 2)
import onnxruntime
print("alive")
""",
}


@pytest.mark.parametrize("code", CASES.values(), ids=CASES.keys())
def test_the_process_survives_both_libraries(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.strip() == "alive"
