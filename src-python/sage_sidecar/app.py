"""The FastAPI app factory: middleware, routers, and the lifespan owning the DB and tasks."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from sage_sidecar import __version__
from sage_sidecar.api.main import api_router
from sage_sidecar.app_state import AppState
from sage_sidecar.core.config import Settings
from sage_sidecar.core.security import ApiKeyMiddleware, LoopbackHostMiddleware
from sage_sidecar.services import app_meta
from sage_sidecar.services.events import EventBus, run_heartbeat
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.migrate import upgrade_to_head

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.ensure_layout()
        revision = await asyncio.to_thread(upgrade_to_head, settings.db_path)
        db = Database(settings.db_path)
        async with db.session() as session:
            await app_meta.record_start(session, __version__)
        state = AppState(settings=settings, db=db, events=EventBus(), schema_revision=revision)
        app.state.sage = state
        heartbeat = asyncio.create_task(
            run_heartbeat(state.events, settings.heartbeat_seconds, state.started_at)
        )
        log.info(
            "sidecar %s ready, data dir %s, schema %s", __version__, settings.data_dir, revision
        )
        try:
            yield
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            await db.dispose()

    app = FastAPI(
        title="Sage sidecar",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs cannot send the key; the schema itself is keyed
        redoc_url=None,
    )
    app.include_router(api_router)
    # Starlette runs the last-added middleware first: Host check, then CORS (which answers
    # preflights, which carry no key), then the key check.
    app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key.get_secret_value())
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["*"],
        allow_headers=["authorization", "content-type"],
    )
    app.add_middleware(LoopbackHostMiddleware)
    return app
