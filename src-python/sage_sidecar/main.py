"""Sidecar entry point (the PyInstaller target): configure, bind, serve, announce READY.

Order matters for the shell's handshake: bind 127.0.0.1 port 0 ourselves (so we know the port
before serving), start uvicorn on that socket, and print the READY line only once uvicorn reports
it is accepting connections. stdout carries nothing else.
"""

import asyncio
import gc
import logging
import os
import socket
import sys
import threading
from typing import TYPE_CHECKING

import uvicorn
from pydantic import ValidationError

from sage_sidecar import __version__
from sage_sidecar.core.config import Settings
from sage_sidecar.core.contract import ENV_API_KEY, EXIT_STARTUP_FAILED, failed_line, ready_line
from sage_sidecar.core.errors import StartupFailure
from sage_sidecar.core.logging import configure_logging
from sage_sidecar.core.loop_probe import start_from_env as start_loop_probe
from sage_sidecar.core.private_files import restrict_new_files
from sage_sidecar.core.processes import end_descendants, harden_process, own_descendants
from sage_sidecar.core.watchdog import watch_parent

if TYPE_CHECKING:  # imported with the app, in main(), like the rest of FastAPI
    from sage_sidecar.api.late_routes import LateRoutes

log = logging.getLogger("sage_sidecar")
EXIT_CONFIG_ERROR = 2
# After the shell is gone, give graceful shutdown this long before exiting hard: the sidecar and
# everything it started must be gone within 1 s of the shell (the processes below it are killed at
# once; this is for the database and the log).
HARD_EXIT_AFTER_SECONDS = 0.7
LATE_ROUTES_AFTER_S = 0.5


def load_settings() -> Settings | None:
    try:
        return Settings()  # values come from the environment
    except ValidationError as error:
        problems = "; ".join(
            f"SAGE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        )
        print(f"sage-sidecar: refusing to start: {problems}", file=sys.stderr)
        return None


def bind_loopback() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted connections inherit this. Without it, Nagle's algorithm meeting the client's
    # delayed ACK holds small frames (a streamed token) for ~40 ms: bench/stream showed it.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(server: uvicorn.Server, sock: socket.socket, late_routes: "LateRoutes") -> int:
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            log.error("server stopped before it started accepting connections")
            return EXIT_STARTUP_FAILED
        await asyncio.sleep(0.005)
    # Start-up's ~200k objects (modules, routes, schemas) live as long as we do: frozen, Python's
    # full collections stop walking them. Each walk held Python's lock, and so the event loop,
    # for ~120 ms of CPU (bench/ingest/loop_gaps.py: 0.6 s on a loaded machine). Not collected
    # first: that would add the same 120 ms to start-up, for ~3,000 unreachable objects.
    gc.freeze()
    gc.enable()  # off since main() began (see there)
    port = sock.getsockname()[1]
    print(ready_line(port, os.getpid(), __version__), flush=True)
    # The routers the first screen does not use, one per turn of the loop (api/late_routes.py),
    # once the UI has connected and asked for its first screen (READY -> connected -> the first
    # screen's answers took 0.1-0.2 s in bench/startup); a request that comes earlier mounts its
    # own router at once.
    mounting = asyncio.create_task(late_routes.mount_in_background(after_s=LATE_ROUTES_AFTER_S))
    # Benchmarks: every event-loop gap over 50 ms, with its cause (core/loop_probe.py).
    probe = start_loop_probe(os.environ.get("SAGE_LOOP_PROBE"))
    await serving
    if not mounting.done():
        mounting.cancel()
    if probe is not None:
        probe.cancel()
    return 0


def exit_hard() -> None:
    try:
        end_descendants()  # anything started while the shutdown ran
    finally:
        os._exit(0)


def main() -> int:
    if sys.argv[1:2] == ["--run-python"] and len(sys.argv) == 3:
        # The frozen sidecar doubles as the interpreter for the run_python tool.
        import runpy

        sys.argv = sys.argv[2:]
        runpy.run_path(sys.argv[0], run_name="__main__")
        return 0
    # Start-up allocates ~150k objects that live as long as the process (modules, routes,
    # models): the collector's passes over them while they are made were wasted work, 0.14-0.27 s
    # of CPU (importing the app, 3 runs). Off until READY, where serve() freezes what start-up
    # made and turns it back on; the ~500 unreachable objects frozen with the rest cost nothing.
    gc.disable()
    # Before anything else: a same-user process (a script run_python starts) must not read our
    # /proc/<pid>/environ, which holds SAGE_API_KEY, nor our memory (core/processes.py).
    harden_process()
    restrict_new_files()  # the data dir is the user's alone (core/private_files.py)
    settings = load_settings()
    if settings is None:
        return EXIT_CONFIG_ERROR
    # Read once, then out of the environment every child inherits: not only what we start
    # (each of those passes its own environment) but what libraries start on their own —
    # ctypes.util.find_library runs ldconfig, gcc and ld, platform.architecture runs `file`.
    os.environ.pop(ENV_API_KEY, None)
    settings.ensure_layout()
    log_path = configure_logging(settings.logs_dir, settings.log_level)
    log.info("starting sage-sidecar %s (pid %s), log file %s", __version__, os.getpid(), log_path)
    # Orphans of what we start (a script's daemonised grandchild) become ours, so they can be found
    # and ended with the rest (core/processes.py).
    own_descendants()
    # Imported here, not at the top, for the collector (above): most of start-up's objects are
    # made by these imports (SQLAlchemy, FastAPI, the routes and models), and it is off only from
    # main()'s start (the frozen entry and `python -m` import this module first).
    from sage_sidecar.app import create_app
    from sage_sidecar.storage.migrate import upgrade_to_head

    try:
        # Before serving (the lifespan then finds the database current): a database this version
        # cannot open stops the start with a coded error the shell shows, not a crash to retry.
        upgrade_to_head(settings.db_path)
    except StartupFailure as failure:
        log.error("refusing to start: %s", failure)
        print(failed_line(failure.code, failure.detail, failure.params), flush=True)
        return EXIT_STARTUP_FAILED

    sock = bind_loopback()
    app = create_app(settings, routes_after_ready=True)
    config = uvicorn.Config(
        app,
        ws="websockets-sansio",
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)

    parent_gone = threading.Event()
    if settings.parent_pid is not None:

        def on_parent_gone(reason: str) -> None:
            log.info("shutting down: %s", reason)
            parent_gone.set()
            # Nobody is left to wait for a clean shutdown of MCP servers, scripts and workers.
            end_descendants()
            server.should_exit = True
            threading.Timer(HARD_EXIT_AFTER_SECONDS, exit_hard).start()

        watch_parent(settings.parent_pid, on_parent_gone)

    code = asyncio.run(serve(server, sock, app.state.late_routes))
    if parent_gone.is_set():
        # Not through the interpreter's finalization: it would wait on the stdin watch's read (and
        # the timer, started by a daemon thread, is a daemon too and would never fire).
        exit_hard()
    return code


if __name__ == "__main__":
    sys.exit(main())
