"""Turning database encryption on or off from Settings → Privacy.

The conversion itself runs at the next start, with the database closed (storage/conversion.py);
this records the request. Turning encryption on makes sure the keychain works and holds the key
first, so a request that cannot succeed is refused now rather than failing at the restart.
"""

from pathlib import Path

from sage_sidecar.core import keychain
from sage_sidecar.core.errors import UpstreamError
from sage_sidecar.schemas.database_encryption import ConversionFailure, DatabaseEncryptionOut
from sage_sidecar.storage import cipher, conversion


def status(db_path: Path) -> DatabaseEncryptionOut:
    failure = conversion.last_failure(db_path)
    return DatabaseEncryptionOut(
        encrypted=cipher.is_encrypted(db_path),
        pending=conversion.pending(db_path),
        keychain=keychain.backend_name(),
        last_failure=ConversionFailure.model_validate(failure) if failure else None,
    )


def request(db_path: Path, encrypted: bool) -> DatabaseEncryptionOut:
    """Blocking (the keychain): call through a thread."""
    if encrypted == cipher.is_encrypted(db_path):
        conversion.request(db_path, None)  # already so: withdraw a change not yet applied
        return status(db_path)
    if encrypted:
        try:
            keychain.get_or_create_key(cipher.KEY_NAME, cipher.KEY_BYTES)
        except keychain.KeychainUnavailable as error:
            raise UpstreamError(
                f"The database cannot be encrypted: its key needs the system keychain, and "
                f"{error.reason}.",
                code="privacy.keychain_unavailable",
                reason=error.reason,
            ) from error
    conversion.request(db_path, "encrypted" if encrypted else "plain")
    return status(db_path)
