"""bench/retrieval: where one knowledge search's time goes, inside the sidecar's code, in-process.

Opens a data dir that bench_http.py built (`--data DIR` there) with the sidecar's own app and
runs the same questions two ways:
- phases: each step of a hybrid search called on its own (query embedding, vector index, BM25,
  fusion, loading the chunk rows), CPU time of this process per call (`time.process_time`, all
  threads) and wall time, median over the questions;
- requests: the whole `POST /api/knowledge/search` through the ASGI app (routing, validation,
  the service, JSON) under cProfile on the event loop's thread; prints the top functions by own
  and cumulative time (the embedder's thread is not in it: see the phases for its cost).

Usage: profile_search.py ROOT DATA_DIR [--top-k 5] [--limit 25]
"""

import argparse
import asyncio
import cProfile
import io
import pstats
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

KB_NAME = "bench-http"
ORIGIN = "http://127.0.0.1:8765"


async def timed(results: dict[str, list[tuple[float, float]]], name: str,
                step: Callable[[], Awaitable[Any]]) -> Any:  # fmt: skip
    cpu, wall = time.process_time(), time.perf_counter()
    value = await step()
    results.setdefault(name, []).append(
        ((time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000)
    )
    return value


async def phases(app: Any, kb_id: str, questions: list[str], top_k: int) -> dict[str, Any]:
    from sage_sidecar.knowledge import fusion
    from sage_sidecar.knowledge.search import CANDIDATES, VECTOR_WEIGHT
    from sage_sidecar.storage import knowledge as store
    from sage_sidecar.storage.models import KnowledgeBase

    knowledge = app.state.sage.knowledge
    results: dict[str, list[tuple[float, float]]] = {}
    async with knowledge.db.session() as session:
        kb = await session.get(KnowledgeBase, kb_id)
        embedder = await knowledge.embedder_for(kb.embedder)
        index = await asyncio.to_thread(knowledge.indexes.existing, kb.id, kb.embedding_dim)
        await embedder.embed(["warm up"])
        for question in questions:
            vector = await timed(results, "embed query", lambda q=question: embedder.embed([q]))
            found = await timed(results, "vector index (to_thread)", lambda v=vector: asyncio.to_thread(index.search, v[0], CANDIDATES, None))  # fmt: skip
            lexical = await timed(results, "bm25", lambda q=question: store.bm25(session, q, [kb_id], None, CANDIDATES))  # fmt: skip

            async def fuse(found: Any = found, lexical: Any = lexical) -> Any:
                return fusion.score_fusion([(VECTOR_WEIGHT, found), (1 - VECTOR_WEIGHT, lexical)])

            fused = await timed(results, "fusion", fuse)
            await timed(results, "ready_chunks (all fused)", lambda f=fused: store.ready_chunks(session, [i for i, _ in f]))  # fmt: skip
    return {
        name: {"cpu_ms_p50": round(statistics.median(c for c, _ in values), 2),
               "wall_ms_p50": round(statistics.median(w for _, w in values), 2)}
        for name, values in results.items()
    }  # fmt: skip


async def requests(app: Any, key: str, kb_id: str, questions: list[str], top_k: int,
                   limit: int) -> tuple[str, float, float]:  # fmt: skip
    import httpx

    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers=headers) as client:

        async def ask(question: str) -> None:
            body = {"query": question, "kb_ids": [kb_id], "top_k": top_k}
            response = await client.post("/api/knowledge/search", json=body)
            response.raise_for_status()

        for question in questions[:5]:
            await ask(question)
        cpu = time.process_time()
        for question in questions:
            await ask(question)
        plain_ms = (time.process_time() - cpu) * 1000 / len(questions)
        profile = cProfile.Profile()
        cpu = time.process_time()
        profile.enable()
        for question in questions:
            await ask(question)
        profile.disable()
        cpu_ms = (time.process_time() - cpu) * 1000 / len(questions)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue(), plain_ms, cpu_ms


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("data", type=Path)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--limit", type=int, default=25)
    args = parser.parse_args()
    sys.path[:0] = [str(args.root / "src-python" / "tests"), str(args.root / "src-python")]
    import retrieval_sets

    from sage_sidecar.app import create_app
    from sage_sidecar.core.config import Settings

    import knowledge_eval

    questions = [q["question"] for q in knowledge_eval.load_questions()]
    questions += [q["question"] for q in retrieval_sets.load_questions("manpages")]
    key = secrets.token_hex(32)
    app = create_app(Settings(api_key=key, data_dir=args.data / "data"))  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        from sage_sidecar.storage.models import KnowledgeBase

        async with app.state.sage.db.session() as session:
            from sqlalchemy import select

            kb_id = await session.scalar(
                select(KnowledgeBase.id).where(KnowledgeBase.name == KB_NAME)
            )
        print("phases (median per query, ms):")
        for name, figures in (await phases(app, kb_id, questions, args.top_k)).items():
            print(f"  {name:28} cpu {figures['cpu_ms_p50']:7.2f}   wall {figures['wall_ms_p50']:7.2f}")  # fmt: skip
        report, plain_ms, cpu_ms = await requests(
            app, key, kb_id, questions, args.top_k, args.limit
        )
        print(
            f"\nwhole requests, CPU per query of this process (client included, embedder's "
            f"process not): {plain_ms:.1f} ms, {cpu_ms:.1f} ms under cProfile"
        )
        print(report)


if __name__ == "__main__":
    asyncio.run(main())
