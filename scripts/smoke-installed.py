#!/usr/bin/env python3
"""Smoke-test an installed Sage app on any OS: it starts, its sidecar answers, and when the app
ends nothing of it is left running (standard library only).

    smoke-installed.py --app PATH [--timeout SECONDS] [--hard-kill]

PATH is the installed executable (/usr/bin/sage-desktop, Sage.app/Contents/MacOS/sage-desktop,
%LOCALAPPDATA%\\Sage\\sage-desktop.exe, ...). The app runs with a new, empty data dir
(SAGE_DATA_DIR) and no update check. The shell's log (logs/shell.log) names the sidecar's pid and
port: `/api/health` on that port must refuse a request without the key (401: it is our sidecar,
serving, and keyed). Then the app is ended - SIGTERM on Linux and macOS (the app's own quit
path), a hard kill on Windows or with --hard-kill (a GUI app has no console signal to catch) -
and the app, the launcher and the sidecar must all be gone within 10 s.

Run by each leg of .github/workflows/release.yml on the installer it just built and installed.
"""

import argparse
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WINDOWS = sys.platform == "win32"
SPAWNED = re.compile(r"sidecar spawned \(pid (\d+)\)")
READY = re.compile(r"ready on 127\.0\.0\.1:(\d+)")


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
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return state.stdout.strip() not in ("", "Z") and not state.stdout.strip().startswith("Z")


def app_processes() -> dict[int, str]:
    """Running sage-desktop and sage-sidecar processes by pid (to find leftovers nobody logged)."""
    names = ("sage-desktop", "sage-sidecar")
    found: dict[int, str] = {}
    if WINDOWS:
        out = subprocess.run(["tasklist", "/FO", "CSV", "/NH"], capture_output=True, text=True)
        for line in out.stdout.splitlines():
            fields = [field.strip('"') for field in line.split('","')]
            if len(fields) > 1 and fields[0].removesuffix(".exe") in names and fields[1].isdigit():
                found[int(fields[1])] = fields[0]
        return found
    out = subprocess.run(["ps", "-axo", "pid=,stat=,comm="], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        parts = line.split(None, 2)
        if (
            len(parts) == 3
            and Path(parts[2].strip()).name in names
            and not parts[1].startswith("Z")
        ):
            found[int(parts[0])] = parts[2].strip()
    return found


def wait_for_log(log: Path, app: subprocess.Popen[bytes], deadline: float) -> tuple[int, int]:
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        spawned, ready = SPAWNED.findall(text), READY.findall(text)
        if spawned and ready:
            return int(spawned[-1]), int(ready[-1])
        if app.poll() is not None:
            raise SystemExit(
                f"smoke: the app exited with {app.returncode} before its sidecar was ready"
            )
        time.sleep(0.2)
    raise SystemExit(f"smoke: no 'sidecar ... ready' in {log} before the timeout")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--hard-kill", action="store_true")
    args = parser.parse_args()
    if not args.app.exists():
        raise SystemExit(f"smoke: no app at {args.app}")
    # Only processes that appear during the test count: a developer's machine may run other
    # Sage processes (a release runner has none).
    before = app_processes()

    with tempfile.TemporaryDirectory(prefix="sage-installed-", ignore_cleanup_errors=True) as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
        env.update(SAGE_DATA_DIR=data, SAGE_UPDATE_CHECK="off")
        app = subprocess.Popen([str(args.app)], env=env)
        try:
            sidecar_pid, port = wait_for_log(
                Path(data) / "logs" / "shell.log", app, time.monotonic() + args.timeout
            )
            print(f"smoke: app pid {app.pid}, sidecar pid {sidecar_pid} on port {port}")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/health")
            status = conn.getresponse().status
            conn.close()
            if status != 401:
                raise SystemExit(f"smoke: the sidecar answered {status} without the key, not 401")
            print("smoke: the sidecar answers (and refuses a request without the key)")
        finally:
            if WINDOWS or args.hard_kill or app.poll() is not None:
                app.kill()
            else:
                app.send_signal(signal.SIGTERM)
            try:
                app.wait(timeout=15)
            except subprocess.TimeoutExpired:
                app.kill()
                raise SystemExit("smoke: the app did not quit within 15 s of SIGTERM") from None

        def left() -> dict[int, str]:
            return {pid: name for pid, name in app_processes().items() if pid not in before}

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (pid_alive(sidecar_pid) or left()):
            time.sleep(0.1)
        if pid_alive(sidecar_pid) or left():
            raise SystemExit(
                f"smoke: still running 10 s after the app ended: {left() or sidecar_pid}"
            )
    print("smoke: the installed app started, its sidecar answered, and nothing is left running")


if __name__ == "__main__":
    main()
