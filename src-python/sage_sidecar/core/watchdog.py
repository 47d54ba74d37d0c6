"""Exit when the shell is gone, even if it was SIGKILLed and never got to stop us.

Two signals, either is enough: stdin reaches EOF (the shell holds the write end of our stdin pipe,
and the OS closes it when the shell dies), or our parent pid changes (we were re-parented).
"""

import logging
import os
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
POLL_SECONDS = 0.25


def watch_parent(parent_pid: int, on_gone: Callable[[str], None]) -> None:
    """Start daemon threads that call `on_gone(reason)` once the parent is gone."""
    fired = threading.Event()

    def fire(reason: str) -> None:
        if not fired.is_set():
            fired.set()
            on_gone(reason)

    def poll_parent() -> None:
        while not fired.is_set():
            if os.name != "nt" and os.getppid() != parent_pid:
                fire(f"parent {parent_pid} is gone")
                return
            time.sleep(POLL_SECONDS)

    def read_stdin() -> None:
        try:
            stdin = sys.stdin.buffer
            while stdin.read1(4096) if hasattr(stdin, "read1") else stdin.read(1):
                pass
        except (OSError, ValueError):
            pass
        fire("stdin closed")

    threading.Thread(target=poll_parent, name="parent-watch", daemon=True).start()
    if sys.stdin is not None and not sys.stdin.isatty():
        threading.Thread(target=read_stdin, name="stdin-watch", daemon=True).start()
