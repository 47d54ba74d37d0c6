"""Export everything: one zip with a consistent copy of the database and the data folders.

The database copy is made with SQLite's `VACUUM INTO`, which is consistent while the app keeps
writing. Secrets (provider API keys, MCP server environment and header values) are removed from
the copy: a backup file gets mailed, synced and forgotten, and keys can be entered again.
"""

import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sage_sidecar.core.config import Settings
from sage_sidecar.schemas.system import DataLocation, SystemInfo

README = """Sage backup, made {when}.

agent_platform.db  the database: agents, conversations, knowledge bases, settings
storage/           files you added (knowledge base documents)
vectors/           search indexes of the knowledge bases

API keys and MCP server secrets were removed; add them again after restoring.
To restore, quit Sage and put these files into its data folder:
{data_dir}
"""


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def system_info(settings: Settings) -> SystemInfo:
    def location(path: Path) -> DataLocation:
        return DataLocation(path=str(path), bytes=folder_bytes(path))

    return SystemInfo(
        data_dir=str(settings.data_dir),
        logs_dir=str(settings.logs_dir),
        database=location(settings.db_path),
        storage=location(settings.storage_dir),
        vectors=location(settings.vectors_dir),
    )


def _scrubbed_database_copy(source: Path, target: Path) -> None:
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


def write_backup(settings: Settings, scratch: Path) -> Path:
    """Build the zip in `scratch` (a temporary folder the caller removes) and return its path."""
    when = datetime.now(UTC)
    database = scratch / "agent_platform.db"
    _scrubbed_database_copy(settings.db_path, database)
    archive = scratch / f"sage-backup-{when:%Y%m%d-%H%M%S}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr(
            "README.txt",
            README.format(when=f"{when:%Y-%m-%d %H:%M} UTC", data_dir=settings.data_dir),
        )
        out.write(database, "agent_platform.db")
        for folder in (settings.storage_dir, settings.vectors_dir):
            for path in sorted(folder.rglob("*")) if folder.exists() else []:
                if path.is_file():
                    out.write(path, str(path.relative_to(settings.data_dir)))
    return archive
