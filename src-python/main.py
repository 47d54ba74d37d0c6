"""PyInstaller entry point for the frozen sidecar (see sage_sidecar.spec)."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["--contain"]:
        # run_python's supervisor (core/reaper.py): started for every script, so it skips the
        # server's imports.
        from sage_sidecar.core.reaper import main as contain

        sys.exit(contain(sys.argv[2:]))
    from sage_sidecar.main import main

    sys.exit(main())
