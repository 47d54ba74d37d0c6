"""Settings → Privacy: the encrypted database option (services/database_encryption.py)."""

import asyncio

from fastapi import APIRouter

from sage_sidecar.api.deps import StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.database_encryption import DatabaseEncryptionIn, DatabaseEncryptionOut
from sage_sidecar.services import database_encryption as encryption

router = APIRouter(prefix="/api/privacy/database", tags=["privacy"], responses=COMMON_ERRORS)


@router.get("", response_model=DatabaseEncryptionOut)
async def get_database_encryption(state: StateDep) -> DatabaseEncryptionOut:
    return await asyncio.to_thread(encryption.status, state.settings.db_path)


@router.put("", response_model=DatabaseEncryptionOut, responses=error_responses(502))
async def set_database_encryption(
    body: DatabaseEncryptionIn, state: StateDep
) -> DatabaseEncryptionOut:
    """Records the change; the database is converted when the sidecar next starts (the app
    restarts it at once). Sending the current state withdraws a change not yet applied."""
    return await asyncio.to_thread(encryption.request, state.settings.db_path, body.encrypted)
