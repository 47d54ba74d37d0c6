"""Turning database encryption on or off: convert `agent_platform.db` with no connection open.

The Privacy setting does not convert anything while the app runs: it writes a marker beside the
database (`agent_platform.db.conversion`, holding only "encrypted" or "plain", never a key), and
the next start converts before the migrations open the database (`migrate.upgrade_to_head`).

The steps, each leaving a database that opens whatever ends the process there:

1. prepared  the source is switched to rollback-journal mode, which checkpoints the WAL into the
             file and removes it, so the file alone is the whole database (a WAL left beside the
             new file would be replayed into it).
2. copied    SQLCipher's `sqlcipher_export` writes the converted copy (`.converting`) in one
             transaction, with the key from the keychain (created and read back before anything
             is encrypted with it).
3. verified  the copy opens with its key (or none), passes `integrity_check`, has every table with
             the same row count as the source, and is fsynced.
4. kept_old  the source is kept under another name (`.before-conversion`, a hard link) until the
             swap is durable.
5. swapped   `os.replace` puts the copy in place (atomic), the folder is fsynced.
6. cleaned   the kept source and the marker are removed; pre-upgrade copies in `backups/` are
             converted too, so turning encryption on leaves no plain copy behind.

A start that finds the marker looks at the file itself: already in the wanted state means a crash
after step 5, so only the clean-up is left; otherwise the conversion starts over (a half-written
copy is removed first). A conversion that fails leaves the database as it was, drops the marker
and records why in `agent_platform.db.conversion-failed` for the Privacy page.

Starting afresh when the key is gone (the user's choice on the start-up error): the shell writes
`agent_platform.db.start-fresh` and restarts the sidecar, which moves the database whole into
`backups/set-aside-<time>/` before anything else (`set_aside_if_asked`).

Tests set SAGE_TEST_CONVERSION_CRASH_AT=<step> to kill the process with SIGKILL right after a
step; a frozen app ignores it.
"""

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Literal

import sqlcipher3.dbapi2 as sqlcipher

from sage_sidecar.core import keychain
from sage_sidecar.storage import cipher

log = logging.getLogger(__name__)

Target = Literal["encrypted", "plain"]
STEPS = ("prepared", "copied", "verified", "kept_old", "swapped", "cleaned")
CRASH_ENV = "SAGE_TEST_CONVERSION_CRASH_AT"


def marker_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".conversion")


def failure_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".conversion-failed")


def _copy_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".converting")


def _old_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".before-conversion")


def request(db_path: Path, target: Target | None) -> None:
    """Ask the next start to convert the database to `target`; None withdraws the request."""
    failure_path(db_path).unlink(missing_ok=True)
    marker = marker_path(db_path)
    if target is None:
        marker.unlink(missing_ok=True)
        return
    _write_durably(marker, target)


def pending(db_path: Path) -> Target | None:
    try:
        text = marker_path(db_path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text if text in ("encrypted", "plain") else None  # type: ignore[return-value]


def last_failure(db_path: Path) -> dict[str, str] | None:
    """Why the last conversion did not happen ({"target", "reason"}), if it did not."""
    try:
        data = json.loads(failure_path(db_path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def start_fresh_path(db_path: Path) -> Path:
    """The shell writes this (empty) file before restarting the sidecar when the user chose to
    start afresh because the database's key is gone: the next start sets the database aside."""
    return db_path.with_name(db_path.name + ".start-fresh")


def set_aside_if_asked(db_path: Path) -> Path | None:
    """Move the database (and its WAL and shared memory) into `backups/set-aside-<time>/`, kept
    whole (still encrypted, it opens again once its key is back), when start_fresh_path exists;
    return the folder. A kill at any point resumes into the same folder: the marker holds it."""
    marker = start_fresh_path(db_path)
    if not marker.exists():
        return None
    folder_name = marker.read_text(encoding="utf-8").strip()
    if not folder_name:
        folder_name = "set-aside-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        _write_durably(marker, folder_name)
    folder = db_path.parent / "backups" / Path(folder_name).name
    folder.mkdir(parents=True, exist_ok=True)
    for name in (db_path.name, f"{db_path.name}-wal", f"{db_path.name}-shm"):
        if (db_path.parent / name).exists():
            os.replace(db_path.parent / name, folder / name)
    for leftover in (marker_path(db_path), failure_path(db_path), _copy_path(db_path)):
        leftover.unlink(missing_ok=True)
    _fsync_dir(db_path.parent)
    marker.unlink()
    _fsync_dir(db_path.parent)
    cipher.forget_keys()
    log.warning("the database was set aside in %s; starting with a new one", folder)
    return folder


def apply_pending(db_path: Path) -> None:
    """Carry out a requested conversion (start-up, before any connection). Never raises for a
    failed conversion: the database is left as it was and the failure recorded."""
    set_aside_if_asked(db_path)
    target = pending(db_path)
    _copy_path(db_path).unlink(missing_ok=True)  # a copy cut off by a crash
    if target is None:
        _old_path(db_path).unlink(missing_ok=True)
        return
    if not db_path.exists() or cipher.is_encrypted(db_path) == (target == "encrypted"):
        _finish(db_path, target)  # nothing to convert, or a crash after the swap
        return
    log.info("converting the database to %s", target)
    try:
        _convert(db_path, target)
    except Exception as error:  # noqa: BLE001 - any failure leaves the database as it was
        reason = getattr(error, "reason", None) or f"{type(error).__name__}: {error}"
        log.error("the database was not converted to %s: %s", target, reason)
        _copy_path(db_path).unlink(missing_ok=True)
        _old_path(db_path).unlink(missing_ok=True)
        marker_path(db_path).unlink(missing_ok=True)
        _write_durably(failure_path(db_path), json.dumps({"target": target, "reason": reason}))
        return
    _finish(db_path, target)
    log.info("the database is now %s", target)


def _convert(db_path: Path, target: Target) -> None:
    encrypt = target == "encrypted"
    key = keychain.get_or_create_key(cipher.KEY_NAME, cipher.KEY_BYTES) if encrypt else None
    source = _open(db_path, None if encrypt else cipher.key_for(db_path))
    copy = _copy_path(db_path)
    try:
        mode = source.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise RuntimeError(f"the database stayed in {mode} mode (is it open elsewhere?)")
        _crash_point("prepared")
        _export(source, copy, key)
        _crash_point("copied")
        _verify(source, copy, key)
    finally:
        source.close()
    if Path(f"{db_path}-wal").exists():
        raise RuntimeError("the database still has a write-ahead log beside it")
    _fsync(copy)
    _crash_point("verified")
    old = _old_path(db_path)
    old.unlink(missing_ok=True)
    os.link(db_path, old)
    _fsync_dir(db_path.parent)
    _crash_point("kept_old")
    os.replace(copy, db_path)
    _fsync_dir(db_path.parent)
    cipher.forget_keys()
    _crash_point("swapped")


def _finish(db_path: Path, target: Target) -> None:
    _old_path(db_path).unlink(missing_ok=True)
    _convert_backups(db_path, target)
    marker_path(db_path).unlink(missing_ok=True)
    _fsync_dir(db_path.parent)
    cipher.forget_keys()
    _crash_point("cleaned")


def _convert_backups(db_path: Path, target: Target) -> None:
    """Pre-upgrade copies (storage/migrate.py) follow the database, so no plain copy outlives
    turning encryption on. Best effort: a copy that fails stays as it was, and says so in the
    log (it still opens: each file is opened as it is)."""
    folder = db_path.parent / "backups"
    for backup in sorted(folder.glob(f"{db_path.stem}-*{db_path.suffix}")):
        if cipher.is_encrypted(backup) == (target == "encrypted"):
            continue
        copy = backup.with_name(backup.name + ".converting")
        try:
            key = keychain.get_or_create_key(cipher.KEY_NAME, cipher.KEY_BYTES)
            source = _open(backup, None if target == "encrypted" else key)
            try:
                copy.unlink(missing_ok=True)
                _export(source, copy, key if target == "encrypted" else None)
                _verify(source, copy, key if target == "encrypted" else None)
            finally:
                source.close()
            _fsync(copy)
            os.replace(copy, backup)
        except Exception:  # noqa: BLE001 - logged; the backup stays usable as it was
            copy.unlink(missing_ok=True)
            log.exception("the backup %s was not converted to %s", backup.name, target)


def _open(path: Path, key: bytes | None) -> sqlcipher.Connection:
    """A SQLCipher connection (it opens plain files too, and has `sqlcipher_export`), in
    autocommit mode so the statements below control their own transactions."""
    if key is None:
        return sqlcipher.connect(str(path), isolation_level=None)
    return cipher.connect_encrypted(path, key, isolation_level=None)


def _export(source: sqlcipher.Connection, copy: Path, key: bytes | None) -> None:
    key_sql = f"\"x'{key.hex()}'\"" if key is not None else "''"
    source.execute(f"ATTACH DATABASE ? AS converted KEY {key_sql}", (str(copy),))
    try:
        source.execute("BEGIN")
        source.execute("SELECT sqlcipher_export('converted')")
        version = int(source.execute("PRAGMA main.user_version").fetchone()[0])
        source.execute(f"PRAGMA converted.user_version = {version}")
        source.execute("COMMIT")
    finally:
        source.execute("DETACH DATABASE converted")


def _verify(source: sqlcipher.Connection, copy: Path, key: bytes | None) -> None:
    if cipher.is_encrypted(copy) != (key is not None):
        raise RuntimeError("the converted copy is not in the wanted form")
    converted = _open(copy, key)
    try:
        check = converted.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise RuntimeError(f"the converted copy failed its integrity check: {check[:3]}")
        tables = [
            row[0]
            for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE "
                "'CREATE VIRTUAL TABLE%' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            want = source.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
            got = converted.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
            if want != got:
                raise RuntimeError(f"the converted copy has {got} rows in {table}, not {want}")
    finally:
        converted.close()


def _write_durably(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    _fsync(partial)
    os.replace(partial, path)
    _fsync_dir(path.parent)


def _fsync(path: Path) -> None:
    with path.open("rb+") as file:
        os.fsync(file.fileno())


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":
        return  # no directory handles to fsync; NTFS journals the rename itself
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _crash_point(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step and not getattr(sys, "frozen", False):
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
