"""A consistent, secret-free copy of the database for a backup.

SQLite's `VACUUM INTO` copies the database consistently while the app keeps writing (an encrypted
database is exported to a plain copy instead, see below). Secrets
(provider API keys, MCP server environment and header values) are then removed from the copy, and
a second VACUUM drops the freed pages that still held them. SQLite-specific, so it lives here.
"""

import sqlite3
from pathlib import Path

from sage_sidecar.storage import cipher


def _decrypted_copy(source: Path, target: Path) -> None:
    """An encrypted database's copy for a backup is plain: a backup must restore where the key is
    not (another machine, a lost keychain). SQLCipher's export, in one read transaction so the
    copy is consistent while the app keeps writing."""
    live = cipher.connect_sync(source, isolation_level=None)
    try:
        live.execute("ATTACH DATABASE ? AS plain KEY ''", (str(target),))
        live.execute("BEGIN")
        live.execute("SELECT sqlcipher_export('plain')")
        live.execute("COMMIT")
        live.execute("DETACH DATABASE plain")
    finally:
        live.close()


def scrubbed_database_copy(source: Path, target: Path) -> None:
    if cipher.is_encrypted(source):
        _decrypted_copy(source, target)
    else:
        with sqlite3.connect(source) as live:
            live.execute("VACUUM INTO ?", (str(target),))
    copy = sqlite3.connect(target)
    try:
        copy.execute("UPDATE providers SET api_key = NULL")
        copy.execute("UPDATE mcp_servers SET env = '{}', headers = '{}'")
        copy.commit()
        copy.execute("VACUUM")  # drop the freed pages that still held the secrets
    finally:
        copy.close()
