"""The supervisor of one contained command (see processes.spawn_contained), a process of its own:
`python -m sage_sidecar.core.reaper SPEC` or `sage-sidecar --contain SPEC` when frozen.

Why a supervisor and not just a process group: a script can leave its group (setsid()) and then
its parent can exit; the orphan is re-parented to init, and nothing in the sidecar could find it
again. On Linux the supervisor is a child subreaper (PR_SET_CHILD_SUBREAPER), so every orphan in the
tree is re-parented to it instead, and `kill_descendants` (a /proc walk from our own pid, repeated
until empty) finds all of them. Tracking pids from the sidecar by polling /proc would race with
forks and pid reuse; a cgroup would need privileges or systemd; a PID namespace (bubblewrap) needs
user namespaces, which some distributions restrict, and a runtime dependency.

It kills the tree: when the command exits (so a finished script leaves nothing behind), on SIGTERM
(the sidecar's Stop, timeout and shutdown) and on the sidecar's death (PR_SET_PDEATHSIG=SIGTERM;
elsewhere a thread watching getppid()). The command's own PR_SET_PDEATHSIG=SIGKILL covers the
supervisor being killed outright. It exits with the command's exit code, or 128 + the signal
that ended it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from types import FrameType

from sage_sidecar.core import landlock, processes

_EXEC_FAILED = 127


class _Stop(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signum)


def _watch_parent(parent: int) -> None:
    # Outside Linux there is no parent-death signal: poll.
    while os.getppid() == parent:
        time.sleep(0.25)
    os.kill(os.getpid(), signal.SIGTERM)


def _start(spec: dict[str, object], ruleset: int) -> int:
    argv = [str(a) for a in spec["argv"]]  # type: ignore[attr-defined]
    limits = processes.Limits(**spec["limits"])  # type: ignore[arg-type]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    pid = os.fork()  # single-threaded here (unless outside Linux), so fork is safe
    if pid:
        return pid
    try:
        supervisor = os.getppid()
        if not processes.set_parent_death_signal(signal.SIGKILL, supervisor):
            os._exit(_EXEC_FAILED)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        os.chdir(str(spec["cwd"]))
        processes.apply_limits(limits)
        if ruleset >= 0:
            processes.forbid_new_privileges()
            landlock.enforce(ruleset)
        os.execve(argv[0], argv, env)
    except BaseException as error:  # noqa: BLE001 - the child must never return into our code
        os.write(2, f"could not start the command: {error}\n".encode())
    os._exit(_EXEC_FAILED)


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)


def main(args: list[str]) -> int:
    spec = json.loads(args[0])
    parent = int(spec["parent"])
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    if not processes.set_parent_death_signal(signal.SIGTERM, parent):
        return 128 + signal.SIGTERM  # the sidecar is already gone
    if processes.IS_LINUX:
        processes.become_subreaper()
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    sandbox = spec.get("sandbox")
    ruleset = -1
    if sandbox and processes.IS_LINUX:
        ruleset = landlock.restrict(sandbox["hidden"], list(sandbox["writable"]))
    code = 128 + signal.SIGTERM
    try:
        command = _start(spec, ruleset)
        if ruleset >= 0:
            os.close(ruleset)
        while True:
            pid, status = os.waitpid(-1, 0)  # also reaps orphans re-parented to us
            if pid == command:
                code = _exit_code(status)
                break
    except _Stop as stop:
        code = 128 + stop.signum
    except ChildProcessError:
        pass
    # Stop listening: a second SIGTERM must not interrupt the kill below.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    processes.kill_descendants()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
