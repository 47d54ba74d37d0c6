import asyncio

from fastapi import APIRouter, UploadFile, status

from sage_sidecar.api.deps import StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.restore import RestoreStaged, RestoreStatus
from sage_sidecar.services import restore as service

router = APIRouter(prefix="/api/system/restore", tags=["system"], responses=COMMON_ERRORS)


@router.get("", response_model=RestoreStatus)
async def restore_status(state: StateDep) -> RestoreStatus:
    return RestoreStatus(pending=service.pending(state.settings))


@router.post("", response_model=RestoreStaged, responses=error_responses(413, 415, 422))
async def stage_restore(file: UploadFile, state: StateDep) -> RestoreStaged:
    """Check an "export everything" zip and unpack it beside the data; the sidecar's next start
    swaps it in, keeping the current data in `backups/before-restore-<time>/`. The desktop app
    restarts the sidecar right away."""
    staged = await asyncio.to_thread(service.stage, state.settings, file.file)
    return RestoreStaged(**staged.__dict__)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def discard_restore(state: StateDep) -> None:
    await asyncio.to_thread(service.discard, state.settings)
