"""A consistent, secret-free copy of the database for a backup.

SQLite's `VACUUM INTO` copies the database consistently while the app keeps writing. Secrets
(provider API keys, MCP server environment and header values) are then removed from the copy, and
a second VACUUM drops the freed pages that still held them. SQLite-specific, so it lives here.
"""

import sqlite3
from pathlib import Path


def scrubbed_database_copy(source: Path, target: Path) -> None:
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
