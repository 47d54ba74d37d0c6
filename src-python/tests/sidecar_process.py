"""Helpers that run the real sidecar as a child process, the way the shell does."""

import http.client
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sage_sidecar.core.contract import READY_PREFIX

SRC_PYTHON = Path(__file__).resolve().parents[1]
# The frozen build scripts/build-sidecar.sh makes (tests that need it skip without it).
FROZEN = SRC_PYTHON / "dist" / "sage-sidecar" / "sage-sidecar"


def sidecar_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    env.update({"SAGE_API_KEY": secrets.token_hex(32), "SAGE_DATA_DIR": str(data_dir)})
    env["PYTHONPATH"] = str(SRC_PYTHON)
    # Keychain secrets in a file beside the data dir (tests only; "" means the real keychain).
    env["SAGE_TEST_KEYCHAIN_FILE"] = str(data_dir.parent / "test-keychain.json")
    env.update(extra)
    if not env["SAGE_TEST_KEYCHAIN_FILE"]:
        del env["SAGE_TEST_KEYCHAIN_FILE"]
    return env


def sidecar_command() -> list[str]:
    return [sys.executable, "-m", "sage_sidecar"]


@dataclass
class Ready:
    port: int
    pid: int
    version: str
    lines_before: list[str]


def read_ready(proc: subprocess.Popen, timeout: float = 15.0) -> Ready:
    """Read stdout until the READY line; every earlier line is returned to assert it is empty."""
    deadline = time.monotonic() + timeout
    before: list[str] = []
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"sidecar exited before READY (rc={proc.wait()})")
        if line.startswith(READY_PREFIX + " "):
            info = json.loads(line[len(READY_PREFIX) + 1 :])
            return Ready(info["port"], info["pid"], info["version"], before)
        before.append(line)
    raise AssertionError("no READY line before the timeout")


def api_call(
    port: int, key: str, method: str, path: str, body: dict | None = None, *, timeout: float = 30
):
    """One keyed JSON request to a sidecar process; a non-2xx answer fails the test."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
    response = conn.getresponse()
    data = json.loads(response.read() or "null")
    assert response.status < 300, (response.status, data)
    return data


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)
