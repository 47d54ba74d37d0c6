"""A worker process (parse worker, embedder) dies with the sidecar that started it.

Standard library only, and nothing heavy: workers call it first thing, before their imports.
"""

import os
import sys


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
