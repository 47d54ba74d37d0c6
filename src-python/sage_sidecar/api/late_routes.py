"""Routers mounted after the sidecar is serving.

Importing a router builds its routes (FastAPI makes each route's dependencies and pydantic
validators as it is declared): ~0.1 s of start-up for the routers the UI's first screen never
asks for. Those are imported and mounted one per turn of the event loop shortly after READY
(main.py), so the first screen is served sooner and no turn holds the loop for long.

A request that arrives before its router is mounted does not get a 404: it matched nothing, so
the app's router calls its `default`, which mounts at once the pending routers whose path
prefixes the request's path is under, and routes it again. Late routes must not share a path
with a first-screen route (the path would match there and answer 405), and each router's routes
must be under its prefixes: tests/test_route_mounting.py checks both.
"""

import asyncio
import importlib
import logging
import time
from collections.abc import Callable, Mapping

from fastapi import APIRouter, FastAPI
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)


def under(path: str, prefixes: tuple[str, ...]) -> bool:
    """Whether `path` is one of `prefixes` or below one of them (by whole segments)."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


class LateRoutes:
    def __init__(
        self,
        app: FastAPI,
        modules: Mapping[str, tuple[str, ...]],
        add_router: Callable[[APIRouter], None],
    ) -> None:
        """`modules`: each router's module name, with the path prefixes its routes are under."""
        self._router = app.router
        self._pending = dict(modules)
        self._add_router = add_router
        self._not_found = app.router.default
        if self._pending:
            app.router.default = self._route_after_mounting

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(self._pending)

    def mount(self, name: str) -> None:
        """A router that fails to import or mount stays pending: its requests retry, and fail."""
        self._add_router(importlib.import_module(name).router)
        del self._pending[name]
        if not self._pending:
            self._router.default = self._not_found

    def mount_all(self) -> None:
        for name in list(self._pending):
            self.mount(name)

    async def mount_in_background(self, after_s: float = 0.0) -> None:
        """Mount what is pending, one router per turn of the loop, beginning `after_s` from now.

        Serving one request takes the loop many turns (accept, read, the handler, its database
        call), so a request served while routers are imported waits for one import per turn:
        the UI's first requests, sent right after READY, took 140 ms instead of 20 (bench/startup
        launch_timeline.mjs). Beginning later leaves the first screen's requests a quiet loop.
        """
        await asyncio.sleep(after_s)
        started, mounted = time.perf_counter(), 0
        for name in list(self._pending):
            await asyncio.sleep(0)  # requests already waiting go first
            if name not in self._pending:
                continue  # a request mounted it meanwhile
            try:
                self.mount(name)
                mounted += 1
            except Exception:  # a bug (a module missing from the frozen build): say which
                log.exception("cannot mount the router of %s", name)
        if mounted:
            log.info("%d routers mounted after READY in %.0f ms", mounted,
                     (time.perf_counter() - started) * 1000)  # fmt: skip

    async def _route_after_mounting(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        wanted = [name for name, prefixes in self._pending.items() if under(path, prefixes)]
        if not wanted:
            await self._not_found(scope, receive, send)
            return
        log.info("%s came before its router was mounted: mounting %s now", path,
                 ", ".join(name.rsplit(".", 1)[-1] for name in wanted))  # fmt: skip
        for name in wanted:
            self.mount(name)
        await self._router.app(scope, receive, send)  # comes back here only for a 404
