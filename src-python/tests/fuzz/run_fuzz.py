"""Property-based fuzzing of the HTTP API against a real sidecar process (scripts/test.sh's `fuzz`
layer; docs/testing.md).

Schemathesis generates requests from the sidecar's own OpenAPI schema (valid ones and invalid ones)
with a fixed seed, sends them with the API key to a sidecar started on a throwaway data dir, and
fails on any server error (5xx), any status code the schema does not declare for the route, and any
response body that does not match its declared schema (success and error bodies alike).

    python tests/fuzz/run_fuzz.py [--max-examples N] [--seed N] [--report-dir DIR]

The sidecar cannot reach the internet from here: its proxy is a closed loopback port, so a provider
or MCP URL the fuzzer makes up fails at once (the 502 the schema declares) instead of calling out.
"""

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from sidecar_process import api_call, read_ready, sidecar_command, sidecar_env  # noqa: E402

CONFIG = Path(__file__).with_name("schemathesis.toml")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
CLOSED_PORT_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, a connect fails fast
# Left out: an MCP server's tool list starts the server's command, and a fuzz run must not start
# processes from generated input. Creating, changing and deleting MCP servers is fuzzed.
# Routes that reach out to an address the fuzzer chose (a check, a test search) can wait out a
# DNS lookup past the per-request timeout: tested against loopback servers in their own tests.
EXCLUDED_PATHS = (
    "/api/mcp-servers/{server_id}/tools",
    "/api/network/check",
    "/api/web-search/test",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-examples", type=int, default=40, help="cases per operation and phase"
    )
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--report-dir", type=Path, default=None)
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    args = parser.parse_args()

    st = Path(sys.executable).with_name("st")
    if not st.exists():
        print("schemathesis is missing: scripts/lib.sh's ensure_venv installs it", file=sys.stderr)
        return 2
    data = Path(tempfile.mkdtemp(prefix="sage-fuzz-"))
    # SAGE_PARENT_PID: the sidecar exits on its own if this script dies without stopping it (it
    # also watches its stdin, as under the shell: closing it is how it is asked to stop).
    env = sidecar_env(data / "data", HTTP_PROXY=CLOSED_PORT_PROXY, HTTPS_PROXY=CLOSED_PORT_PROXY,
                      ALL_PROXY=CLOSED_PORT_PROXY, NO_PROXY="", SAGE_AUTO_TITLE="false",
                      SAGE_PARENT_PID=str(os.getpid()))  # fmt: skip
    key = env["SAGE_API_KEY"]
    # The layer's time limit ends us with SIGTERM: unwind through `finally`, which stops the sidecar.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    status = 1
    started = time.monotonic()
    # Its own session, so the sidecar and anything it starts end together below.
    with open(data / "sidecar.log", "wb") as log_file:
        sidecar = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=log_file, text=True,
                                   start_new_session=True)  # fmt: skip
    try:
        ready = read_ready(sidecar, timeout=60)
        base = f"http://127.0.0.1:{ready.port}"
        config = data / "schemathesis.toml"
        config.write_text(CONFIG.read_text() + _seeded(ready.port, key, data))
        command = [
            str(st), "--config-file", str(config), "run", f"{base}/api/openapi.json",
            "--checks", CHECKS,
            "--phases", args.phases,
            "--max-examples", str(args.max_examples),
            "--seed", str(args.seed),
            "--workers", args.workers,
            "--suppress-health-check", "all",
            "--no-color",
        ]  # fmt: skip
        for path in EXCLUDED_PATHS:
            command += ["--exclude-path", path]
        if args.report_dir:
            args.report_dir.mkdir(parents=True, exist_ok=True)
            # JUnit names each failure; the full NDJSON log (10-20 MB) is left out.
            junit = args.report_dir / "junit.xml"
            command += ["--report", "junit", "--report-junit-path", str(junit)]
        # Run from the scratch dir: schemathesis writes its files to the working directory.
        st_env = {**os.environ, "NO_COLOR": "1", "SAGE_FUZZ_API_KEY": key}
        status = subprocess.run(command, env=st_env, cwd=data).returncode
    finally:
        _stop(sidecar)
        log = (data / "sidecar.log").read_text(errors="replace")
        if "Traceback" in log:
            print("--- sidecar.log tracebacks ---", file=sys.stderr)
            print(log[-20000:], file=sys.stderr)
        if args.report_dir:
            shutil.copy(data / "sidecar.log", args.report_dir / "sidecar.log")
        shutil.rmtree(data, ignore_errors=True)
    print(f"fuzz: {time.monotonic() - started:.0f} s, schemathesis exit {status}")
    return status


def _seeded(port: int, key: str, data: Path) -> str:
    """A knowledge base with one ingested file, whose ids the knowledge routes get most of the
    time (a made-up id only reaches their 404): config that binds them, for schemathesis.toml."""
    kb = api_call(port, key, "POST", "/api/knowledge/bases", {"name": "Fuzz"})["id"]
    note = data / "note.txt"
    note.write_text("Sage keeps every conversation on this computer.\n" * 20)
    path = f"/api/knowledge/bases/{kb}/files"
    file = api_call(port, key, "POST", f"{path}/paths", {"paths": [str(note)]})[0]["id"]
    deadline = time.monotonic() + 120
    while api_call(port, key, "GET", f"{path}/{file}")["status"] != "ready":
        if time.monotonic() > deadline:
            raise RuntimeError("the seeded file was not ingested in 120 s")
        time.sleep(0.2)
    query = {"query": "conversation", "kb_ids": [kb], "mode": "bm25"}
    chunk = api_call(port, key, "POST", "/api/knowledge/search", query)["hits"][0]["chunk_id"]
    bindings = {"path.kb_id": "kb_id", "path.file_id": "file_id", "path.chunk_id": "chunk_id",
                "body.kb_ids[*]": "kb_id", "body.file_ids[*]": "file_id", "body.paths[*]": "path"}  # fmt: skip
    bound = ", ".join(
        f'"{key}" = {{ dictionary = "{name}", probability = 0.8 }}'
        for key, name in bindings.items()
    )
    # Not for DELETE: deleting the seeded base early would leave the other routes its 404 only.
    return f"""
[dictionaries]
kb_id = {{ values = ["{kb}"] }}
file_id = {{ values = ["{file}"] }}
chunk_id = {{ values = [{chunk}] }}
path = {{ values = ["{note}"] }}

[[operations]]
exclude-method = "DELETE"
parameters = {{ {bound} }}
"""


def _stop(process: subprocess.Popen[str]) -> None:
    """Close its stdin (the shell's way to ask it to stop), then SIGTERM and SIGKILL to its whole
    process group, 10 s apart; then SIGKILL to anything it started that outlived it."""
    assert process.stdin is not None
    process.stdin.close()
    for stop in (None, signal.SIGTERM, signal.SIGKILL):
        if stop is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, stop)
        try:
            process.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
