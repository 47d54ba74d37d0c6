"""The shell <-> sidecar contract, defined once on the Python side.

The Rust twin lives in `src-tauri/src/sidecar/contract.rs`; `docs/architecture.md` documents both.
"""

import json
from typing import Any

# Environment variables the shell sets for the sidecar.
ENV_API_KEY = "SAGE_API_KEY"
ENV_DATA_DIR = "SAGE_DATA_DIR"
ENV_PARENT_PID = "SAGE_PARENT_PID"

# The single line printed on stdout once the server accepts connections.
READY_PREFIX = "SAGE_SIDECAR_READY"

# The single line printed on stdout instead, when the sidecar refuses to start for a reason the
# user must see (e.g. a database written by a newer app): {"code", "detail", "params"}, like an
# HTTP error body, so the UI translates it. The process then exits with EXIT_STARTUP_FAILED.
FAILED_PREFIX = "SAGE_SIDECAR_FAILED"
EXIT_STARTUP_FAILED = 3

# The minimum key length we accept: the shell sends 32 random bytes hex-encoded (64 chars).
MIN_API_KEY_LENGTH = 32


def ready_line(port: int, pid: int, version: str) -> str:
    payload = json.dumps({"port": port, "pid": pid, "version": version}, separators=(",", ":"))
    return f"{READY_PREFIX} {payload}"


def failed_line(code: str, detail: str, params: dict[str, Any]) -> str:
    payload = json.dumps({"code": code, "detail": detail, "params": params}, separators=(",", ":"))
    return f"{FAILED_PREFIX} {payload}"
