"""bench/encryption: what the encrypted database (SQLCipher) costs, plain vs encrypted in one run.

Two sidecars from the same code, each on its own data dir with the same content: one plain, one
whose database was encrypted through the API (PUT /api/privacy/database, then a restart, as a
user does it; the key in a tests-only keychain file). Requests alternate between them one by one
(ingest rounds in both orders) so drift on a shared machine hits both alike. Measured:

- chat: one short reply from the scripted provider over /ws/chat, send to message.completed
  (the reply's database writes: the user message, the reply row, its completion);
- search: GET /api/conversations/search over 2,000 imported messages (FTS5 trigram + titles);
- ingest: text files uploaded to a knowledge base until every file is ready (parse, chunk,
  embed with the offline model, write chunks + FTS rows), as KB/s of source text.

Usage: run.py ROOT OUT_JSON   (bench/encryption/run.sh runs it with the project venv)
"""

import asyncio
import json
import os
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

CHAT_RUNS = 80
SEARCH_RUNS = 120
SEARCH_QUERIES = (
    "garden",
    "encryption keys",
    "quarterly report",
    "zebra",
    "tomato plants",
)
CONVERSATIONS, TURNS = 200, 10  # 2,000 imported messages
INGEST_FILES, INGEST_ROUNDS = 4, 6
# fmt: off
WORDS = [
    "garden", "tomato", "plants", "water", "sun", "report", "quarterly", "numbers", "budget",
    "team", "meeting", "travel", "train", "ticket", "encryption", "keys", "laptop", "backup",
    "music", "guitar", "lesson", "recipe", "bread", "flour", "oven", "weather", "rain",
    "holiday", "beach", "book", "chapter",
]
# fmt: on


def start(cmd: list[str], env: dict[str, str], prefix: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return proc, line[len(prefix) :].strip()
    raise RuntimeError(f"{cmd[1:]} did not start (exit {proc.wait()})")


def cpu_s(pid: int) -> float:
    """CPU seconds the process and its waited-for children have used (Linux /proc): the figure a
    loaded machine does not distort the way it does wall-clock time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def sentence(seed: int, length: int = 14) -> str:
    """Words drawn from WORDS and numbered, so every seed gives its own text (an identical file
    would be recognised as a duplicate and not ingested again)."""
    pick = random.Random(seed)
    return " ".join(pick.choice(WORDS) for _ in range(length)) + f" (note {seed})"


def history() -> bytes:
    """A ChatGPT-format export: CONVERSATIONS conversations of TURNS messages each."""
    conversations = []
    for c in range(CONVERSATIONS):
        mapping: dict[str, dict] = {"root": {"id": "root", "parent": None, "children": ["m0"],
                                             "message": None}}  # fmt: skip
        for t in range(TURNS):
            node = f"m{t}"
            mapping[node] = {
                "id": node,
                "parent": "root" if t == 0 else f"m{t - 1}",
                "children": [f"m{t + 1}"] if t + 1 < TURNS else [],
                "message": {
                    "id": node,
                    "author": {"role": "user" if t % 2 == 0 else "assistant"},
                    "create_time": 1_700_000_000.0 + c * 100 + t,
                    "content": {
                        "content_type": "text",
                        "parts": [sentence(c * TURNS + t, 40)],
                    },
                    "status": "finished_successfully",
                },
            }
        conversations.append({"title": f"Chat {c} about {WORDS[c % len(WORDS)]}",
                              "create_time": 1_700_000_000.0 + c * 100, "id": f"conv-{c}",
                              "current_node": f"m{TURNS - 1}", "mapping": mapping})  # fmt: skip
    return json.dumps(conversations).encode()


class Sidecar:
    def __init__(self, python: str, env: dict[str, str], data: Path, keychain: Path) -> None:
        self.python, self.data, self.key = python, data, secrets.token_hex(32)
        self.env = {**env, "SAGE_API_KEY": self.key, "SAGE_DATA_DIR": str(data),
                    "SAGE_AUTO_TITLE": "0", "SAGE_TEST_KEYCHAIN_FILE": str(keychain)}  # fmt: skip
        self.proc: subprocess.Popen | None = None
        self.base = ""

    def start(self) -> None:
        self.proc, ready = start(
            [self.python, "-m", "sage_sidecar"], self.env, "SAGE_SIDECAR_READY "
        )
        self.base = f"http://127.0.0.1:{json.loads(ready)['port']}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(15)
            self.proc = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def call(self, method: str, path: str, headers: dict | None = None, **kwargs) -> httpx.Response:
        response = httpx.request(method, self.base + path, headers=headers or self.headers,
                                 timeout=120, **kwargs)  # fmt: skip
        response.raise_for_status()
        return response


def prepare(side: Sidecar, provider_port: str, encrypted: bool) -> str:
    side.start()
    side.call("POST", "/api/conversations/import/history", content=history(),
              headers={**side.headers, "content-type": "application/octet-stream"})  # fmt: skip
    provider = side.call("POST", "/api/providers", json={
        "name": "bench", "kind": "openai", "api_key": "sk-bench-0123456789abcdef",
        "base_url": f"http://127.0.0.1:{provider_port}/v1", "default_model": "scripted-1"}).json()  # fmt: skip
    agents = side.call("GET", "/api/agents").json()
    default = next(a for a in agents if a["is_default"])
    side.call("PATCH", f"/api/agents/{default['id']}",
              json={"tools": [], "provider_id": provider["id"]})  # fmt: skip
    kb = side.call("POST", "/api/knowledge/bases", json={"name": "bench"}).json()["id"]
    if encrypted:
        side.call("PUT", "/api/privacy/database", json={"encrypted": True})
    side.stop()
    if not encrypted:
        # The conversion writes a fresh, compact file; give the plain one the same layout, so the
        # comparison is of encryption, not of fragmentation or a long write-ahead log.
        with sqlite3.connect(side.data / "agent_platform.db") as conn:
            conn.execute("VACUUM")
        conn.close()
    side.start()  # the conversion runs at this start; both sidecars start afresh
    assert side.call("GET", "/api/privacy/database").json()["encrypted"] is encrypted
    return kb


async def chat_ms(sides: dict[str, "Sidecar"], provider: str, runs: int) -> dict[str, list[float]]:
    """One short reply at a time, alternating between the sidecars (both orders)."""
    out: dict[str, list[float]] = {name: [] for name in sides}
    async with httpx.AsyncClient() as http:
        sockets = {}
        for name, side in sides.items():
            ws = await connect(side.base.replace("http", "ws") + "/ws/chat", max_size=None)
            await ws.send(json.dumps({"type": "auth", "apiKey": side.key}))
            assert json.loads(await ws.recv())["type"] == "auth.ok"
            sockets[name] = ws
        names = list(sides)
        for i in range(runs):
            for name in names if i % 2 == 0 else names[::-1]:
                await http.post(f"{provider}/__script", json=[{"text": "A short answer."}])
                started = time.perf_counter()
                await sockets[name].send(json.dumps({"type": "chat.send", "content": "hello"}))
                while True:
                    frame = json.loads(await sockets[name].recv())
                    if frame["type"] in (
                        "message.completed",
                        "message.failed",
                        "error",
                    ):
                        assert frame["type"] == "message.completed", frame
                        break
                out[name].append((time.perf_counter() - started) * 1000)
        for ws in sockets.values():
            await ws.close()
    return out


def search_ms(sides: dict[str, "Sidecar"], runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in sides}
    clients = {name: httpx.Client(headers=side.headers, timeout=60) for name, side in sides.items()}
    names = list(sides)
    try:
        for i in range(runs):
            query = SEARCH_QUERIES[i % len(SEARCH_QUERIES)]
            for name in names if i % 2 == 0 else names[::-1]:
                started = time.perf_counter()
                response = clients[name].get(
                    sides[name].base + "/api/conversations/search", params={"q": query}
                )
                out[name].append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
    finally:
        for client in clients.values():
            client.close()
    return out


def ingest_kb_s(side: Sidecar, kb: str, round_: int) -> float:
    files = [(f"doc-{round_}-{i}.txt", ("\n\n".join(sentence(round_ * 1000 + i * 50 + p, 60)
                                                     for p in range(40))).encode())
             for i in range(INGEST_FILES)]  # fmt: skip
    size = sum(len(body) for _, body in files)
    started = time.perf_counter()
    parts = [("files", (name, body, "text/plain")) for name, body in files]
    side.call("POST", f"/api/knowledge/bases/{kb}/files", files=parts)
    names = {name for name, _ in files}
    deadline = time.monotonic() + 600
    mine: list[dict] = []
    while time.monotonic() < deadline:
        listed = side.call("GET", f"/api/knowledge/bases/{kb}/files").json()
        mine = [f for f in listed if f["name"] in names]
        if len(mine) == len(names) and all(f["status"] in ("ready", "failed") for f in mine):
            assert all(f["status"] == "ready" for f in mine), mine
            return size / 1e3 / (time.perf_counter() - started)
        time.sleep(0.05)
    raise RuntimeError(f"not indexed in time: {mine}")


def summary(plain: list[float], encrypted: list[float], unit: str, lower_is_better: bool) -> dict:
    p, e = statistics.median(plain), statistics.median(encrypted)
    ratio = e / p
    return {f"plain_median_{unit}": round(p, 3), f"encrypted_median_{unit}": round(e, 3),
            "ratio_encrypted_to_plain": round(ratio, 3),
            "overhead": round(ratio - 1 if lower_is_better else 1 - ratio, 3),
            "samples": len(plain)}  # fmt: skip


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    python = str(root / ".venv/bin/python")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    env["PYTHONPATH"] = str(root / "src-python")
    provider_proc = None
    sides: dict[str, Sidecar] = {}
    with tempfile.TemporaryDirectory(prefix="sage-bench-encryption-") as tmp:
        try:
            provider_proc, provider_port = start(
                [python, "-m", "sage_sidecar.demo.scripted"], env, "SCRIPTED_READY "
            )
            provider = f"http://127.0.0.1:{provider_port}"
            kbs = {}
            for name in ("plain", "encrypted"):
                data = Path(tmp) / name
                sides[name] = Sidecar(python, env, data, Path(tmp) / f"{name}-keychain.json")
                kbs[name] = prepare(sides[name], provider_port, encrypted=name == "encrypted")
            ingest: dict[str, list[float]] = {"plain": [], "encrypted": []}
            # Warm-up: connections, caches, the embedder's load.
            asyncio.run(chat_ms(sides, provider, 3))
            search_ms(sides, 5)
            for name, side in sides.items():
                ingest_kb_s(side, kbs[name], 99)
            cpu: dict[str, dict[str, float]] = {name: {} for name in sides}

            def used(phase: str, run) -> object:
                before = {n: cpu_s(side.pid) for n, side in sides.items()}
                result = run()
                time.sleep(0.5)  # work a reply leaves behind (its trace, its title) counts too
                for n, side in sides.items():
                    cpu[n][phase] = cpu_s(side.pid) - before[n]
                return result

            chat = used("chat", lambda: asyncio.run(chat_ms(sides, provider, CHAT_RUNS)))
            search = used("search", lambda: search_ms(sides, SEARCH_RUNS))

            def ingest_all() -> None:
                for round_ in range(INGEST_ROUNDS):
                    order = ["plain", "encrypted"] if round_ % 2 == 0 else ["encrypted", "plain"]
                    for name in order:
                        ingest[name].append(ingest_kb_s(sides[name], kbs[name], round_))

            used("ingest", ingest_all)
            load = os.getloadavg()[0]
        finally:
            for side in sides.values():
                side.stop()
            if provider_proc is not None:
                provider_proc.terminate()
                provider_proc.wait(10)
    per_op = {"chat": CHAT_RUNS, "search": SEARCH_RUNS}
    cpu_ms = {
        phase: {
            f"{name}_ms_per_op": round(cpu[name][phase] * 1000 / per_op[phase], 2) for name in sides
        }
        for phase in per_op
    }
    cpu_ms["ingest"] = {f"{name}_cpu_s": round(cpu[name]["ingest"], 1) for name in sides}
    for values in cpu_ms.values():
        plain, enc = values.values()
        values["ratio_encrypted_to_plain"] = round(enc / plain, 3) if plain else None
    result = {
        "sidecar_cpu": cpu_ms,
        "chat_reply_ms": summary(chat["plain"], chat["encrypted"], "ms", True),
        "search_ms": summary(search["plain"], search["encrypted"], "ms", True),
        "ingest_kb_per_s": summary(ingest["plain"], ingest["encrypted"], "kb_s", False),
        "setup": {
            "messages": CONVERSATIONS * TURNS,
            "ingest_files_per_round": INGEST_FILES,
            "sqlcipher": "4 (sqlcipher3 wheel), raw 256-bit key, default page and KDF settings",
            "cpus": os.cpu_count(),
            "load_average_at_end": round(load, 1),
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for phase, values in cpu_ms.items():
        print(f"cpu {phase:12} {values}")
    for metric in ("chat_reply_ms", "search_ms", "ingest_kb_per_s"):
        r = result[metric]
        values = [v for k, v in r.items() if k.endswith(("_ms", "_kb_s"))]
        print(
            f"{metric:16} plain {values[0]:8.2f}  encrypted {values[1]:8.2f}  "
            f"ratio {r['ratio_encrypted_to_plain']:.3f}  overhead {r['overhead']:+.1%}"
        )


if __name__ == "__main__":
    main()
