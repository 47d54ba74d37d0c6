"""The data dir is its user's alone and no log ever carries a key: the real sidecar process on a
data dir an older version left world-readable, and SQL errors on rows that hold a secret."""

import http.client
import json
import os
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sage_sidecar.core.contract import FAILED_PREFIX
from sage_sidecar.storage.migrate import head_revision, upgrade_to_head

from sidecar_process import read_ready, sidecar_command, sidecar_env

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
STOP_TIMEOUT_S = 10


@contextmanager
def running_sidecar(data_dir: Path) -> Iterator[tuple[int, str, Path]]:
    """The real sidecar; yields (port, key, the file its stderr went to: what the shell logs)."""
    env = sidecar_env(data_dir)
    stderr_path = Path(tempfile.mkdtemp()) / "sidecar.stderr"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=stderr, text=True)  # fmt: skip
    try:
        ready = read_ready(proc, timeout=30)
        yield ready.port, env["SAGE_API_KEY"], stderr_path
    finally:
        proc.terminate()  # a clean shutdown (uvicorn's SIGTERM handling), logs flushed
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request(port: int, key: str, method: str, path: str, body: dict) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    return response.status, response.read().decode()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_dir_database_and_logs_are_private(tmp_path: Path):
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)  # as an older version (and the shell) left them
    data.chmod(0o755)
    upgrade_to_head(data / "agent_platform.db")
    (data / "agent_platform.db").chmod(0o644)
    (data / "logs" / "shell.log").write_text("shell\n")
    (data / "logs" / "shell.log").chmod(0o644)
    with running_sidecar(data) as (port, key, _stderr):
        status, body = request(port, key, "POST", "/api/providers",
                               {"name": "P", "kind": "openai", "base_url": "http://127.0.0.1:9",
                                "api_key": "sk-private-test-key"})  # fmt: skip
        assert status == 201, body
        status, body = request(port, key, "POST", "/api/knowledge/bases", {"name": "Docs"})
        assert status == 201, body
        found = {p: mode(p) for p in data.rglob("*")}
    assert mode(data) == 0o700
    expected = {"agent_platform.db", "agent_platform.db-wal", "agent_platform.db-shm",
                "sidecar.log", "shell.log"}  # fmt: skip
    assert expected <= {p.name for p in found}
    for path, bits in found.items():
        if path.name == ".sage-shell.lock":
            continue  # the shell's, empty
        want = 0o700 if path.is_dir() else 0o600
        assert bits & 0o077 == 0, f"{path.relative_to(data)} is {oct(bits)}, want {oct(want)}"


SECRETS = ("sk-planted-secret-on-insert-7f3a", "sk-planted-secret-on-update-91c2")


def test_a_failing_write_of_a_provider_logs_no_key(tmp_path: Path):
    """A failing INSERT and UPDATE of a provider row (a trigger refuses them) must not print the
    statement's parameters, the API key among them, in sidecar.log or on stderr (which the shell
    copies into shell.log)."""
    data = tmp_path / "data"
    data.mkdir()
    db = data / "agent_platform.db"
    upgrade_to_head(db)
    with running_sidecar(data) as (port, key, stderr):
        status, body = request(port, key, "POST", "/api/providers",
                               {"name": "Kept", "kind": "openai", "base_url": "http://127.0.0.1:9"})  # fmt: skip
        assert status == 201, body
        provider_id = json.loads(body)["id"]
        with sqlite3.connect(db) as conn:
            for verb in ("INSERT", "UPDATE"):
                conn.execute(f"CREATE TRIGGER refuse_{verb} BEFORE {verb} ON providers "
                             "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")  # fmt: skip
        answers = [
            request(port, key, "POST", "/api/providers",
                    {"name": "New", "kind": "openai", "base_url": "http://127.0.0.1:9",
                     "api_key": SECRETS[0]}),
            request(port, key, "PATCH", f"/api/providers/{provider_id}", {"api_key": SECRETS[1]}),
        ]  # fmt: skip
    for status, body in answers:
        assert status >= 400, body  # the write really failed
        assert not any(s in body for s in SECRETS), body
    logs = {p.name: p.read_text(errors="replace") for p in (data / "logs").glob("*")}
    logs["stderr"] = stderr.read_text(errors="replace")
    assert "refused by the test" in logs["sidecar.log"] + logs["stderr"]  # the error was logged
    for name, text in logs.items():
        for secret in SECRETS:
            assert secret not in text, f"{name} contains a planted API key"


def test_a_newer_database_stops_the_start_with_a_coded_failed_line(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "agent_platform.db"
    upgrade_to_head(db)
    newer = f"{int(head_revision()) + 1:04d}"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (newer,))
    for _attempt in range(2):  # the same answer every time: nothing was changed
        result = subprocess.run(sidecar_command(), env=sidecar_env(data), stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 3, result.stderr[-2000:]
        [line] = result.stdout.splitlines()  # stdout carries the one FAILED line, nothing else
        prefix, _, payload = line.partition(" ")
        assert prefix == FAILED_PREFIX
        failure = json.loads(payload)
        assert failure["code"] == "storage.newer_database"
        assert failure["params"] == {"revision": newer, "supported": head_revision()}
        assert "newer version of Sage" in failure["detail"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == newer
