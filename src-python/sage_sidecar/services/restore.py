"""Restore from an "export everything" zip (services/backup.py), in two steps.

1. `stage` (the API, while the app runs): the zip is checked — a zip at all, only the names an
   export has (`agent_platform.db`, `storage/…`, `vectors/…`, `README.txt`, `manifest.json`), no
   absolute path, `..`, backslash or link, sizes that fit the disk, every file's size and SHA-256
   as the manifest says, a readable SQLite database whose schema this app knows (not one from a
   newer Sage) — and unpacked into `restore-staging/` in the data dir. A marker file
   (`restore-pending.json`) says a restore waits. Nothing in use is touched.
2. `apply_pending` (at the next start, before the database is opened): the current database
   (with its -wal/-shm), `storage/` and `vectors/` are moved, not copied, into
   `backups/before-restore-<time>/` — the safety copy — and the staged ones take their place. The
   marker records each phase, so a crash midway resumes rather than mixing two data sets.

The desktop app restarts the sidecar at once (the shell's restart_sidecar); in a browser the
restore happens whenever the sidecar next starts. A zip from before manifests existed (no
manifest.json) is accepted with the same structure checks, without checksums.
"""

import hashlib
import json
import logging
import shutil
import stat
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from sage_sidecar.core.config import Settings
from sage_sidecar.core.errors import InvalidError, TooLargeError, UnsupportedError
from sage_sidecar.services.backup import FORMAT, FORMAT_VERSION, MANIFEST
from sage_sidecar.storage.backup_files import UnreadableDatabase, database_facts
from sage_sidecar.storage.migrate import known_revisions

log = logging.getLogger(__name__)

STAGING = "restore-staging"
PENDING = "restore-pending.json"
DATABASE = "agent_platform.db"
TOP_FILES = {DATABASE, "README.txt", MANIFEST}
TOP_FOLDERS = ("storage", "vectors")
MAX_ENTRIES = 500_000
MAX_TOTAL_BYTES = 64 * 1024**3
DISK_MARGIN_BYTES = 256 * 1024**2  # left free after unpacking


@dataclass(frozen=True)
class Staged:
    files: int
    bytes: int
    schema_revision: str | None
    created_at: str | None  # from the manifest
    app_version: str | None
    conversations: int
    agents: int


def _bad(detail: str, code: str = "restore.bad_zip", **params: Any) -> InvalidError:
    return InvalidError(detail, code=code, **params)


def _checked_name(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The entry's path inside the data dir; None for a folder entry. Raises for anything an
    export never has."""
    name = info.filename
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise _bad(f"{name!r} is not a path inside the backup", "restore.bad_path", path=name)
    path = PurePosixPath(name)
    if any(part in ("", ".", "..") for part in name.rstrip("/").split("/")):
        raise _bad(f"{name!r} is not a path inside the backup", "restore.bad_path", path=name)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise _bad(f"{name!r} is a link; a backup has none", "restore.bad_path", path=name)
    top = path.parts[0]
    if info.is_dir():
        if top not in TOP_FOLDERS:
            raise _bad(f"{name!r} is not part of a Sage backup", "restore.bad_path", path=name)
        return None
    if (
        len(path.parts) == 1
        and name not in TOP_FILES
        or len(path.parts) > 1
        and top not in TOP_FOLDERS
    ):
        raise _bad(f"{name!r} is not part of a Sage backup", "restore.bad_path", path=name)
    return path


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any] | None:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        return None  # an export from before manifests
    if info.file_size > 50_000_000:
        raise _bad("the manifest is too large")
    try:
        data = json.loads(archive.read(info))
    except ValueError as error:
        raise _bad("the manifest is not JSON") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _bad("this zip is not a Sage backup (its manifest says otherwise)")
    version = data.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise UnsupportedError("this backup was made by a newer Sage", code="restore.newer_backup",
                               version=str(version))  # fmt: skip
    if not isinstance(data.get("files"), list):
        raise _bad("the manifest lists no files")
    return data


def _copy_checked(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> str:
    """Unpack one file, stopping at its declared size (a header may lie); its SHA-256."""
    digest = hashlib.sha256()
    written = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as source, target.open("wb") as out:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > info.file_size:
                raise _bad(f"{info.filename!r} is larger than its header says", path=info.filename)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _database_facts(path: Path) -> tuple[str | None, int, int]:
    try:
        revision, conversations, agents = database_facts(path)
    except UnreadableDatabase as error:
        raise _bad(
            f"the backup's database cannot be read: {error}", "restore.bad_database"
        ) from error
    if revision is not None and revision not in known_revisions():
        raise UnsupportedError("the backup's database is from a newer Sage",
                               code="restore.newer_database", revision=revision)  # fmt: skip
    return revision, conversations, agents


def stage(settings: Settings, zip_file: Path | BinaryIO) -> Staged:
    """Check the zip and unpack it into the staging folder; blocking (run in a thread)."""
    staging = settings.data_dir / STAGING
    discard(settings)
    try:
        archive = zipfile.ZipFile(zip_file)
    except (zipfile.BadZipFile, OSError) as error:
        raise _bad("the file is not a zip", "restore.not_a_zip") from error
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise TooLargeError("the backup has too many files", code="restore.too_large")
        entries: dict[PurePosixPath, zipfile.ZipInfo] = {}
        for info in infos:
            path = _checked_name(info)
            if path is None:
                continue
            if path in entries:
                raise _bad(f"{info.filename!r} is in the zip twice", "restore.bad_path",
                           path=info.filename)  # fmt: skip
            entries[path] = info
        if PurePosixPath(DATABASE) not in entries:
            raise _bad("the zip has no agent_platform.db: not a Sage backup", "restore.no_database")
        total = sum(i.file_size for i in entries.values())
        free = shutil.disk_usage(settings.data_dir).free
        if total > MAX_TOTAL_BYTES or total + DISK_MARGIN_BYTES > free:
            raise TooLargeError("the backup does not fit on the disk", code="restore.too_large",
                                size=total, free=free)  # fmt: skip
        manifest = _manifest(archive)
        listed: dict[str, dict[str, Any]] = {}
        if manifest is not None:
            listed = {str(f.get("path")): f for f in manifest["files"] if isinstance(f, dict)}
            present = {str(p) for p in entries} - {"README.txt", MANIFEST}
            if set(listed) != present:
                missing = sorted(set(listed) - present)[:3] or sorted(present - set(listed))[:3]
                raise _bad("the zip's files are not the ones its manifest lists",
                           "restore.manifest_mismatch", paths=", ".join(missing))  # fmt: skip
        try:
            for path, info in entries.items():
                if str(path) in ("README.txt", MANIFEST):
                    continue
                target = staging.joinpath(*path.parts)
                if not target.resolve().is_relative_to(staging.resolve()):
                    raise _bad(f"{info.filename!r} leaves the data folder", "restore.bad_path",
                               path=info.filename)  # fmt: skip
                digest = _copy_checked(archive, info, target)
                expected = listed.get(str(path))
                if expected is not None and (expected.get("sha256") != digest
                                             or expected.get("size") != info.file_size):  # fmt: skip
                    raise _bad(f"{path} is not the file the manifest lists (damaged?)",
                               "restore.manifest_mismatch", paths=str(path))  # fmt: skip
            revision, conversations, agents = _database_facts(staging / DATABASE)
        except BaseException:
            discard(settings)
            raise
    marker = {"phase": "staged", "staged_at": datetime.now(UTC).isoformat()}
    _write_marker(settings, marker)
    return Staged(
        files=len(entries), bytes=total, schema_revision=revision,
        created_at=(manifest or {}).get("created_at"), app_version=(manifest or {}).get("app_version"),
        conversations=conversations, agents=agents,
    )  # fmt: skip


def pending(settings: Settings) -> bool:
    return (settings.data_dir / PENDING).exists()


def discard(settings: Settings) -> None:
    """Forget a staged restore (the user cancelled, or a new one replaces it)."""
    (settings.data_dir / PENDING).unlink(missing_ok=True)
    shutil.rmtree(settings.data_dir / STAGING, ignore_errors=True)


def _write_marker(settings: Settings, marker: dict[str, Any]) -> None:
    path = settings.data_dir / PENDING
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(marker))
    partial.replace(path)  # atomic: a crash leaves the old marker or the new one


def _current_items(settings: Settings) -> list[Path]:
    db = settings.db_path
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"),
            settings.storage_dir, settings.vectors_dir]  # fmt: skip


def apply_pending(settings: Settings) -> Path | None:
    """At start, before the database is opened: swap a staged restore in. Returns the safety
    copy's folder when a restore was applied."""
    marker_path = settings.data_dir / PENDING
    staging = settings.data_dir / STAGING
    if not marker_path.exists():
        if staging.exists():  # unpacking was cut off before the marker: never applied
            shutil.rmtree(staging, ignore_errors=True)
        return None
    try:
        marker = json.loads(marker_path.read_text())
    except ValueError:
        marker = {"phase": "staged"}
    if marker.get("phase") == "staged":
        if not (staging / DATABASE).is_file():
            log.error("restore: the staged backup is gone; nothing was changed")
            marker_path.unlink(missing_ok=True)
            return None
        safety = settings.backups_dir / f"before-restore-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        marker = {**marker, "phase": "moving", "safety": str(safety)}
        _write_marker(settings, marker)
    safety = Path(marker["safety"])
    if marker.get("phase") == "moving":
        safety.mkdir(parents=True, exist_ok=True)
        for item in _current_items(settings):
            if item.exists():
                shutil.move(item, safety / item.name)
        _write_marker(settings, {**marker, "phase": "placing"})
    for name in (DATABASE, *TOP_FOLDERS):
        source = staging / name
        if source.exists():
            shutil.move(source, settings.data_dir / name)
    shutil.rmtree(staging, ignore_errors=True)
    marker_path.unlink(missing_ok=True)
    settings.ensure_layout()  # storage/ and vectors/ exist even if the backup had none
    log.warning("restore: the backup is in place; the data it replaced is in %s", safety)
    return safety
