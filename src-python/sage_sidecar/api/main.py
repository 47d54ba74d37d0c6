"""All routers, mounted in one place."""

from fastapi import APIRouter

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

api_router = APIRouter()
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
):
    api_router.include_router(module.router, responses=COMMON_ERRORS)
