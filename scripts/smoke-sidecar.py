#!/usr/bin/env python3
"""Smoke-test the frozen sidecar the way the shell runs it, on any OS (standard library only).

    smoke-sidecar.py [--launcher PATH] [--home DIR] [--timeout SECONDS]

1. A stand-in parent process (this interpreter) spawns the externalBin launcher
   (src-tauri/binaries/sage-sidecar-<triple>[.exe]) with the key, data dir, parent pid and
   SAGE_SIDECAR_HOME in its environment and its stdin on a pipe, as the shell does.
2. The READY line is read from its stdout; `/api/health` must answer 200 with the key and the
   Cargo.toml version, and 401 without it.
3. The keychain: on Linux, with a private D-Bus session and an unlocked GNOME Keyring (when
   installed), the frozen sidecar must find the Secret Service and encrypt its secrets with a key
   kept there (keyring's backends are loaded by entry point, so a freeze can miss them); on other
   OSes the keychain it found is printed.
4. The stand-in parent is killed hard (SIGKILL / TerminateProcess): the sidecar and the launcher
   must be gone within the timeout, as when the shell crashes.

Run by scripts/test.sh (the frozen-smoke layer) and by the macOS and Windows jobs of
.github/workflows/ci.yml after they freeze the sidecar. Exits non-zero with a reason on failure.
"""

import argparse
import contextlib
import http.client
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
READY_PREFIX = "SAGE_SIDECAR_READY "
WINDOWS = sys.platform == "win32"

# The stand-in parent: spawns the launcher with inherited stdout and a stdin pipe it never
# closes, prints the launcher's pid, then sleeps until killed.
PARENT = """
import os, subprocess, sys, time
env = dict(os.environ, SAGE_PARENT_PID=str(os.getpid()))  # the shell passes its own pid
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, env=env)
print("LAUNCHER_PID", child.pid, flush=True)
os.close(1)  # from now on only the sidecar holds the pipe: if it dies, the reader sees EOF
time.sleep(3600)
"""


def host_triple() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("host: "))


def cargo_version() -> str:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "version.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def pid_alive(pid: int) -> bool:
    if WINDOWS:
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    # A zombie (exited, not yet reaped) is gone; macOS has no /proc: ps says so.
    if stat.exists():
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return state.stdout.strip() not in ("", "Z")


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in alive if pid_alive(pid)]
    return alive


def health(port: int, key: str | None) -> tuple[int, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    conn.request("GET", "/api/health", headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    try:
        return response.status, json.loads(body or b"null")
    except ValueError:
        return response.status, body[:200]


class Lines:
    """The parent's stdout, read by a thread: a wait for a line has a deadline even when some
    stray process keeps the pipe open (a blocking readline would hang the smoke test)."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put("")

    def next(self, what: str, deadline: float) -> str:
        try:
            line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise SystemExit(f"smoke: no {what} before the time limit") from None
        if not line:
            raise SystemExit(f"smoke: the output ended before the {what}")
        return line


@contextlib.contextmanager
def private_secret_service(folder: Path) -> Iterator[dict[str, str] | None]:
    """A session bus and an unlocked GNOME Keyring of our own, or None where they are missing."""
    tools = ("dbus-daemon", "dbus-send", "gnome-keyring-daemon")
    if not sys.platform.startswith("linux") or not all(shutil.which(t) for t in tools):
        yield None
        return
    home = folder / "keyring-home"
    (home / "run").mkdir(parents=True, mode=0o700)
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1",
         f"--address=unix:path={folder / 'bus'}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    daemon = None
    try:
        assert bus.stdout is not None
        env = {"DBUS_SESSION_BUS_ADDRESS": bus.stdout.readline().strip(), "HOME": str(home),
               "XDG_DATA_HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run")}  # fmt: skip
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, **env},
        )  # fmt: skip
        assert daemon.stdin is not None
        daemon.stdin.write(b"smoke-password")  # --unlock reads the password up to EOF
        daemon.stdin.close()
        ask = ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
               "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
               "string:org.freedesktop.secrets"]  # fmt: skip
        deadline = time.monotonic() + 15
        while (
            "boolean true"
            not in subprocess.run(
                ask, capture_output=True, text=True, env={**os.environ, **env}, timeout=5
            ).stdout
        ):
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise SystemExit("smoke: gnome-keyring-daemon did not start its Secret Service")
            time.sleep(0.05)
        yield env
    finally:
        for process in (daemon, bus):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def check_keychain(port: int, key: str, secret_service: bool) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/api/privacy/secrets/retry", headers={"Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    status = json.loads(response.read() or b"null")
    conn.close()
    if response.status != 200:
        raise SystemExit(f"smoke: /api/privacy/secrets/retry answered {response.status}: {status}")
    keychain = status["keychain"]
    print(f"smoke: keychain {keychain['backend']!r}, secrets encrypted: "
          f"{status['secrets_encrypted']} {keychain['reason'] or ''}", file=sys.stderr)  # fmt: skip
    if secret_service and (
        keychain["backend"] != "Secret Service" or not status["secrets_encrypted"]
    ):
        raise SystemExit("smoke: the frozen sidecar did not use the running Secret Service")


def smoke(launcher: Path, home: Path, timeout: float) -> None:
    if not launcher.exists():
        raise SystemExit(f"smoke: no launcher at {launcher} (run scripts/build-sidecar.sh)")
    if not home.is_dir():
        raise SystemExit(f"smoke: no frozen sidecar folder at {home}")
    key = secrets.token_hex(32)
    with contextlib.ExitStack() as stack:
        data = stack.enter_context(
            tempfile.TemporaryDirectory(prefix="sage-smoke-", ignore_cleanup_errors=True)
        )
        keychain_env = stack.enter_context(private_secret_service(Path(data) / "keychain"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
        env.update(keychain_env or {})
        env.update(SAGE_API_KEY=key, SAGE_DATA_DIR=str(Path(data) / "data"),
                   SAGE_SIDECAR_HOME=str(home))  # fmt: skip
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT, str(launcher)],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        deadline = time.monotonic() + timeout
        pids: list[int] = []
        try:
            assert parent.stdout is not None
            lines = Lines(parent.stdout)
            first = lines.next("launcher pid", deadline)
            pids.append(int(first.split()[1]))
            while True:
                line = lines.next("READY line", deadline)
                if line.startswith(READY_PREFIX):
                    ready = json.loads(line[len(READY_PREFIX) :])
                    break
                print(f"smoke: sidecar said: {line.rstrip()}", file=sys.stderr)
            pids.append(int(ready["pid"]))
            print(f"smoke: READY on port {ready['port']}, pid {ready['pid']}", file=sys.stderr)

            status, body = health(ready["port"], key)
            if status != 200:
                raise SystemExit(f"smoke: /api/health with the key answered {status}: {body!r}")
            want = cargo_version()
            got = body.get("version") if isinstance(body, dict) else None
            if got != want or ready["version"] != want:
                raise SystemExit(f"smoke: version {got!r}/{ready['version']!r}, Cargo.toml {want}")
            status, _ = health(ready["port"], None)
            if status != 401:
                raise SystemExit(f"smoke: /api/health without the key answered {status}, not 401")
            print("smoke: /api/health answers with the key and refuses without it", file=sys.stderr)
            check_keychain(ready["port"], key, secret_service=keychain_env is not None)
        finally:
            parent.kill()  # SIGKILL / TerminateProcess: no clean-up runs in the parent
            parent.wait(timeout=10)
        left = wait_gone(pids, timeout=10)
        if left:
            raise SystemExit(f"smoke: still running 10 s after the parent was killed: {left}")
        print("smoke: the launcher and the sidecar exited after the parent died", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launcher", type=Path)
    parser.add_argument("--home", type=Path, default=ROOT / "src-python" / "dist" / "sage-sidecar")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    suffix = ".exe" if WINDOWS else ""
    launcher = (
        args.launcher or ROOT / "src-tauri" / "binaries" / f"sage-sidecar-{host_triple()}{suffix}"
    )
    smoke(launcher, args.home, args.timeout)
    print("smoke: frozen sidecar OK")


if __name__ == "__main__":
    main()
