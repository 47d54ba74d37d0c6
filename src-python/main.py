"""PyInstaller entry point for the frozen sidecar (see sage_sidecar.spec)."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["--parse-worker"]:
        # A document parse worker (sage_sidecar/knowledge/parse_worker.py): started on demand
        # and kept warm, so it skips the server's imports too.
        from sage_sidecar.knowledge.parse_worker import serve

        sys.exit(serve(int(sys.argv[2])))
    if sys.argv[1:2] == ["--contain"]:
        # run_python's supervisor (core/reaper.py): started for every script, so it skips the
        # server's imports.
        from sage_sidecar.core.reaper import main as contain

        sys.exit(contain(sys.argv[2:]))
    from sage_sidecar.main import main

    sys.exit(main())
