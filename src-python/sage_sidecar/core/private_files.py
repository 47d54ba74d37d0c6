"""The data dir is its user's alone: conversations, API keys and logs are readable by no one else.

POSIX: folders 0700, files 0600. `restrict_new_files` (a umask, set first thing at start) makes
every file and folder the sidecar creates private, whoever creates it: SQLite's -wal and -shm,
log rotations, uploads, vector indexes, backups, a parser's temporary files. `tighten` fixes what
an older version (or the shell, which creates the data dir and its own log) left more open; the
files inside `storage/` and `vectors/` are then out of reach through their 0700 folders.
Windows: a per-user profile's ACLs already keep other users out; nothing to do.
"""

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def restrict_new_files() -> None:
    if os.name == "posix":
        os.umask(0o077)


def tighten(folders: Iterable[Path], files: Iterable[Path]) -> None:
    """Make these folders and files (those that exist) private. Best effort: a data dir on a file
    system without POSIX modes must still start."""
    if os.name != "posix":
        return
    for path, mode in [*((f, PRIVATE_DIR) for f in folders), *((f, PRIVATE_FILE) for f in files)]:
        with contextlib.suppress(FileNotFoundError, PermissionError, NotImplementedError):
            if path.stat().st_mode & 0o777 != mode:
                path.chmod(mode)
