"""bench/ingest: where an ingest's time goes, inside the sidecar's code, in-process.

Runs the sidecar's own app (lifespan, worker, parse workers, the embedder's process) on a fresh
data dir, adds FILES of Python's help topics (bench_ingest.write_documents) to one base by path
through the ASGI app, and waits until the base is ready. Reports:

- CPU per chunk: this process (the event loop and its threads), the parse workers, the embedder's
  process — and the embedder's process CPU per chunk against `embed_sync`'s in the bench's own
  measurement, so "pipeline cost" = everything that is not model work;
- the embedder's idle time: each `embed()` call's send and return times; the gaps where no
  request of a file was outstanding are time the model had nothing to do;
- cProfile of the event loop's thread (top functions by own and cumulative time).

With --stub the model is replaced by a stand-in that answers at once (fixed unit vectors): what
is left is the pipeline's own CPU per file and per chunk (SQLite, FTS5, events, index adds,
parse workers), measured without the model's CPU on the same cores, so a change of a few
per cent of it is visible (the ratio to the raw embedder moves ±0.1 between rounds).

Usage: profile_ingest.py ROOT [--files 60] [--limit 25] [--no-profile] [--stub] [--json OUT]
(ROOT is the checkout whose sidecar code runs, e.g. a `git worktree` of an older commit; --json
appends this run's figures to the list in OUT.)
"""

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ORIGIN = "http://127.0.0.1:8765"


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process, by name (threads of one name summed)."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = names.get(int(task.name)) or (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = name.rstrip("0123456789_-")
        out[name] = out.get(name, 0.0) + sum(int(f) for f in fields[11:13]) / os.sysconf(
            "SC_CLK_TCK"
        )
    return out


class StubEmbedder:
    """Answers at once with fixed unit vectors: the pipeline without the model."""

    def __init__(self, embedder_id: str, dim: int = 384) -> None:
        import numpy

        self.id, self.pid = embedder_id, os.getpid()
        self._row = numpy.full((1, dim), dim**-0.5, dtype=numpy.float32)

    @property
    def dim(self) -> int:
        return int(self._row.shape[1])

    async def embed(self, texts: Any) -> Any:
        import numpy

        return numpy.repeat(self._row, len(texts), axis=0)


class EmbedCalls:
    """Wraps an embedder's `embed`: (sent, returned, rows) per call."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float, int]] = []

    def wrap(self, embedder: Any) -> None:
        if getattr(embedder, "_timed", False):
            return
        original = embedder.embed

        async def embed(texts: Any) -> Any:
            sent = time.perf_counter()
            result = await original(texts)
            self.calls.append((sent, time.perf_counter(), len(texts)))
            return result

        embedder.embed = embed
        embedder._timed = True

    def idle(self) -> tuple[float, float, int]:
        """(seconds with no request outstanding between the first send and the last return,
        that span, calls)."""
        spans = sorted((s, r) for s, r, _ in self.calls)
        self.gaps: list[tuple[float, float]] = []  # (at s, idle ms)
        if not spans:
            return 0.0, 0.0, 0
        idle, busy_until = 0.0, spans[0][1]
        for sent, returned in spans[1:]:
            if sent > busy_until:
                idle += sent - busy_until
                self.gaps.append(
                    (round(busy_until - spans[0][0], 2), round((sent - busy_until) * 1000, 1))
                )
            busy_until = max(busy_until, returned)
        return idle, busy_until - spans[0][0], len(spans)


async def run(
    root: Path, files: int, limit: int, profile_on: bool, stub: bool, out: Path | None = None
) -> None:
    import httpx

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_ingest import write_documents

    from sage_sidecar.app import create_app
    from sage_sidecar.core.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_documents(Path(tmp) / "docs")[:files]
        key = secrets.token_hex(32)
        app = create_app(Settings(api_key=key, data_dir=Path(tmp) / "data"))  # type: ignore[arg-type]
        async with app.router.lifespan_context(app):
            knowledge = app.state.sage.knowledge
            calls = EmbedCalls()
            original_for = knowledge.worker._embedder_for
            stubs: dict[str, StubEmbedder] = {}

            async def embedder_for(embedder_id: str) -> Any:
                if stub:
                    return stubs.setdefault(embedder_id, StubEmbedder(embedder_id))
                embedder = await original_for(embedder_id)
                calls.wrap(embedder)
                return embedder

            knowledge.worker._embedder_for = embedder_for
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(transport=transport, base_url=ORIGIN,
                                         headers=headers, timeout=600) as client:  # fmt: skip
                seen: dict[str, int] = {}

                async def count(request: Any) -> None:
                    seen[request.url.path] = seen.get(request.url.path, 0) + 1

                client.event_hooks["request"].append(count)
                kb = (await client.post("/api/knowledge/bases", json={"name": "p"})).json()
                embedder = await embedder_for(kb["embedder"])
                await embedder.embed(["load and warm the model"])
                profile = cProfile.Profile()
                threads = thread_cpu()
                own = time.process_time()
                child = 0.0 if stub else proc_cpu(embedder.pid)
                parse_before = os.times().children_user + os.times().children_system
                started = time.perf_counter()
                if profile_on:
                    profile.enable()
                await client.post(f"/api/knowledge/bases/{kb['id']}/files/paths",
                                  json={"paths": [str(p) for p in paths]})  # fmt: skip
                while True:
                    base = (await client.get(f"/api/knowledge/bases/{kb['id']}")).json()
                    if base["status"] == "ready":
                        break
                    await asyncio.sleep(0.2)
                profile.disable()
                wall = time.perf_counter() - started
                own = time.process_time() - own
                threads = {k: v - threads.get(k, 0.0) for k, v in thread_cpu().items()}
                child = 0.0 if stub else proc_cpu(embedder.pid) - child
                workers = knowledge.parser.worker_pids()
                parse = sum(proc_cpu(pid) for pid in workers)  # still alive: counted here
                parse += os.times().children_user + os.times().children_system - parse_before
                chunks = base["chunk_count"]
        idle, span, n = calls.idle()
        print("requests:", seen)
        print("embedder idle gaps (at s, ms):", calls.gaps)
        print("sidecar threads, CPU ms per chunk (live threads only):", {
            k: round(v * 1000 / chunks, 2) for k, v in sorted(threads.items(), key=lambda x: -x[1]) if v
        })  # fmt: skip
        print(f"{len(paths)} files, {chunks} chunks in {wall:.1f} s ({chunks / wall:.1f} chunks/s), "
              f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"CPU ms per chunk: sidecar {own * 1000 / chunks:.1f} (event loop + threads"
              f"{', under cProfile' if profile_on else ''}), parse workers "
              f"{parse * 1000 / chunks:.1f}, embedder process {child * 1000 / chunks:.1f}")  # fmt: skip
        print(f"CPU ms per file: sidecar {own * 1000 / len(paths):.1f}, parse workers "
              f"{parse * 1000 / len(paths):.1f}")  # fmt: skip
        print(f"embedder: {n} calls over {span:.1f} s, idle (no request outstanding) {idle:.2f} s "
              f"= {100 * idle / max(span, 1e-9):.1f}% ({idle * 1000 / max(n - 1, 1):.1f} ms "
              "per gap)")  # fmt: skip
        if out is not None:
            append_run(out, {"root": str(root), "stub": stub, "profiled": profile_on,
                         "files": len(paths), "chunks": chunks, "seconds": round(wall, 2),
                         "load_avg": round(os.getloadavg()[0], 2),
                         "sidecar_cpu_ms_per_file": round(own * 1000 / len(paths), 2),
                         "sidecar_cpu_ms_per_chunk": round(own * 1000 / chunks, 2),
                         "parse_cpu_ms_per_file": round(parse * 1000 / len(paths), 2),
                         "embedder_cpu_ms_per_chunk": round(child * 1000 / chunks, 2),
                         "embedder_idle_share": round(idle / max(span, 1e-9), 4)})  # fmt: skip
        if profile_on:
            text = io.StringIO()
            stats = pstats.Stats(profile, stream=text)
            stats.sort_stats("tottime").print_stats(limit)
            stats.sort_stats("cumulative").print_stats("sage_sidecar", limit)
            print(text.getvalue())


def append_run(out: Path, figures: dict[str, Any]) -> None:
    runs = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*runs, figures], indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--limit", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--stub", action="store_true", help="no model: the pipeline's own CPU")
    parser.add_argument("--json", type=Path, help="append this run's figures to this JSON list")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root / "src-python"))
    asyncio.run(run(args.root, args.files, args.limit, not args.no_profile, args.stub, args.json))


if __name__ == "__main__":
    main()
