"""Settings → Privacy: stored secrets' encryption and the keychain (storage/secrets.py)."""

import asyncio

from fastapi import APIRouter

from sage_sidecar.api.deps import SessionDep
from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.schemas.privacy import KeychainOut, SecretsStatusOut
from sage_sidecar.storage import secrets
from sage_sidecar.storage.secrets import SecretsStatus

router = APIRouter(prefix="/api/privacy/secrets", tags=["privacy"], responses=COMMON_ERRORS)


def _out(status: SecretsStatus) -> SecretsStatusOut:
    return SecretsStatusOut(
        secrets_encrypted=status.encrypted,
        unreadable_secrets=status.unreadable,
        keychain=KeychainOut(
            available=status.keychain_available, backend=status.backend, reason=status.reason
        ),
    )


@router.get("", response_model=SecretsStatusOut)
async def secrets_status() -> SecretsStatusOut:
    return _out(await asyncio.to_thread(secrets.BOX.status))


@router.post("/retry", response_model=SecretsStatusOut)
async def retry_keychain(session: SessionDep) -> SecretsStatusOut:
    """Look for the keychain again (after unlocking or installing one) and encrypt whatever was
    stored in plaintext meanwhile."""
    return _out(await secrets.retry(session))
