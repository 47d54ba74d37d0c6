"""All routers, mounted in one place."""

from fastapi import APIRouter

from sage_sidecar.api.routes import events, health

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(events.router)
