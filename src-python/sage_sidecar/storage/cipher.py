"""The optional encrypted database: SQLCipher connections and the key they open with.

Whether `agent_platform.db` is encrypted is read from the file itself, not from a setting: a plain
SQLite file starts with "SQLite format 3\\0", a SQLCipher file with random bytes (its salt). So a
plain backup put back into the data folder simply opens as plain, and a crash during a conversion
can never leave a setting that disagrees with the file.

The key is 32 random bytes in the OS keychain under "database-key" (`core/keychain.py`), handed to
SQLCipher as a raw key (`PRAGMA key = "x'<hex>'"`, no passphrase derivation to pay on every
connection). It never touches a file, a URL, a command line or a child's environment; it lives in
this process only, cached per database so connections do not ask the keychain each time.
"""

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, cast

import sqlcipher3.dbapi2 as sqlcipher

from sage_sidecar.core import keychain
from sage_sidecar.core.errors import StartupFailure

log = logging.getLogger(__name__)

KEY_NAME = "database-key"
KEY_BYTES = 32
PLAIN_HEADER = b"SQLite format 3\x00"
MIN_PAGE_SIZE = 512

_keys: dict[Path, bytes] = {}
_keys_lock = threading.Lock()


class WrongKey(Exception):
    """The key does not open this database (or the file is not a database at all)."""


def is_encrypted(db_path: Path) -> bool:
    """True when the file looks like a SQLCipher database: not SQLite's header (SQLCipher's salt
    instead) and whole pages (every page size is a multiple of 512), so a file that is simply not
    a database is still reported as unreadable, not as encrypted. A missing or empty file is a
    new, plain database."""
    try:
        with db_path.open("rb") as file:
            header = file.read(len(PLAIN_HEADER))
            size = os.fstat(file.fileno()).st_size
    except FileNotFoundError:
        return False
    return header != PLAIN_HEADER and size > 0 and size % MIN_PAGE_SIZE == 0


def key_pragma(key: bytes) -> str:
    if len(key) != KEY_BYTES:
        raise ValueError(f"a database key has {KEY_BYTES} bytes")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def connect_encrypted(path: Path | str, key: bytes, **kwargs: Any) -> sqlcipher.Connection:
    """A SQLCipher connection keyed before anything else runs on it; raises WrongKey when the key
    does not open the file."""
    connection = sqlcipher.connect(str(path), **kwargs)
    try:
        connection.execute(key_pragma(key))
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError as error:
        connection.close()
        raise WrongKey(f"the key does not open {Path(path).name}: {error}") from error
    return connection


def forget_keys() -> None:
    """Drop the cached keys (after a conversion, or in tests that swap keychains)."""
    with _keys_lock:
        _keys.clear()


def key_for(db_path: Path) -> bytes | None:
    """The key that opens `db_path`: None for a plain database; for an encrypted one, from the
    keychain (once per process). Raises StartupFailure `storage.key_unavailable` (keychain not
    reachable, or no key in it) or `storage.wrong_key` (the stored key does not open the file):
    the sidecar then refuses to start with a message the UI shows, instead of crashing in a loop."""
    if not is_encrypted(db_path):
        return None
    resolved = db_path.resolve()
    with _keys_lock:
        if resolved in _keys:
            return _keys[resolved]
    try:
        key = keychain.get_secret(KEY_NAME)
    except keychain.KeychainUnavailable as error:
        raise key_unavailable(db_path, error.reason) from error
    if key is None:
        raise key_unavailable(db_path, f"the keychain has no entry {KEY_NAME!r}")
    try:
        connect_encrypted(db_path, key).close()
    except (WrongKey, ValueError) as error:
        raise StartupFailure(
            f"The key in the keychain does not open the encrypted database {db_path} (it was "
            "encrypted with another key); nothing was changed. Restore the right key or an export, "
            "or move the file away to start afresh.",
            code="storage.wrong_key",
            path=str(db_path),
        ) from error
    with _keys_lock:
        _keys[resolved] = key
    return key


def key_unavailable(db_path: Path, reason: str) -> StartupFailure:
    return StartupFailure(
        f"The database {db_path} is encrypted and its key cannot be read from the keychain: "
        f"{reason}. Nothing was changed. Unlock the keychain and retry, restore an export, or "
        "move the file away to start afresh (it stays encrypted, so keep it until the key is back).",
        code="storage.key_unavailable",
        path=str(db_path),
        reason=reason,
    )


def connect_sync(db_path: Path, **kwargs: Any) -> sqlite3.Connection:
    """A synchronous connection to the app's database, plain or encrypted as the file is. Typed
    as sqlite3's: SQLCipher's connection has the same interface (its own exception classes)."""
    key = key_for(db_path)
    if key is None:
        plain: sqlite3.Connection = sqlite3.connect(db_path, **kwargs)
        return plain
    return cast(sqlite3.Connection, connect_encrypted(db_path, key, **kwargs))
