"""A worker process (parse worker, embedder) dies with the sidecar that started it, and runs
below it.

Standard library only, and nothing heavy: workers call these first thing, before their imports.
"""

import contextlib
import os
import sys

# A worker's CPU-heavy work (parsing a hostile file, embedding) must not take a core from the
# sidecar's event loop, which answers every window: bench/hostile's remaining loop gaps were the
# loop thread waiting for a core the parse workers held at the same priority.
BACKGROUND_NICE = 10


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies, even by kill -9 mid-work. Elsewhere a
    no-op: the worker ends at stdin EOF instead, after the work it is in.

    The signal fires when the parent *thread* that started us ends, so the parent must start
    workers from a thread that lives as long as it does."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    parent = os.getppid()
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the prctl
        os._exit(1)


def lower_priority() -> None:
    """This whole process below the sidecar (nice 10; below normal on Windows). Threads created
    after the call (ONNX's, for one) inherit it."""
    if os.name == "nt":
        import ctypes

        below_normal = 0x4000
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), below_normal)
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, BACKGROUND_NICE)
