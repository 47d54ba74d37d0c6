"""Secrets at rest: provider API keys and MCP env/header values, encrypted in their own columns.

The key ("secrets-key", 32 random bytes) lives in the OS keychain (core/keychain.py), never in the
data dir, so a copy of the database alone (a backup, a stolen disk image) does not give the
secrets away, whether or not the database itself is encrypted. A value is stored as
`enc:v1:` + base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag), with the column (and, for env and
headers, the entry's name) as associated data, so a value moved to another column or name does
not decrypt.

The columns use `SecretText` / `SecretValues` (below), so nothing above storage/ sees ciphertext.
Without a keychain the app keeps working: new values are stored as plaintext, `status()` says so,
and the next start (or a retry) with a keychain encrypts them. An encrypted value that cannot be
decrypted (the key is gone) reads as absent, and `status()` counts it.
"""

import asyncio
import base64
import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, Text, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from sage_sidecar.core import keychain, redaction

log = logging.getLogger(__name__)

PREFIX = "enc:v1:"
KEY_NAME = "secrets-key"
NONCE_BYTES = 12


@dataclass(frozen=True)
class SecretsStatus:
    encrypted: bool  # new secrets are encrypted, and every stored one is
    keychain_available: bool
    backend: str
    reason: str | None  # why the keychain cannot be used, in English
    unreadable: int  # stored secrets whose key is gone (they read as absent)


class SecretBox:
    """The process's secrets key, loaded once from the keychain (a thread: it blocks)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._aead: AESGCM | None = None
            self._checked = False
            self._backend = "none"
            self._reason: str | None = None
            self._plaintext_left = 0
            self._unreadable: set[str] = set()
        self._loading: asyncio.Task[bool] | None = None

    def load(self) -> bool:
        """Blocking: fetch (or create) the key. False, with the reason kept, when no keychain."""
        try:
            key = keychain.get_or_create_key(KEY_NAME)
            backend = keychain.backend_name()
        except keychain.KeychainUnavailable as error:
            with self._lock:
                self._aead, self._checked, self._reason = None, True, error.reason
                self._backend = "none"
            log.warning("secrets are stored unencrypted: %s", error.reason)
            return False
        with self._lock:
            self._aead, self._checked, self._reason, self._backend = (
                AESGCM(key),
                True,
                None,
                backend,
            )
        return True

    def reload(self) -> bool:
        """Blocking: look for the keychain afresh (keyring remembers its first answer), then load."""
        try:
            keychain.redetect(activate=True)  # the user asked: D-Bus may start a keychain
        except keychain.KeychainUnavailable:
            pass  # load() says why
        with self._lock:
            self._unreadable.clear()
        return self.load()

    def start_loading(self, *, again: bool = False) -> "asyncio.Task[bool]":
        self._loading = asyncio.create_task(asyncio.to_thread(self.reload if again else self.load))
        return self._loading

    async def ready(self) -> bool:
        """Wait for the key (writers call this before storing a secret)."""
        if self._loading is None:
            self.start_loading()
        assert self._loading is not None
        return await asyncio.shield(self._loading)

    @property
    def active(self) -> bool:
        return self._aead is not None

    def seal(self, value: str, purpose: str) -> str:
        redaction.KNOWN.add(value)  # the log file replaces it wherever it turns up
        aead = self._aead
        if aead is None or not value or value.startswith(PREFIX):
            return value
        nonce = os.urandom(NONCE_BYTES)
        sealed = aead.encrypt(nonce, value.encode("utf-8"), purpose.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, purpose: str) -> str | None:
        """The plaintext; None when it is encrypted and cannot be decrypted."""
        if not stored.startswith(PREFIX):
            redaction.KNOWN.add(stored)
            return stored
        aead = self._aead
        if aead is not None:
            try:
                raw = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode("ascii"))
                plain = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
                redaction.KNOWN.add(plain.decode("utf-8"))
                return plain.decode("utf-8")
            except (InvalidTag, ValueError):
                pass
        with self._lock:
            self._unreadable.add(f"{purpose}:{stored[-16:]}")
        return None

    def status(self) -> SecretsStatus:
        with self._lock:
            available = self._aead is not None
            backend, reason = self._backend, self._reason
            plaintext_left, unreadable = self._plaintext_left, len(self._unreadable)
        if not self._checked:
            # Not asked yet (no secret stored so far): say which keychain there is, not more.
            backend = keychain.backend_name()
            available = backend != "none"
        return SecretsStatus(
            encrypted=self.active and plaintext_left == 0,
            keychain_available=available,
            backend=backend,
            reason=reason,
            unreadable=unreadable,
        )

    def note_plaintext_left(self, count: int) -> None:
        with self._lock:
            self._plaintext_left = count


BOX = SecretBox()


class SecretText(TypeDecorator[str]):
    """A text column whose value is sealed by BOX (see the module's docstring)."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else BOX.seal(value, self.purpose)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else BOX.open(value, self.purpose)


class SecretValues(TypeDecorator[dict[str, Any]]):
    """A JSON object column whose string values are sealed, each with its name as context."""

    impl = JSON
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(
        self, value: dict[str, Any] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        if value is None:
            return None
        return {
            k: BOX.seal(v, f"{self.purpose}:{k}") if isinstance(v, str) else v
            for k, v in value.items()
        }

    def process_result_value(
        self, value: dict[str, Any] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        if value is None:
            return None
        # A value that cannot be decrypted keeps its name (the UI shows it is set) but reads "".
        return {
            k: (BOX.open(v, f"{self.purpose}:{k}") or "") if isinstance(v, str) else v
            for k, v in value.items()
        }


# Which columns hold secrets: (table, column, purpose, kind). The models use the same purposes.
PROVIDER_KEY = "providers.api_key"
MCP_ENV = "mcp_servers.env"
MCP_HEADERS = "mcp_servers.headers"
_TEXT_COLUMNS = [("providers", "api_key", PROVIDER_KEY)]
_VALUE_COLUMNS = [("mcp_servers", "env", MCP_ENV), ("mcp_servers", "headers", MCP_HEADERS)]


async def has_stored_secrets(session: AsyncSession) -> bool:
    """Whether any secret is stored (so the key is needed before the first read)."""
    for table, column, _ in _TEXT_COLUMNS:
        query = f"SELECT 1 FROM {table} WHERE {column} IS NOT NULL AND {column} != '' LIMIT 1"
        if await session.scalar(text(query)):
            return True
    for table, column, _ in _VALUE_COLUMNS:
        query = f"SELECT 1 FROM {table} WHERE {column} IS NOT NULL AND {column} NOT IN ('{{}}', 'null') LIMIT 1"
        if await session.scalar(text(query)):
            return True
    return False


async def encrypt_stored(session: AsyncSession) -> int:
    """Seal every stored secret still in plaintext (rows from before, or written while there was
    no keychain), and try every sealed one so `status()` counts those whose key is gone. Returns
    how many values are left in plaintext (all of them without a key). Works on the raw column
    values, below the models' types. A plaintext value replaced here is overwritten on disk too
    (secure_delete, then a WAL checkpoint that truncates), not left in a free page."""
    left = sealed = 0
    await session.execute(text("PRAGMA secure_delete=ON"))
    for table, column, purpose in _TEXT_COLUMNS:
        rows = await session.execute(
            text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} != ''")
        )
        for row_id, value in rows.all():
            if value.startswith(PREFIX):
                BOX.open(value, purpose)  # counted when unreadable
                continue
            new = BOX.seal(value, purpose)
            if new == value:
                left += 1
                continue
            sealed += 1
            await session.execute(
                text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                {"value": new, "id": row_id},
            )
    for table, column, purpose in _VALUE_COLUMNS:
        rows = await session.execute(text(f"SELECT id, {column} FROM {table}"))
        for row_id, raw in rows.all():
            values = json.loads(raw) if isinstance(raw, str) else raw
            if not isinstance(values, dict):
                continue
            changed = False
            for name, value in values.items():
                if not isinstance(value, str) or not value:
                    continue
                if value.startswith(PREFIX):
                    BOX.open(value, f"{purpose}:{name}")
                    continue
                new = BOX.seal(value, f"{purpose}:{name}")
                if new == value:
                    left += 1
                else:
                    values[name], changed = new, True
                    sealed += 1
            if changed:
                await session.execute(
                    text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                    {"value": json.dumps(values), "id": row_id},
                )
    await session.commit()
    if sealed:
        await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    await session.execute(text("PRAGMA secure_delete=OFF"))
    await session.commit()
    BOX.note_plaintext_left(left)
    if left:
        log.warning("%d stored secret(s) remain unencrypted (no keychain)", left)
    return left


async def open_at_start(session: AsyncSession) -> None:
    """At start: look for the key in the background; when secrets are stored, wait for it (they
    must decrypt before anything reads them) and seal those still in plaintext."""
    BOX.reset()
    BOX.start_loading()
    if await has_stored_secrets(session):
        await BOX.ready()
        await encrypt_stored(session)


async def retry(session: AsyncSession) -> SecretsStatus:
    """Look for the keychain again (the user unlocked or installed one), then seal what is
    stored in plaintext."""
    BOX.start_loading(again=True)
    await BOX.ready()
    await encrypt_stored(session)
    return await asyncio.to_thread(BOX.status)
