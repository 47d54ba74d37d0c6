"""Export everything: one zip with a consistent copy of the database and the data folders.

The database copy (`storage/backup.py`) is consistent while the app keeps writing and has the
secrets (provider API keys, MCP server environment and header values) removed: a backup file gets
mailed, synced and forgotten, and keys can be entered again.
"""

import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sage_sidecar.core.config import Settings
from sage_sidecar.storage.backup import scrubbed_database_copy

README = """Sage backup, made {when}.

agent_platform.db  the database: agents, conversations, knowledge bases, settings
storage/           files you added (knowledge base documents)
vectors/           search indexes of the knowledge bases

API keys and MCP server secrets were removed; add them again after restoring.
To restore, quit Sage and put these files into its data folder:
{data_dir}
"""


def write_backup(settings: Settings, scratch: Path) -> Path:
    """Build the zip in `scratch` (a temporary folder the caller removes) and return its path."""
    when = datetime.now(UTC)
    database = scratch / "agent_platform.db"
    scrubbed_database_copy(settings.db_path, database)
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
