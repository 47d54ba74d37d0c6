"""bench/traces: what recording traces costs the streaming relay.

Three sidecars from the same code in one run: one recording traces (the default), one with
`SAGE_TRACE_RECORDING=0`, and a second untraced one as a control, all relaying the same scripted
provider (bench/stream's client and stamped chunks). Rounds rotate through them so drift on a
shared machine hits all alike; the control's difference from the untraced one is the noise floor.
Measured: one stream's chunks/s and time to first token (wall clock), and the CPU time each
sidecar spent (utime + stime from /proc, its deferred trace writes included): per 1,000 relayed
chunks and per short reply. Wall-clock figures swing with a loaded machine (the control shows by
how much); CPU time does not, so the target (under 5 %) is judged on it, and reported for both.
Usage: bench_traces.py ROOT OUT_JSON
"""

import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stream"))
from bench_stream import Bench, rate, start  # noqa: E402

THROUGHPUT_CHUNKS, THROUGHPUT_ROUNDS = 10_000, 12
TTFT_RUNS = 60
TARGET_OVERHEAD = 0.05


def start_sidecar(python: str, env: dict[str, str], data: str, key: str, tracing: bool):
    extra = {"SAGE_API_KEY": key, "SAGE_DATA_DIR": data, "SAGE_AUTO_TITLE": "0",
             "SAGE_TRACE_RECORDING": "1" if tracing else "0"}  # fmt: skip
    proc, ready = start([python, "-m", "sage_sidecar"], {**env, **extra}, "SAGE_SIDECAR_READY ")
    return proc, json.loads(ready)["port"]


def configure(port: int, key: str, provider_port: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    base = f"http://127.0.0.1:{port}"
    body = {"name": "bench", "kind": "openai", "api_key": "sk-bench-0123456789abcdef",
            "base_url": f"http://127.0.0.1:{provider_port}/v1", "default_model": "scripted-1"}  # fmt: skip
    httpx.post(f"{base}/api/providers", json=body, headers=headers).raise_for_status()
    agents = httpx.get(f"{base}/api/agents", headers=headers).json()
    default = next(a for a in agents if a["is_default"])
    httpx.patch(f"{base}/api/agents/{default['id']}", json={"tools": []}, headers=headers)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(benches: dict[str, Bench], pids: dict[str, int]) -> dict:
    rates: dict[str, list[float]] = {name: [] for name in benches}
    ttfts: dict[str, list[float]] = {name: [] for name in benches}
    cpu = {name: {"relay": 0.0, "replies": 0.0} for name in benches}
    settle = 0.7  # the trace sink writes every 0.5 s: its work counts too
    async with httpx.AsyncClient(timeout=60) as http:
        sockets = {}
        for name, bench in benches.items():
            ws = await connect(f"ws://127.0.0.1:{bench.sidecar}/ws/chat", max_size=None)
            await ws.send(json.dumps({"type": "auth", "apiKey": bench.key}))
            assert json.loads(await ws.recv())["type"] == "auth.ok"
            sockets[name] = ws
        names = list(benches)

        def order(i: int) -> list[str]:  # every position in turn, both directions
            turned = names[i % len(names) :] + names[: i % len(names)]
            return turned if i % 2 == 0 else turned[::-1]

        for round_ in range(THROUGHPUT_ROUNDS):
            for name in order(round_):
                bench = benches[name]
                await bench.script(http, [{"stamped_chunks": THROUGHPUT_CHUNKS}])
                before = cpu_s(pids[name])
                [(_, stamps, status)] = await bench.via_sidecar(sockets[name])
                await asyncio.sleep(settle)
                cpu[name]["relay"] += cpu_s(pids[name]) - before
                assert status == "completed" and len(stamps) == THROUGHPUT_CHUNKS, status
                rates[name].append(rate(stamps))
        before = {name: cpu_s(pids[name]) for name in names}
        for run in range(TTFT_RUNS):
            for name in order(run):
                bench = benches[name]
                await bench.script(http, [{"stamped_chunks": 1}])
                ttfts[name].append((await bench.via_sidecar(sockets[name]))[0][0])
        await asyncio.sleep(settle)
        for name in names:
            cpu[name]["replies"] = cpu_s(pids[name]) - before[name]
        for ws in sockets.values():
            await ws.close()
    return {"rates": rates, "ttfts": ttfts, "cpu": cpu}


def recorded_runs(port: int, key: str) -> int:
    """How many replies the sidecar traced (the usage API counts runs per agent and day)."""
    headers = {"Authorization": f"Bearer {key}"}
    days = httpx.get(f"http://127.0.0.1:{port}/api/usage/daily", headers=headers).json()
    return sum(day["runs"] for day in days)


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    python = str(root / ".venv/bin/python")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    key = secrets.token_hex(32)
    procs = []
    try:
        provider, provider_port = start(
            [python, "-m", "sage_sidecar.demo.scripted"], env, "SCRIPTED_READY "
        )
        procs.append(provider)
        ports, pids = {}, {}
        with tempfile.TemporaryDirectory() as dirs:
            for name, tracing in (("traced", True), ("untraced", False), ("control", False)):
                data = Path(dirs) / name
                data.mkdir()
                proc, port = start_sidecar(python, env, str(data), key, tracing)
                procs.append(proc)
                configure(port, key, int(provider_port))
                ports[name], pids[name] = port, proc.pid
            time.sleep(1)
            benches = {name: Bench(int(provider_port), port, key) for name, port in ports.items()}
            raw = asyncio.run(measure(benches, pids))
            time.sleep(1)  # the traced sidecar's last batch
            runs = {name: recorded_runs(port, key) for name, port in ports.items()}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)

    rate_med = {n: statistics.median(v) for n, v in raw["rates"].items()}
    ttft_med = {n: statistics.median(v) for n, v in raw["ttfts"].items()}
    wall_throughput_overhead = 1 - rate_med["traced"] / rate_med["untraced"]
    wall_ttft_overhead = ttft_med["traced"] / ttft_med["untraced"] - 1
    chunks = THROUGHPUT_CHUNKS * THROUGHPUT_ROUNDS
    cpu = {n: {"ms_per_1k_chunks": round(c["relay"] * 1e6 / chunks, 2),
               "ms_per_short_reply": round(c["replies"] * 1e3 / TTFT_RUNS, 2)}
           for n, c in raw["cpu"].items()}  # fmt: skip
    relay_overhead = raw["cpu"]["traced"]["relay"] / raw["cpu"]["untraced"]["relay"] - 1
    reply_overhead = raw["cpu"]["traced"]["replies"] / raw["cpu"]["untraced"]["replies"] - 1
    noise = {"throughput": round(1 - rate_med["control"] / rate_med["untraced"], 4),
             "ttft": round(ttft_med["control"] / ttft_med["untraced"] - 1, 4),
             "cpu_relay": round(raw["cpu"]["control"]["relay"] / raw["cpu"]["untraced"]["relay"] - 1, 4),
             "cpu_short_reply": round(raw["cpu"]["control"]["replies"] / raw["cpu"]["untraced"]["replies"] - 1, 4)}  # fmt: skip
    result = {
        "one_stream_chunks_per_s": {
            "traced_median": round(rate_med["traced"]), "untraced_median": round(rate_med["untraced"]),
            "ratio_traced_to_untraced": round(rate_med["traced"] / rate_med["untraced"], 4),
            "overhead": round(wall_throughput_overhead, 4),
            "rounds": THROUGHPUT_ROUNDS, "chunks": THROUGHPUT_CHUNKS,
        },
        "ttft_ms": {
            "traced_median": round(ttft_med["traced"], 2), "untraced_median": round(ttft_med["untraced"], 2),
            "added_median": round(ttft_med["traced"] - ttft_med["untraced"], 2),
            "ratio_traced_to_untraced": round(ttft_med["traced"] / ttft_med["untraced"], 4),
            "overhead": round(wall_ttft_overhead, 4), "runs": TTFT_RUNS,
        },
        "cpu": {**cpu, "relay_overhead": round(relay_overhead, 4),
                "short_reply_overhead": round(reply_overhead, 4)},
        "noise_control_vs_untraced": noise,
        "control": {"chunks_per_s_median": round(rate_med["control"]),
                    "ttft_median_ms": round(ttft_med["control"], 2)},
        "runs_recorded": runs,
        "sidecar": "venv",
        "target_overhead": TARGET_OVERHEAD,
        "within_target": relay_overhead < TARGET_OVERHEAD and reply_overhead < TARGET_OVERHEAD,
    }  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    one, ttft = result["one_stream_chunks_per_s"], result["ttft_ms"]
    print(
        f"one stream: {one['traced_median']} chunks/s traced vs {one['untraced_median']} untraced "
        f"(×{one['ratio_traced_to_untraced']}, overhead {one['overhead']:.1%}; target < {TARGET_OVERHEAD:.0%})"
    )
    print(
        f"TTFT: {ttft['traced_median']} ms traced vs {ttft['untraced_median']} ms untraced "
        f"(×{ttft['ratio_traced_to_untraced']}, overhead {ttft['overhead']:.1%}; target < {TARGET_OVERHEAD:.0%})"
    )
    print(
        f"sidecar CPU: {cpu['traced']['ms_per_1k_chunks']} ms per 1k chunks traced vs "
        f"{cpu['untraced']['ms_per_1k_chunks']} untraced (overhead {relay_overhead:.1%}); "
        f"{cpu['traced']['ms_per_short_reply']} ms per short reply vs "
        f"{cpu['untraced']['ms_per_short_reply']} (overhead {reply_overhead:.1%}; target < {TARGET_OVERHEAD:.0%})"
    )
    print(
        f"noise (an untraced control vs untraced): throughput {noise['throughput']:.1%}, "
        f"TTFT {noise['ttft']:.1%}, CPU {noise['cpu_relay']:.1%} / {noise['cpu_short_reply']:.1%}"
    )
    print(f"runs recorded: {runs['traced']} traced, {runs['untraced']} untraced (must be 0)")
    if runs["untraced"] or runs["control"] or not runs["traced"]:
        sys.exit("tracing was not switched as asked")


if __name__ == "__main__":
    main()
