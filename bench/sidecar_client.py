"""The benches' handle on a real sidecar process: start it, wait for its READY line, call its API
with the per-launch key, upload attachments, stop it. Shared by bench/retrieval/bench_http.py,
bench/ingest/bench_ingest.py and bench/hostile/bench_hostile.py (each adds bench/ to sys.path).

Plain http.client, not httpx: a bench measures the sidecar, and the client should cost as little
and vary as little as possible.
"""

from __future__ import annotations

import http.client
import json
import secrets
import subprocess
from pathlib import Path
from typing import Any

READY = "SAGE_SIDECAR_READY "


class Sidecar:
    """A sidecar started from `command` with `env` (which holds SAGE_API_KEY and SAGE_DATA_DIR)."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.key = env["SAGE_API_KEY"]
        self.proc = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(READY):
                self.port: int = json.loads(line[len(READY) :])["port"]
                break
        else:
            self.proc.wait(15)
            raise RuntimeError(f"the sidecar exited ({self.proc.returncode}) before READY")
        self._conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        """One request over the kept-alive connection; uvicorn closes a connection idle for 5 s
        (while a bench writes its corpus, say), so a refused one is opened again once."""
        headers = {"Authorization": f"Bearer {self.key}", **headers}
        try:
            self._conn.request(method, path, body=body, headers=headers)
            return self._conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            self._conn.close()
            self._conn = self._connect()
            self._conn.request(method, path, body=body, headers=headers)
            return self._conn.getresponse()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A JSON request; its JSON answer, or RuntimeError for a status of 300 or more."""
        data = json.dumps(body).encode() if body is not None else None
        response = self._send(method, path, data, {"Content-Type": "application/json"})
        payload = json.loads(response.read() or b"null")
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload}")
        return payload

    def attach(self, path: Path) -> tuple[int, Any]:
        """Uploads one file as a chat attachment: (status, JSON answer), whatever the status."""
        boundary = secrets.token_hex(8)
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n')  # fmt: skip
        body = head.encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        response = self._send("POST", "/api/attachments", body,
                              {"Content-Type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
        return response.status, json.loads(response.read() or b"null")

    def stop(self) -> None:
        self._conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
