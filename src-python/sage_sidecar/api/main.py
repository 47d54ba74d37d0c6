"""All routers, mounted in one place."""

from fastapi import FastAPI
from fastapi.routing import APIRoute

from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.api.routes import (
    agents,
    attachments,
    audit,
    chat,
    context,
    conversations,
    database_encryption,
    events,
    health,
    knowledge,
    knowledge_settings,
    mcp,
    network,
    privacy,
    prompts,
    providers,
    restore,
    runs,
    skills,
    system,
    tasks,
    tools,
    web_search,
    workspace,
)

ROUTERS = tuple(
    module.router
    for module in (
        health,
        events,
        providers,
        agents,
        conversations,
        context,
        chat,
        mcp,
        tools,
        knowledge,
        knowledge_settings,
        system,
        attachments,
        workspace,
        runs,
        audit,
        tasks,
        skills,
        privacy,
        prompts,
        network,
        web_search,
        restore,
        database_encryption,
    )
)


def add_routes(app: FastAPI) -> None:
    """Every router's routes, added to the app as declared.

    Not `include_router`: FastAPI 0.165 builds an included route's state (its dependencies, body
    and response fields) again for the inclusion — at once for a router included without a
    prefix (0.14 s of CPU before READY), else at the first request into each router (65-115 ms
    on the event loop each). Each router declares its own prefix, tags and `COMMON_ERRORS`, so
    its routes are complete as they are; a router that forgot the common errors stops the start.
    """
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and not COMMON_ERRORS.keys() <= route.responses.keys():
                raise RuntimeError(f"{route.path}: its router lacks responses=COMMON_ERRORS")
        app.router.routes.extend(router.routes)
