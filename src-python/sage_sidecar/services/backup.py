"""Export everything: one zip with a consistent copy of the database and the data folders.

The database copy (`storage/backup.py`) is consistent while the app keeps writing and has the
secrets (provider API keys, MCP server environment and header values) removed: a backup file gets
mailed, synced and forgotten, and keys can be entered again.
"""

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sage_sidecar import __version__
from sage_sidecar.core.config import Settings
from sage_sidecar.storage.backup import scrubbed_database_copy
from sage_sidecar.storage.backup_files import scrub_settings
from sage_sidecar.storage.migrate import stored_revision

# Restore (services/restore.py) reads these: what the zip is, which app and schema wrote it, and
# each file's size and SHA-256.
MANIFEST = "manifest.json"
FORMAT = "sage.backup"
FORMAT_VERSION = 1
# Settings rows (app_meta) that hold secrets: the web search key, a proxy's password.
SECRET_SETTINGS: dict[str, tuple[str, ...]] = {
    "web_search.settings": ("api_key",),
    # The password sits apart from the URL, sealed (plain text when there is no keychain).
    "network.settings": ("proxy_url", "proxy_password_sealed"),
}

README = """Sage backup, made {when}.

agent_platform.db  the database: agents, conversations, knowledge bases, settings
storage/           files you added (knowledge base documents)
vectors/           search indexes of the knowledge bases

API keys and MCP server secrets were removed; add them again after restoring.
To restore: Settings → Data → Restore in Sage (it keeps your current data as a safety copy in
the backups folder first). By hand: quit Sage and put these files into its data folder:
{data_dir}
"""


def write_backup(settings: Settings, scratch: Path) -> Path:
    """Build the zip in `scratch` (a temporary folder the caller removes) and return its path."""
    when = datetime.now(UTC)
    database = scratch / "agent_platform.db"
    scrubbed_database_copy(settings.db_path, database)
    _scrub_secret_settings(database)
    archive = scratch / f"sage-backup-{when:%Y%m%d-%H%M%S}.zip"
    files: list[dict[str, object]] = []

    def add(path: Path, name: str) -> None:
        out.write(path, name)
        files.append({"path": name, "size": path.stat().st_size, "sha256": _sha256(path)})

    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr(
            "README.txt",
            README.format(when=f"{when:%Y-%m-%d %H:%M} UTC", data_dir=settings.data_dir),
        )
        add(database, "agent_platform.db")
        for folder in (settings.storage_dir, settings.vectors_dir):
            for path in sorted(folder.rglob("*")) if folder.exists() else []:
                if path.is_file() and not path.is_symlink():
                    add(path, path.relative_to(settings.data_dir).as_posix())
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "app_version": __version__,
                    "schema_revision": stored_revision(database),
                    "created_at": when.isoformat(), "files": files}  # fmt: skip
        out.writestr(MANIFEST, json.dumps(manifest, indent=1))
    return archive


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _scrub_secret_settings(database: Path) -> None:
    """The web search key and a proxy URL's password leave with the settings rows otherwise."""
    scrub_settings(database, SECRET_SETTINGS, keep_proxy=True)
