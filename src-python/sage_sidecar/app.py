"""The FastAPI app factory: middleware, routers, and the lifespan owning the DB and tasks."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from sage_sidecar import __version__
from sage_sidecar.api.errors import install_error_handlers
from sage_sidecar.api.main import add_routes
from sage_sidecar.api.openapi import install_protocol_schemas
from sage_sidecar.app_state import AppState
from sage_sidecar.core import network
from sage_sidecar.core.config import Settings
from sage_sidecar.core.events import EventBus, run_heartbeat
from sage_sidecar.core.logging import silence_parameter_logging
from sage_sidecar.core.processes import end_descendants
from sage_sidecar.core.security import ApiKeyMiddleware, LoopbackHostMiddleware
from sage_sidecar.demo.scripted import ScriptedProvider
from sage_sidecar.schemas.protocol.events import LocalServer, ProvidersDetected
from sage_sidecar.services import agents, app_meta, conversations, providers, restore
from sage_sidecar.services import audit as audit_service
from sage_sidecar.services import network as network_settings
from sage_sidecar.services import web_search as web_search_settings
from sage_sidecar.services.audit import AuditLog
from sage_sidecar.services.chat import ChatEngine, ChatSettings
from sage_sidecar.services.knowledge import Knowledge, parse_limits
from sage_sidecar.services.mcp_connections import McpManager
from sage_sidecar.services.skills import builtin as skills_builtin
from sage_sidecar.services.skills.store import SkillStore
from sage_sidecar.services.tasks.clock import SystemClock
from sage_sidecar.services.tasks.service import Tasks
from sage_sidecar.services.traces import store as traces_store
from sage_sidecar.services.traces.recorder import TraceSink
from sage_sidecar.services.workspace import Workspaces
from sage_sidecar.storage import secrets as stored_secrets
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.migrate import upgrade_to_head

log = logging.getLogger(__name__)


async def announce_local_servers(state: AppState) -> None:
    found = await providers.detect_local_servers(state.http)
    servers = [LocalServer(kind=s.kind, base_url=s.base_url, models=s.models) for s in found]
    state.events.publish(ProvidersDetected(servers=servers))


def create_app(settings: Settings, *, routes_after_ready: bool = False) -> FastAPI:
    """With `routes_after_ready` (the sidecar's own start, main.py), the routers the first screen
    does not use are left for `app.state.late_routes` to mount once serving (api/late_routes.py);
    tests and the schema export get every route at once."""
    silence_parameter_logging()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.ensure_layout()
        # A backup staged by Settings → Data → Restore replaces the data before anything opens it.
        await asyncio.to_thread(restore.apply_pending, settings)
        revision = await asyncio.to_thread(upgrade_to_head, settings.db_path)
        db = Database(settings.db_path)
        skills = SkillStore(settings.storage_dir)
        async with db.session() as session:
            await app_meta.record_start(session, __version__)
            # The secrets key from the keychain; stored plaintext secrets sealed (storage/secrets.py).
            await stored_secrets.open_at_start(session)
            interrupted = await conversations.mark_interrupted_streams(session)
            await traces_store.mark_interrupted_runs(session)
            await agents.default_agent(session)
            await network_settings.activate_saved(session)  # Settings → Network: proxy, CAs
            await web_search_settings.activate_saved(session)  # the web_search tool's API
            await skills_builtin.seed_once(session, skills)  # the shipped skills, once
            if settings.demo_provider_url:
                await providers.ensure_demo_provider(session, settings.demo_provider_url)
        if interrupted:
            log.warning(
                "%d reply(s) were cut off by the last shutdown; marked interrupted", interrupted
            )
        http = network.http_client(follow_redirects=False)  # follows Settings → Network
        mcp = McpManager()
        events = EventBus()
        traces = TraceSink(db, secrets=(settings.api_key.get_secret_value(),),
                           enabled=settings.trace_recording)  # fmt: skip
        traces.start()
        audit = AuditLog(db, secrets=(settings.api_key.get_secret_value(),))
        knowledge = Knowledge(db, events, http, settings.storage_dir, settings.vectors_dir,
                              settings.max_upload_bytes, parse_limits(settings))  # fmt: skip
        workspaces = Workspaces(settings.storage_dir, settings.workspace_quota_bytes, events)
        chat = ChatEngine(db, http, settings.storage_dir / "workspaces", mcp,
                          settings=ChatSettings.of(settings), knowledge=knowledge,
                          events=events, traces=traces, workspace_hooks=workspaces.tool_hooks(),
                          audit=audit, skills=skills)  # fmt: skip
        state = AppState(
            settings=settings,
            db=db,
            events=events,
            http=http,
            chat=chat,
            mcp=mcp,
            knowledge=knowledge,
            schema_revision=revision,
            workspaces=workspaces,
        )
        # Tests put a ManualClock on app.state.task_clock before start-up (services/tasks/clock.py).
        clock = getattr(app.state, "task_clock", None) or SystemClock()
        state.tasks = Tasks.build(db, chat, events, workspaces, clock)
        app.state.sage = state
        heartbeat = asyncio.create_task(
            run_heartbeat(state.events, settings.heartbeat_seconds, state.started_at)
        )
        # Local model servers (Ollama, LM Studio) are looked for once at start, in the background,
        # and announced on /ws/events; GET /api/providers/detect looks again on demand.
        detection = asyncio.create_task(announce_local_servers(state))
        pruning = asyncio.create_task(traces_store.prune_daily(db))  # traces past retention
        audit_pruning = asyncio.create_task(audit_service.prune_daily(db))  # and audit events
        # Files a crash left mid-ingest are queued again (or failed), then the worker resumes.
        await knowledge.start()
        await state.tasks.scheduler.start()  # interrupted runs marked, then due tasks fire
        log.info(
            "sidecar %s ready, data dir %s, schema %s", __version__, settings.data_dir, revision
        )
        try:
            yield
        finally:
            for task in (heartbeat, detection, pruning, audit_pruning):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await state.tasks.scheduler.stop()
            await state.chat.shutdown()  # unfinished replies are saved as interrupted
            await state.tasks.runner.shutdown()  # task runs write their outcome (interrupted)
            await traces.close()  # and their traces written
            await knowledge.stop()  # a file mid-ingest is resumed at the next start
            await mcp.close_all()  # ends stdio MCP server processes
            # Whatever is still below us (a script's daemonised grandchild, a server's child):
            # the sidecar owns every process it started, however it got there.
            end_descendants()
            await http.aclose()
            await db.dispose()

    app = FastAPI(
        title="Sage sidecar",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs cannot send the key; the schema itself is keyed
        redoc_url=None,
    )
    late_routes = add_routes(app, after_ready=routes_after_ready)
    app.state.late_routes = late_routes
    # The WebSocket frames' models, for the UI's generated types; the schema is of every route.
    install_protocol_schemas(app, before=late_routes.mount_all)
    # Replaying a run's trace sends its requests to the scripted test model (services/traces).
    app.state.replay_targets = ScriptedProvider

    install_error_handlers(app)

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
