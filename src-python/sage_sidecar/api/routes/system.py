import asyncio
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from sage_sidecar.api.deps import StateDep
from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.schemas.system import SystemInfo
from sage_sidecar.services import backup
from sage_sidecar.services import system_info as info

router = APIRouter(prefix="/api/system", tags=["system"], responses=COMMON_ERRORS)


@router.get("", response_model=SystemInfo)
async def system_info(state: StateDep) -> SystemInfo:
    return await asyncio.to_thread(info.system_info, state.settings)


@router.get("/export", response_class=FileResponse)
async def export_everything(state: StateDep) -> FileResponse:
    """A zip of the database (secrets removed) and the data folders; see services/backup.py."""
    scratch = Path(tempfile.mkdtemp(prefix="sage-export-"))
    try:
        archive = await asyncio.to_thread(backup.write_backup, state.settings, scratch)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=archive.name,
        background=BackgroundTask(shutil.rmtree, scratch, ignore_errors=True),
    )
