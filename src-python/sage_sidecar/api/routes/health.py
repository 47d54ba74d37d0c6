from fastapi import APIRouter
from pydantic import BaseModel

from sage_sidecar import __version__
from sage_sidecar.api.deps import StateDep
from sage_sidecar.api.errors import COMMON_ERRORS

router = APIRouter(tags=["health"], responses=COMMON_ERRORS)


class DatabaseHealth(BaseModel):
    ok: bool
    revision: str | None


class Health(BaseModel):
    status: str
    version: str
    uptime_s: float
    db: DatabaseHealth


@router.get("/api/health", response_model=Health)
async def health(state: StateDep) -> Health:
    db_ok = await state.db.ping()
    return Health(
        status="ok" if db_ok else "degraded",
        version=__version__,
        uptime_s=round(state.uptime_s, 3),
        db=DatabaseHealth(ok=db_ok, revision=state.schema_revision),
    )
