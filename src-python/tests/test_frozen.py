"""Checks on the frozen build itself (made by scripts/build-sidecar.sh before the tests run)."""

import subprocess
import time
from pathlib import Path

import pytest
from proc_tree import children_running

from sidecar_process import FROZEN

pytestmark = pytest.mark.skipif(
    not FROZEN.exists(), reason="no frozen build: run scripts/build-sidecar.sh"
)


def test_frozen_sidecar_runs_python_scripts_with_common_stdlib(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(
        "import csv, statistics, decimal, json, sqlite3, io\n"
        "print(statistics.mean([1, 2, 3]), decimal.Decimal('0.1') + decimal.Decimal('0.2'))\n"
    )
    result = subprocess.run(
        [str(FROZEN), "--run-python", str(script)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2 0.3"


def test_frozen_embedder_uses_the_bundled_model_and_matches_the_venv(tmp_path):
    """The offline model and tokenizer come from inside the bundle, and the frozen build computes
    the same vectors as the venv; a vector index saved there reads back."""
    import json

    import numpy

    from sage_sidecar.knowledge.embed_local import LocalMiniLM

    texts = ["How do I reset my password?", "Steps to reset a forgotten password", "Mehl, Zucker"]
    script = tmp_path / "embed.py"
    script.write_text(
        "import json, sys, numpy\n"
        "from pathlib import Path\n"
        "from sage_sidecar.knowledge import embed_local\n"
        "from sage_sidecar.knowledge.vectors import VectorIndex\n"
        f"vectors = embed_local.LocalMiniLM().embed_sync({texts!r})\n"
        f"index = VectorIndex.open(Path({str(tmp_path / 'kb')!r}), 384)\n"
        "index.add(numpy.arange(3), vectors)\n"
        "index.save()\n"
        f"again = VectorIndex.open(Path({str(tmp_path / 'kb')!r}), 384)\n"
        "print(json.dumps({'bundle': sys._MEIPASS, 'model': str(embed_local.model_path()),\n"
        "    'tokenizer': str(embed_local.TOKENIZER_PATH), 'vectors': vectors.tolist(),\n"
        "    'hits': again.search(vectors[0], 2)}))\n"
    )
    result = subprocess.run(
        [str(FROZEN), "--run-python", str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    bundle = Path(out["bundle"]).resolve()
    assert bundle in Path(out["model"]).resolve().parents
    assert bundle in Path(out["tokenizer"]).resolve().parents
    frozen = numpy.array(out["vectors"], dtype=numpy.float32)
    numpy.testing.assert_allclose(frozen, LocalMiniLM().embed_sync(texts), atol=1e-5)
    assert [hit[0] for hit in out["hits"]] == [0, 1]


@pytest.mark.parametrize("model", [[], ["minilm"], ["use-m3"]])
def test_frozen_embed_worker_serves_the_models_vectors(model):
    """`sage-sidecar --embed-worker [model]` (the sidecar's embedder process, main.py) answers a
    request on stdin with the same vectors as the venv's model, and ends at stdin EOF; the
    multilingual model's weights and SentencePiece model come from the bundle."""
    import json

    import numpy

    from sage_sidecar.knowledge.embed_local import LocalMiniLM
    from sage_sidecar.knowledge.embed_use import LocalUSE

    here = LocalUSE() if model == ["use-m3"] else LocalMiniLM()
    texts = ["How do I reset my password?", "Mehl, Zucker", "硬盘还剩多少空间？"]
    worker = subprocess.Popen([str(FROZEN), "--embed-worker", *model], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)  # fmt: skip
    assert worker.stdin is not None and worker.stdout is not None
    try:
        worker.stdin.write(json.dumps({"id": 1, "texts": texts}).encode() + b"\n")
        worker.stdin.flush()
        assert json.loads(worker.stdout.readline()) == {"ready": True}
        assert json.loads(worker.stdout.readline()) == {"id": 1, "rows": 3}
        data = worker.stdout.read(3 * here.dim * 4)
        vectors = numpy.frombuffer(data, dtype="<f4").reshape(3, here.dim)
        worker.stdin.close()
        assert worker.wait(timeout=10) == 0
    finally:
        worker.kill()
    numpy.testing.assert_allclose(vectors, here.embed_sync(texts), atol=1e-5)


def test_frozen_sidecar_loads_the_model_only_for_a_knowledge_base(tmp_path):
    """Idle, the frozen sidecar has started no embedder; the first file of a knowledge base
    starts its embedder process (`--embed-worker`), which maps onnxruntime while the sidecar
    itself never does, and searching works with what PyInstaller bundled."""
    import functools
    import signal

    from sidecar_process import api_call, read_ready, sidecar_env

    env = sidecar_env(tmp_path / "data")
    key = env["SAGE_API_KEY"]
    proc = subprocess.Popen([str(FROZEN)], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip

    def mapped(name: str, pid: int = proc.pid) -> bool:
        return name in Path(f"/proc/{pid}/maps").read_text()

    def embedder_pids() -> list[int]:
        return children_running(proc.pid, b"--embed-worker")

    def rss_mb() -> float:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024

    try:
        ready = read_ready(proc, timeout=60)
        call = functools.partial(api_call, ready.port, key, timeout=60)
        call("GET", "/api/health")
        assert not mapped("onnxruntime"), "the model loaded without a knowledge base"
        assert embedder_pids() == []
        idle_rss = rss_mb()
        notes = {"ships.txt": "Lighthouses guide ships at night with a rotating light.",
                 "jam.txt": "Marmalade is made from bitter oranges, sugar and water."}  # fmt: skip
        for name, text in notes.items():
            (tmp_path / name).write_text(text + "\n")
        kb = call("POST", "/api/knowledge/bases", {"name": "Notes"})
        call("POST", f"/api/knowledge/bases/{kb['id']}/files/paths",
             {"paths": [str(tmp_path / name) for name in notes]})  # fmt: skip
        for _ in range(600):
            files = call("GET", f"/api/knowledge/bases/{kb['id']}/files")
            if all(f["status"] in ("ready", "failed") for f in files):
                break
            time.sleep(0.1)
        assert [f["status"] for f in files] == ["ready", "ready"], files
        for query, expected in (("what guides boats in the dark", "Lighthouses"),
                                ("a citrus preserve for toast", "Marmalade")):  # fmt: skip
            hits = call("POST", "/api/knowledge/search",
                        {"query": query, "kb_ids": [kb["id"]], "mode": "vector"})["hits"]  # fmt: skip
            assert hits[0]["text"].startswith(expected), (query, hits)
        assert not mapped("onnxruntime"), "the sidecar loaded the model itself"
        (embedder,) = embedder_pids()
        assert mapped("onnxruntime", embedder)
        print(f"frozen sidecar RSS: idle {idle_rss:.0f} MB, after searching {rss_mb():.0f} MB")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_frozen_parse_worker_decodes_and_downscales_an_image(tmp_path):
    """The bundle carries Pillow and the four decoders the parse worker uses for attached images
    (the sidecar itself never imports them): a PNG, JPEG, WebP and GIF come back downscaled."""
    import io
    import json

    from PIL import Image

    requests = []
    for fmt in ("PNG", "JPEG", "WEBP", "GIF"):
        source = tmp_path / f"in.{fmt.lower()}"
        Image.new("RGB", (3000, 1500), (200, 30, 30)).save(source, fmt)
        requests.append({"op": "image", "path": str(source), "target": str(tmp_path / fmt)})
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    requests.append({"op": "image", "path": str(bad), "target": str(tmp_path / "bad")})
    result = subprocess.run(
        [str(FROZEN), "--parse-worker", "1024"], capture_output=True, timeout=60,
        input="".join(json.dumps(r) + "\n" for r in requests).encode(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    ready, *answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert ready == {"ready": True}
    done = [a["done"] for a in answers[:4]]
    assert [d["mime"] for d in done] == ["image/png", "image/jpeg", "image/webp", "image/png"]
    assert all((d["width"], d["height"]) == (2048, 1024) for d in done)
    stored = Image.open(io.BytesIO((tmp_path / "WEBP.webp").read_bytes()))
    assert stored.size == (2048, 1024)
    assert answers[4]["error"]["code"] == "image.unreadable", answers[4]


def test_frozen_build_ships_the_builtin_skills(tmp_path):
    """The shipped skills' folders are data inside the bundle, and their front matter reads with
    the bundled YAML parser (services/skills/builtin.py seeds them from there)."""
    import json

    script = tmp_path / "skills.py"
    script.write_text(
        "import json, sys\n"
        "from sage_sidecar.services.skills.builtin import shipped_folders\n"
        "from sage_sidecar.services.skills.skill_md import parse\n"
        "folders = shipped_folders()\n"
        "print(json.dumps({'bundle': sys._MEIPASS, 'folders': [str(f) for f in folders],\n"
        "    'names': [parse((f / 'SKILL.md').read_text()).name for f in folders]}))\n"
    )
    result = subprocess.run(
        [str(FROZEN), "--run-python", str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["names"] == ["code-review", "email-reply", "meeting-notes", "summarize-document"]
    bundle = Path(out["bundle"]).resolve()
    assert all(bundle in Path(f).resolve().parents for f in out["folders"])


def test_frozen_build_opens_and_converts_an_encrypted_database(tmp_path):
    """SQLCipher (sqlcipher3's bundled library) is in the frozen build: a keyed database with an
    FTS5 trigram index is written and read back, plain sqlite3 cannot read it, and the conversion's
    export to a plain copy works (storage/cipher.py, storage/conversion.py)."""
    import json

    script = tmp_path / "cipher.py"
    script.write_text(
        "import json, sqlite3, sys\n"
        "from pathlib import Path\n"
        "from sage_sidecar.storage import cipher, conversion\n"
        f"db = Path({str(tmp_path / 'enc.db')!r})\n"
        "key = bytes(range(32))\n"
        "conn = cipher.connect_encrypted(db, key)\n"
        'conn.execute("PRAGMA journal_mode=WAL")\n'
        "conn.execute(\"CREATE VIRTUAL TABLE t USING fts5(body, tokenize='trigram')\")\n"
        "conn.execute(\"INSERT INTO t VALUES ('hello encrypted world')\")\n"
        "conn.commit()\n"
        "hits = conn.execute(\"SELECT body FROM t WHERE t MATCH 'crypt'\").fetchall()\n"
        "conn.close()\n"
        "try:\n"
        "    sqlite3.connect(db).execute('SELECT * FROM sqlite_master').fetchall()\n"
        "    plain = 'readable'\n"
        "except sqlite3.DatabaseError as error:\n"
        "    plain = str(error)\n"
        f"copy = Path({str(tmp_path / 'plain.db')!r})\n"
        "source = conversion._open(db, key)\n"
        "conversion._export(source, copy, None)\n"
        "source.close()\n"
        "back = sqlite3.connect(copy).execute('SELECT body FROM t').fetchall()\n"
        "print(json.dumps({'hits': hits, 'plain': plain, 'encrypted': cipher.is_encrypted(db),\n"
        "                  'copy': back, 'copy_encrypted': cipher.is_encrypted(copy)}))\n"
    )
    result = subprocess.run(
        [str(FROZEN), "--run-python", str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out == {
        "hits": [["hello encrypted world"]],
        "plain": "file is not a database",
        "encrypted": True,
        "copy": [["hello encrypted world"]],
        "copy_encrypted": False,
    }
