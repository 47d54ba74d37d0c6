"""A consistent, secret-free copy of the database for a backup.

SQLite's `VACUUM INTO` copies the database consistently while the app keeps writing (an encrypted
database is exported to a plain copy instead, see below). Secrets
(provider API keys, MCP server environment and header values) are then removed from the copy, as
are credentials carried in provider base URLs, MCP URLs and MCP arguments (`?api_key=`, `--token x`,
`https://user:pass@`, core/redaction.py), and a second VACUUM drops the freed pages that held them. SQLite-specific, so it lives here.
"""

import json
import sqlite3
from pathlib import Path

from sage_sidecar.core.redaction import scrub_args, scrub_url
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
        _scrub_urls_and_args(copy)
        copy.commit()
        copy.execute("VACUUM")  # drop the freed pages that still held the secrets
    finally:
        copy.close()


def _scrub_urls_and_args(copy: sqlite3.Connection) -> None:
    for row_id, base_url in copy.execute("SELECT id, base_url FROM providers").fetchall():
        clean = scrub_url(base_url)
        if clean != base_url:
            copy.execute("UPDATE providers SET base_url = ? WHERE id = ?", (clean, row_id))
    for row_id, url, args in copy.execute("SELECT id, url, args FROM mcp_servers").fetchall():
        values = json.loads(args) if args else []
        clean_url, clean_args = scrub_url(url), scrub_args(values)
        if clean_url != url or clean_args != values:
            copy.execute(
                "UPDATE mcp_servers SET url = ?, args = ? WHERE id = ?",
                (clean_url, json.dumps(clean_args), row_id),
            )
