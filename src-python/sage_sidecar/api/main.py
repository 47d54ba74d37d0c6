"""All routers, mounted in one place: the first screen's before READY, the rest right after it
(api/late_routes.py)."""

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from sage_sidecar.api import routes
from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.api.late_routes import LateRoutes
from sage_sidecar.api.routes import (
    agents,
    chat,
    context,
    conversations,
    events,
    health,
    providers,
    tasks,
)

# What the shell and the UI ask for as they connect and show the first screen (the chat view;
# the shell reads the scheduler's state for its tray at every start).
FIRST_SCREEN: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (health, events, providers, agents, conversations, context, chat, tasks)
)
# The rest, imported only when mounted, the ones a user opens first going first; each with the
# path prefixes of its routes, so a request that comes early mounts only the router it needs.
AFTER_READY: dict[str, tuple[str, ...]] = {
    f"{routes.__name__}.{name}": prefixes
    for name, prefixes in (
        ("prompts", ("/api/prompts",)),
        ("skills", ("/api/skills", "/api/agents/")),
        ("runs", ("/api/runs", "/api/conversations/", "/api/messages/", "/api/prices",
                  "/api/traces", "/api/usage")),
        ("attachments", ("/api/attachments",)),
        ("tools", ("/api/tools",)),
        ("mcp", ("/api/mcp-servers",)),
        ("knowledge", ("/api/knowledge",)),
        ("knowledge_settings", ("/api/knowledge/settings",)),
        ("workspace", ("/api/workspaces/",)),
        ("system", ("/api/system",)),
        ("restore", ("/api/system/restore",)),
        ("audit", ("/api/audit",)),
        ("privacy", ("/api/privacy/secrets",)),
        ("database_encryption", ("/api/privacy/database",)),
        ("network", ("/api/network",)),
        ("web_search", ("/api/web-search",)),
    )
}  # fmt: skip


def add_routes(app: FastAPI, *, after_ready: bool = False) -> LateRoutes:
    """Every router's routes, added to the app as declared; with `after_ready`, the routers
    outside the first screen are left to the returned LateRoutes to mount (main.py does,
    right after READY), else they are mounted here too.

    Not `include_router`: FastAPI 0.165 builds an included route's state (its dependencies, body
    and response fields) again for the inclusion — at once for a router included without a
    prefix (0.14 s of CPU before READY), else at the first request into each router (65-115 ms
    on the event loop each). Each router declares its own prefix, tags and `COMMON_ERRORS`, so
    its routes are complete as they are; a router that forgot the common errors stops the start.
    """

    def add_router(router: APIRouter) -> None:
        for route in router.routes:
            if isinstance(route, APIRoute) and not COMMON_ERRORS.keys() <= route.responses.keys():
                raise RuntimeError(f"{route.path}: its router lacks responses=COMMON_ERRORS")
        app.router.routes.extend(router.routes)

    for router in FIRST_SCREEN:
        add_router(router)
    late = LateRoutes(app, AFTER_READY, add_router)
    if not after_ready:
        late.mount_all()
    return late
