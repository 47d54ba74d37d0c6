"""`/ws/events`: the app-wide event stream (heartbeats now; ingest progress, task results later)."""

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sage_sidecar.api.deps import StateDep, websocket_authenticated
from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.schemas.protocol.base import dump
from sage_sidecar.schemas.protocol.events import EventFrame, Hello

router = APIRouter(responses=COMMON_ERRORS)


@router.websocket("/ws/events")
async def events(websocket: WebSocket, state: StateDep) -> None:
    if not await websocket_authenticated(websocket, state):
        return

    async def send(frame: EventFrame) -> None:
        """Every frame this socket sends goes through here, as its model says."""
        await websocket.send_json(dump(frame))

    async with state.events.subscribe() as queue:
        # Greet at once so a client sees the path work without waiting for the first heartbeat.
        await send(Hello(uptime_s=round(state.uptime_s, 3)))
        receiver = asyncio.create_task(_drain_client(websocket))
        try:
            while not receiver.done():
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait(
                    {getter, receiver}, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    await send(getter.result())
                else:
                    getter.cancel()
        except WebSocketDisconnect:
            pass
        finally:
            receiver.cancel()


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) client frames until it disconnects, so we notice the close promptly."""
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        return
