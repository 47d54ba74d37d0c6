"""PyInstaller entry point for the frozen sidecar (see sage_sidecar.spec).

The frozen sidecar is also a document parse worker, the offline embedder's process, and
run_python's supervisor and interpreter: each of those starts often, so it is dispatched here,
before the server's imports (seconds on a loaded machine, against a fraction of one).
"""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["--parse-worker"]:
        # A document parse worker (sage_sidecar/knowledge/parse_worker.py): started on demand
        # and kept warm, so it skips the server's imports too.
        from sage_sidecar.knowledge.parse_worker import serve

        sys.exit(serve(int(sys.argv[2])))
    if sys.argv[1:2] == ["--embed-worker"]:
        # The offline embedder's process (sage_sidecar/knowledge/embed_worker.py): started on the
        # first embedding and kept, so the server's imports are skipped here too.
        from sage_sidecar.knowledge.embed_worker import serve as serve_embedder

        sys.exit(serve_embedder(*sys.argv[2:3]))  # the model: local_models' worker name
    if sys.argv[1:2] == ["--contain"]:
        # run_python's supervisor (core/reaper.py): started for every script.
        from sage_sidecar.core.reaper import main as contain

        sys.exit(contain(sys.argv[2:]))
    if sys.argv[1:2] == ["--run-python"] and len(sys.argv) == 3:
        # run_python's interpreter: the script runs with the bundled Python and standard library.
        import runpy

        sys.argv = sys.argv[2:]
        runpy.run_path(sys.argv[0], run_name="__main__")
        sys.exit(0)
    from sage_sidecar.main import main

    sys.exit(main())
