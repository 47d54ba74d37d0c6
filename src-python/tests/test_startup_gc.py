"""The collector is off while the sidecar starts (main.py: start-up's long-lived objects made
without its passes over them) and back on from READY, with start-up's objects frozen."""

import asyncio
import gc
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from sage_sidecar.api.late_routes import LateRoutes
from sage_sidecar.main import serve


class StartedServer:
    """uvicorn.Server's part serve() uses: started at once, then done."""

    started = True

    async def serve(self, sockets: list[socket.socket]) -> None:
        await asyncio.sleep(0)


@pytest.fixture
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_restored")
def test_ready_turns_the_collector_back_on(capsys: Any) -> None:
    gc.disable()  # as main() does before its imports
    nothing_late = LateRoutes(FastAPI(), {}, lambda router: None)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        assert asyncio.run(asyncio.wait_for(serve(StartedServer(), sock, nothing_late), 10)) == 0  # type: ignore[arg-type]
    assert capsys.readouterr().out.startswith("SAGE_SIDECAR_READY ")
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
