"""Processes the sidecar runs on someone else's behalf (a script the agent wrote): contained, limited,
read with a byte cap, and killed as a whole tree.

`spawn_contained` is the one entry point. On Linux and macOS it starts a small supervisor
(`core/reaper.py`) in a new session; the supervisor sets the limits and the sandbox, runs the
command, and when the command ends, or it is told to stop, or the sidecar dies, kills every
descendant before it exits. On Linux it is a child subreaper, so even a grandchild that called
setsid() and whose parent exited is re-parented to it and found (see reaper.py for why this rather
than the process group alone). On Windows the command runs in a Job object that is killed as one
(`core/winjob.py`).

The sidecar itself calls `harden_process()` at start-up: a same-user process (such as a script the
agent runs) can then no longer read the sidecar's /proc/<pid>/environ (where SAGE_API_KEY is) or
its memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

IS_LINUX = sys.platform.startswith("linux")

# prctl(2) options (linux/prctl.h).
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38

# Where the venv's supervisor imports this package from (a frozen one has it inside).
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# How long a supervisor told to stop may take before its whole process group is SIGKILLed.
STOP_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class Limits:
    """Resource limits for a contained command (rlimits on POSIX, Job limits on Windows)."""

    cpu_seconds: int
    memory_bytes: int  # address space per process (POSIX), committed memory of the job (Windows)
    file_bytes: int  # largest file it may write (POSIX)
    # New processes and threads it may start. RLIMIT_NPROC counts every process of the user, not
    # of this tree, so the supervisor sets it to what the user runs already plus this. It does not
    # bind root (CAP_SYS_RESOURCE); the Job's count on Windows is exact.
    processes: int


@dataclass(frozen=True)
class Sandbox:
    """Filesystem rules (Linux Landlock, where the kernel has it): everything is readable except
    `hidden` (minus the writable folders inside it); only `writable` folders can be written."""

    hidden: str | None
    writable: tuple[str, ...] = field(default_factory=tuple)


# --- Linux process attributes ----------------------------------------------------------------


def _prctl(option: int, arg: int) -> bool:
    if not IS_LINUX:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(option, arg, 0, 0, 0)) == 0


def harden_process() -> bool:
    """Make this process non-dumpable: its /proc/<pid>/environ, mem, maps… become root's and
    ptrace by a same-user process is refused. Removing the key from os.environ would not do: that
    file shows the environment block the process was started with. True when it took effect."""
    return _prctl(_PR_SET_DUMPABLE, 0)


def set_parent_death_signal(sig: int, expected_parent: int) -> bool:
    """Ask the kernel to send `sig` when our parent dies. False when the parent is already gone
    (the signal would never come) — the caller should exit. No-op outside Linux.

    The signal fires when the parent *thread* that forked us ends, so spawn from a thread that
    lives as long as the parent process (the sidecar's event loop thread)."""
    if IS_LINUX:
        _prctl(_PR_SET_PDEATHSIG, sig)
    return os.getppid() == expected_parent


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to us instead of to init (Linux ≥ 3.4)."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def forbid_new_privileges() -> bool:
    """No set-uid gain through exec; Landlock requires it of an unprivileged process."""
    return _prctl(_PR_SET_NO_NEW_PRIVS, 1)


def user_task_count(uid: int) -> int:
    """Tasks (threads count, as RLIMIT_NPROC counts them) the user runs now, from /proc."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count


def apply_limits(limits: Limits) -> None:
    """Set this process's rlimits (a supervisor calls it in the child, before exec)."""
    import resource  # POSIX only

    def cap(which: int, value: int) -> None:
        _soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 1))
        except (ValueError, OSError):
            if IS_LINUX:
                raise
            # macOS refuses some (RLIMIT_AS among them): best effort there.

    cap(resource.RLIMIT_CPU, limits.cpu_seconds)  # SIGXCPU at the soft limit, SIGKILL 1 s later
    cap(resource.RLIMIT_AS, limits.memory_bytes)
    cap(resource.RLIMIT_FSIZE, limits.file_bytes)
    cap(resource.RLIMIT_CORE, 0)
    if IS_LINUX and os.getuid() != 0:
        cap(resource.RLIMIT_NPROC, user_task_count(os.getuid()) + limits.processes)


# --- process trees -----------------------------------------------------------------------------


def _parents() -> dict[int, int]:
    """pid → parent pid for every process we can see."""
    found: dict[int, int] = {}
    if IS_LINUX:
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    stat = Path(entry.path, "stat").read_text()
                except OSError:
                    continue
                # The name (2nd field) may hold spaces and parentheses: split after the last ')'.
                found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        return found
    import subprocess

    listing = subprocess.run(["ps", "-A", "-o", "pid=", "-o", "ppid="], capture_output=True,
                             text=True, check=False).stdout  # fmt: skip
    for line in listing.splitlines():
        pid, _, ppid = line.strip().partition(" ")
        if pid.isdigit() and ppid.strip().isdigit():
            found[int(pid)] = int(ppid)
    return found


def descendants(root: int) -> list[int]:
    """Every live descendant of `root` (children first)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found: list[int] = []
    queue = [root]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_descendants(timeout: float = 5.0) -> bool:
    """SIGKILL every descendant of this process and reap them; True when none is left.

    Repeated until nothing remains: a process forked between the listing and the kill, or
    re-parented to us (we are a subreaper) when its parent died, is found by the next pass."""
    deadline = time.monotonic() + timeout
    me = os.getpid()
    while True:
        alive = descendants(me)
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap_all()
        if not alive:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


# --- the sidecar's own tree ------------------------------------------------------------------

_owns_tree = False


def own_descendants() -> None:
    """The sidecar's process claims every process below it (issue #13 §3): orphans of what it
    starts are re-parented to it (Linux), and `end_descendants` kills them. Only the sidecar's
    `main` calls this, never a test that runs the app in its own process."""
    global _owns_tree
    _owns_tree = True
    if IS_LINUX and not become_subreaper():
        print("sage-sidecar: could not become a child subreaper", file=sys.stderr)


def end_descendants() -> None:
    """SIGKILL everything below the sidecar (last step of its shutdown; at once when the shell is
    gone). A no-op in a process that did not call `own_descendants`, and on Windows (the shell's
    Job object holds the whole tree; there is no `ps` to list it)."""
    if _owns_tree and os.name != "nt":
        kill_descendants(timeout=1.0)


def kill_tree(pid: int) -> None:
    """SIGKILL `pid` and everything below it. `pid` is a child of ours not reaped yet (so not
    reused); it stays a zombie for whoever waits for it."""
    if not IS_LINUX:
        try:
            os.killpg(pid, signal.SIGKILL)  # our children run in their own process group
        except OSError:
            pass
        return
    for _round in range(100):  # a process that forked meanwhile is found by the next round
        alive = [each for each in (pid, *descendants(pid)) if not _zombie(each)]
        if not alive:
            return
        for each in alive:
            try:
                os.kill(each, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)


def _zombie(pid: int) -> bool:
    """Exited (or gone): nothing left to kill."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# --- reading output ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CappedOutput:
    head: bytes  # the first `keep` bytes
    total: int  # bytes read in all (the rest were discarded)
    overflowed: bool  # more than `limit` bytes came: reading stopped there


async def read_capped(stream: asyncio.StreamReader, keep: int, limit: int) -> CappedOutput:
    """Read to EOF keeping only the first `keep` bytes; stop after `limit` bytes in all, so a
    script printing without end neither grows our memory nor keeps the event loop busy."""
    head = bytearray()
    total = 0
    while chunk := await stream.read(1 << 16):
        total += len(chunk)
        if len(head) < keep:
            head += chunk[: keep - len(head)]
        if total > limit:
            return CappedOutput(bytes(head), total, True)
    return CappedOutput(bytes(head), total, False)


# --- the contained process -------------------------------------------------------------------


def supervisor_command(spec: dict[str, Any]) -> list[str]:
    """The command line of the supervisor: the frozen sidecar itself (`--contain`, dispatched in
    src-python/main.py before the server's imports), or this venv's Python."""
    argument = json.dumps(spec)
    if getattr(sys, "frozen", False):
        return [sys.executable, "--contain", argument]
    # -P: the current directory is not put on sys.path; -s: no user site-packages.
    return [sys.executable, "-P", "-s", "-m", "sage_sidecar.core.reaper", argument]


class ContainedProcess:
    """A running contained command. `stop()` kills it and every descendant; call it in a
    `finally` so a cancel, a timeout or an error kills the tree too."""

    def __init__(self, process: asyncio.subprocess.Process, job: Any = None) -> None:
        self.process = process
        self._job = job  # Windows: the Job object's handle
        self._job_ender: asyncio.Task[None] | None = None
        if job is not None:
            # As the supervisor does on POSIX: when the command ends, what it left running goes
            # (and with it the last holder of the output pipe).
            self._job_ender = asyncio.get_running_loop().create_task(self._end_job_after_exit())

    async def _end_job_after_exit(self) -> None:
        await self._exited_within(float("inf"))
        self._end_job()

    def _end_job(self) -> None:
        if self._job is not None:
            from sage_sidecar.core import winjob

            winjob.terminate(self._job)
            self._job = None

    @property
    def stdout(self) -> asyncio.StreamReader:
        assert self.process.stdout is not None
        return self.process.stdout

    async def wait(self) -> int:
        """The exit code, once the process has exited and its output pipe is closed."""
        return await self.process.wait()

    async def stop(self) -> None:
        """Kill the tree (no-op once it has ended) and drain the pipe, so `wait()` returns."""
        if sys.platform == "win32":
            if self._job_ender is not None:
                self._job_ender.cancel()
            self._end_job()
        elif self.process.returncode is None:
            # The supervisor kills the tree on SIGTERM. Sent before any await, so the tree dies
            # even if this task is cancelled again while it waits.
            self.process.send_signal(signal.SIGTERM)
            if not await self._exited_within(STOP_GRACE_SECONDS):
                # A stuck supervisor: kill its group (not yet reaped, so the pgid is still ours).
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                await self._exited_within(STOP_GRACE_SECONDS)
        # asyncio's wait() also waits for the pipe to close, and a reader that stopped early has
        # left it paused: read what is left (discarded) to the end.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_GRACE_SECONDS):
                while await self.stdout.read(1 << 16):
                    pass

    async def _exited_within(self, seconds: float) -> bool:
        # returncode is set as soon as the process is reaped, before its pipes close.
        deadline = time.monotonic() + seconds
        while self.process.returncode is None:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True


async def spawn_contained(
    argv: list[str],
    *,
    cwd: str,
    env: dict[str, str],
    limits: Limits,
    sandbox: Sandbox | None = None,
) -> ContainedProcess:
    """Start `argv` contained: stdin /dev/null, stdout and stderr into one pipe
    (`ContainedProcess.stdout`). Call from the event loop's thread (see set_parent_death_signal)."""
    if sys.platform == "win32":
        from sage_sidecar.core import winjob

        process = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            creationflags=winjob.CREATE_NEW_PROCESS_GROUP,
        )  # fmt: skip
        return ContainedProcess(process, winjob.contain(process.pid, limits))
    spec = {
        "parent": os.getpid(),
        "argv": argv,
        "cwd": cwd,
        "limits": asdict(limits),
        "sandbox": asdict(sandbox) if sandbox else None,
    }
    supervisor_env = dict(env)
    supervisor_env["PYTHONPATH"] = PACKAGE_ROOT
    process = await asyncio.create_subprocess_exec(
        *supervisor_command(spec),
        cwd=cwd,
        env=supervisor_env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own session and process group: nothing shared with ours
    )
    return ContainedProcess(process)
