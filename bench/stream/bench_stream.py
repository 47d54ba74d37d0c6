"""bench/stream: what the sidecar adds between a provider and the UI.

Provider = the scripted OpenAI-compatible server (its own process), stamping every chunk with the
CLOCK_MONOTONIC time it sent it. Baseline = this client reading the provider directly over SSE;
measured = the same client reading the same stream through the sidecar's `/ws/chat`. Both in the
same run. Prints figures and writes JSON. Usage: bench_stream.py ROOT OUT_JSON
"""

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

LATENCY_CHUNKS, LATENCY_PACE_MS = 2000, 1
THROUGHPUT_CHUNKS = 20_000
CONCURRENT, CONCURRENT_CHUNKS = 50, 1000
TTFT_RUNS = 20
TARGETS = {"p99_added_ms": 2.0, "chunks_per_s": 5000, "ttft_added_ms": 20.0, "idle_rss_mb": 150}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start(cmd: list[str], env: dict[str, str], prefix: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    for line in proc.stdout:
        if line.startswith(prefix):
            return proc, line[len(prefix) :].strip()
    raise RuntimeError(f"{cmd[0]} did not start")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Bench:
    def __init__(self, provider_port: int, sidecar_port: int, key: str) -> None:
        self.provider = f"http://127.0.0.1:{provider_port}"
        self.sidecar = sidecar_port
        self.key = key

    async def script(self, http: httpx.AsyncClient, turns: list[dict]) -> None:
        (await http.post(f"{self.provider}/__script", json=turns)).raise_for_status()

    async def direct(self, http: httpx.AsyncClient) -> tuple[float, list[tuple[int, int]]]:
        """(ttft_ms, [(sent_ns, received_ns)]) reading the provider's SSE directly."""
        body = {
            "model": "scripted-1",
            "stream": True,
            "messages": [{"role": "user", "content": "go"}],
        }
        stamps: list[tuple[int, int]] = []
        started = time.monotonic_ns()
        ttft = 0.0
        async with http.stream(
            "POST", f"{self.provider}/v1/chat/completions", json=body
        ) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                now = time.monotonic_ns()
                for choice in json.loads(line[6:]).get("choices", []):
                    text = choice.get("delta", {}).get("content")
                    if text:
                        ttft = ttft or (now - started) / 1e6
                        stamps.extend((int(t), now) for t in text.split())
        return ttft, stamps

    async def via_sidecar(
        self, ws, count: int = 1
    ) -> list[tuple[float, list[tuple[int, int]], str]]:
        """Start `count` replies on one connection; per reply (ttft_ms, stamps, final status)."""
        started = time.monotonic_ns()
        for _ in range(count):
            await ws.send(json.dumps({"type": "chat.send", "content": "go"}))
        replies: dict[str, list] = {}
        finished = 0
        while finished < count:
            frame = json.loads(await ws.recv())
            now = time.monotonic_ns()
            kind = frame["type"]
            if kind == "chat.accepted":
                replies.setdefault(frame["messageId"], [0.0, [], ""])
            elif kind == "message.delta":
                reply = replies.setdefault(frame["messageId"], [0.0, [], ""])
                reply[0] = reply[0] or (now - started) / 1e6
                reply[1].extend((int(t), now) for t in frame["delta"].split())
            elif kind in ("message.completed", "message.failed"):
                replies[frame["messageId"]][2] = frame.get("status", kind)
                finished += 1
            elif kind == "error":
                raise RuntimeError(frame["error"])
        return [tuple(r) for r in replies.values()]  # type: ignore[misc]


def latencies_ms(stamps: list[tuple[int, int]]) -> list[float]:
    return [(received - sent) / 1e6 for sent, received in stamps]


def rate(stamps: list[tuple[int, int]]) -> float:
    span = (stamps[-1][1] - stamps[0][1]) / 1e9
    return len(stamps) / span if span > 0 else float("inf")


async def run(bench: Bench, sidecar_pid: int) -> dict:
    result: dict = {"idle_rss_mb": round(rss_mb(sidecar_pid), 1)}
    async with (
        httpx.AsyncClient(timeout=60) as http,
        connect(f"ws://127.0.0.1:{bench.sidecar}/ws/chat", max_size=None) as ws,
    ):
        await ws.send(json.dumps({"type": "auth", "apiKey": bench.key}))
        assert json.loads(await ws.recv())["type"] == "auth.ok"
        paced = {"stamped_chunks": LATENCY_CHUNKS, "delay_ms": LATENCY_PACE_MS}

        await bench.script(http, [paced])
        _, direct = await bench.direct(http)
        await bench.script(http, [paced])
        [(_, through, _)] = await bench.via_sidecar(ws)
        d, s = latencies_ms(direct), latencies_ms(through)
        result["latency_per_chunk_ms"] = {
            "direct_p50": round(pct(d, 0.5), 3), "direct_p99": round(pct(d, 0.99), 3),
            "sidecar_p50": round(pct(s, 0.5), 3), "sidecar_p99": round(pct(s, 0.99), 3),
            "added_p50": round(pct(s, 0.5) - pct(d, 0.5), 3),
            "added_p99": round(pct(s, 0.99) - pct(d, 0.99), 3),
            "chunks": LATENCY_CHUNKS, "pace_ms": LATENCY_PACE_MS,
        }  # fmt: skip

        await bench.script(http, [{"stamped_chunks": THROUGHPUT_CHUNKS}])
        _, direct = await bench.direct(http)
        await bench.script(http, [{"stamped_chunks": THROUGHPUT_CHUNKS}])
        [(_, through, _)] = await bench.via_sidecar(ws)
        result["one_stream_chunks_per_s"] = {
            "direct": round(rate(direct)), "sidecar": round(rate(through)),
            "ratio_sidecar_to_direct": round(rate(through) / rate(direct), 3),
            "chunks_received": len(through), "chunks_sent": THROUGHPUT_CHUNKS,
        }  # fmt: skip

        many = [{"stamped_chunks": CONCURRENT_CHUNKS, "delay_ms": LATENCY_PACE_MS}] * CONCURRENT
        await bench.script(http, many)
        direct_runs = await asyncio.gather(*(bench.direct(http) for _ in range(CONCURRENT)))
        await bench.script(http, many)
        started = time.monotonic()
        replies = await bench.via_sidecar(ws, CONCURRENT)
        elapsed = time.monotonic() - started
        all_direct = [x for _, stamps in direct_runs for x in latencies_ms(stamps)]
        all_through = [x for _, stamps, _ in replies for x in latencies_ms(stamps)]
        result["concurrent_streams"] = {
            "streams": CONCURRENT, "chunks_each": CONCURRENT_CHUNKS,
            "completed": sum(1 for *_, status in replies if status == "completed"),
            "short_streams": sum(1 for _, stamps, _ in replies if len(stamps) != CONCURRENT_CHUNKS),
            "aggregate_chunks_per_s": round(sum(len(s) for _, s, _ in replies) / elapsed),
            "direct_p99_ms": round(pct(all_direct, 0.99), 3), "sidecar_p99_ms": round(pct(all_through, 0.99), 3),
            "added_p99_ms": round(pct(all_through, 0.99) - pct(all_direct, 0.99), 3),
        }  # fmt: skip

        direct_ttft, sidecar_ttft = [], []
        for _ in range(TTFT_RUNS):
            await bench.script(http, [{"stamped_chunks": 1}])
            direct_ttft.append((await bench.direct(http))[0])
            await bench.script(http, [{"stamped_chunks": 1}])
            sidecar_ttft.append((await bench.via_sidecar(ws))[0][0])
        result["ttft_ms"] = {
            "direct_median": round(statistics.median(direct_ttft), 2),
            "sidecar_median": round(statistics.median(sidecar_ttft), 2),
            "added_median": round(
                statistics.median(sidecar_ttft) - statistics.median(direct_ttft), 2
            ),
            "runs": TTFT_RUNS,
        }
    result["rss_after_mb"] = round(rss_mb(sidecar_pid), 1)
    return result


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    python = str(root / ".venv/bin/python")
    frozen = root / "src-python/dist/sage-sidecar/sage-sidecar"
    sidecar_cmd = [str(frozen)] if frozen.exists() else [python, "-m", "sage_sidecar"]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    key = secrets.token_hex(32)
    with tempfile.TemporaryDirectory() as data:
        provider, provider_port = start(
            [python, "-m", "sage_sidecar.demo.scripted"], base_env, "SCRIPTED_READY "
        )
        sidecar, ready = start(
            sidecar_cmd,
            {**base_env, "SAGE_API_KEY": key, "SAGE_DATA_DIR": data, "SAGE_AUTO_TITLE": "0"},
            "SAGE_SIDECAR_READY ",
        )
        try:
            port = json.loads(ready)["port"]
            time.sleep(2)  # settle before the idle RSS reading
            headers = {"Authorization": f"Bearer {key}"}
            body = {"name": "bench", "kind": "openai", "base_url": f"http://127.0.0.1:{provider_port}/v1",
                    "default_model": "scripted-1"}  # fmt: skip
            httpx.post(
                f"http://127.0.0.1:{port}/api/providers", json=body, headers=headers
            ).raise_for_status()
            agents = httpx.get(f"http://127.0.0.1:{port}/api/agents", headers=headers).json()
            default = next(a for a in agents if a["is_default"])
            # No tools: the benchmark measures relaying, not tool schemas in the request.
            httpx.patch(
                f"http://127.0.0.1:{port}/api/agents/{default['id']}",
                json={"tools": []},
                headers=headers,
            )
            result = asyncio.run(run(Bench(int(provider_port), port, key), sidecar.pid))
        finally:
            sidecar.terminate()
            provider.terminate()
            sidecar.wait(10)
            provider.wait(10)
    result["sidecar"] = "frozen" if frozen.exists() else "venv"
    result["targets"] = TARGETS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    lat, one, many, ttft = (result["latency_per_chunk_ms"], result["one_stream_chunks_per_s"],
                            result["concurrent_streams"], result["ttft_ms"])  # fmt: skip
    print(
        f"per-chunk latency added: p50 {lat['added_p50']:.3f} ms, p99 {lat['added_p99']:.3f} ms "
        f"(direct p99 {lat['direct_p99']:.3f}, via sidecar {lat['sidecar_p99']:.3f}; target ≤ {TARGETS['p99_added_ms']} ms)"
    )
    print(
        f"one stream: {one['sidecar']} chunks/s via sidecar vs {one['direct']} direct "
        f"(×{one['ratio_sidecar_to_direct']}; target ≥ {TARGETS['chunks_per_s']})"
    )
    print(
        f"{many['streams']} concurrent streams: {many['completed']} completed, {many['short_streams']} short, "
        f"{many['aggregate_chunks_per_s']} chunks/s, p99 added {many['added_p99_ms']:.3f} ms"
    )
    print(
        f"TTFT added: {ttft['added_median']:.2f} ms (direct {ttft['direct_median']}, via sidecar "
        f"{ttft['sidecar_median']}; target ≤ {TARGETS['ttft_added_ms']} ms)"
    )
    print(
        f"sidecar RSS: idle {result['idle_rss_mb']} MB, after the runs {result['rss_after_mb']} MB "
        f"(target idle ≤ {TARGETS['idle_rss_mb']} MB)"
    )


if __name__ == "__main__":
    main()
