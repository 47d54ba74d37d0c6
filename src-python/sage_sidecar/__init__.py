"""Sage Desktop sidecar: the local agent platform the Tauri shell spawns."""

import os
import sys

# numpy's OpenBLAS runs a product on the calling thread, set before anything imports numpy (its
# worker threads start when it loads). Its threads spin while they wait for work: on two busy
# cores a knowledge search's 10k × 384 product cost 6.7 ms of CPU and 14.5 ms wall with them,
# 0.8 and 1.6 ms without (bench/retrieval, load 6), and the sidecar's products are all that
# small or smaller. Inherited by the parse workers and the embedder's process; a value the
# user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Importing httpx imports its command-line client, and with it rich, pygments and click (~30 ms
# of every start; the frozen build ships them). Nothing here runs that client: marked absent,
# httpx defines a stub `main` instead. An httpx imported earlier (a test's) is left as it is.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _version() -> str:
    # The version's one source is the workspace Cargo.toml; scripts/version.py stamps it into
    # _version.py before installs and freezes. A bare checkout reads Cargo.toml directly.
    try:
        from sage_sidecar._version import __version__ as stamped

        return stamped
    except ImportError:
        import re
        from pathlib import Path

        cargo = Path(__file__).resolve().parents[2] / "Cargo.toml"
        found = cargo.exists() and re.search(
            r'^\[workspace\.package\][^\[]*?^version = "([^"]+)"', cargo.read_text(), re.M | re.S
        )
        return found.group(1) if found else "0.0.0+unknown"


__version__ = _version()
