"""A skill's files, from a .zip or an uploaded folder, checked and unpacked into a fresh staging
folder; `store` then moves that folder into place. Everything that could hurt is refused with a
coded, readable error, before or while writing, and a refusal keeps nothing:

- a path that escapes (`..`, absolute, a drive letter, a reserved or unrepresentable name: the
  same check as workspace paths, core/confinement.py) or names the same file twice;
- a symbolic link (a zip entry whose Unix mode is a link; an upload cannot carry one);
- an encrypted entry; more than MAX_FILES files; a file over MAX_FILE_BYTES, or all of them over
  MAX_TOTAL_BYTES, counted as declared and again as the bytes are inflated (a zip bomb stops at
  the limit, whatever its header says).

A folder wrapped in one top folder (`my-skill/SKILL.md`, as most zips and every dropped folder
are) is unwrapped; macOS and Windows litter (`__MACOSX/`, `.DS_Store`, `Thumbs.db`) is skipped.
"""

import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sage_sidecar.core.confinement import NOFOLLOW, PathRefused, confine, path_parts
from sage_sidecar.core.errors import InvalidError, TooLargeError
from sage_sidecar.services.skills.skill_md import SKILL_FILE

MAX_FILES = 500
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024  # unpacked
MAX_UPLOAD_BYTES = MAX_TOTAL_BYTES + 1024 * 1024  # the request body: a zip, or a folder's files
_LITTER_DIRS = frozenset({"__MACOSX"})
_LITTER_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Entry:
    """One file of a skill as it arrives: its path as sent, its declared size, how to read it."""

    path: str
    size: int
    open: Callable[[], BinaryIO]
    is_link: bool = False
    is_dir: bool = False


def folder_entries(folder: Path) -> list[Entry]:
    """A folder on this computer as entries (the desktop's folder dialog, the shipped skills),
    walked without following links and stopped past MAX_FILES files (or 10 times as many
    entries), so picking a huge folder by mistake costs a moment, not a walk of the disk. A link
    is listed (and refused like a zip's); a device, socket or pipe is refused here."""
    try:
        if folder.is_symlink() or not folder.is_dir():
            raise _not_a_folder(str(folder))
    except (OSError, ValueError):  # a NUL byte, a path too long
        raise _not_a_folder(str(folder)[:300]) from None
    entries: list[Entry] = []
    seen = files = 0
    pending = [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                children = sorted(listing, key=lambda e: e.name)
        except OSError as error:
            raise InvalidError(f"{error.filename!r} cannot be read", code="skill.unreadable",
                               path=str(error.filename)) from None  # fmt: skip
        for child in children:
            seen += 1
            if seen > 10 * MAX_FILES:
                raise _too_many()
            path = Path(child.path)
            rel = path.relative_to(folder).as_posix()
            if child.is_symlink():
                entries.append(Entry(rel, 0, _file_opener(path), is_link=True))
            elif child.is_dir(follow_symlinks=False):
                entries.append(Entry(rel, 0, _file_opener(path), is_dir=True))
                pending.append(path)
            elif child.is_file(follow_symlinks=False):
                files += 1
                if files > MAX_FILES:
                    raise _too_many()
                size = child.stat(follow_symlinks=False).st_size
                entries.append(Entry(rel, size, _file_opener(path)))
            else:
                raise InvalidError(f"{rel!r} is not a regular file (a device, socket or pipe)",
                                   code="skill.special_file", path=rel)  # fmt: skip
    return entries


def _file_opener(path: Path) -> Callable[[], BinaryIO]:
    def open_file() -> BinaryIO:
        try:
            return os.fdopen(os.open(path, os.O_RDONLY | NOFOLLOW), "rb")
        except OSError:
            raise InvalidError(f"{path.name!r} cannot be read", code="skill.unreadable",
                               path=path.name) from None  # fmt: skip

    return open_file


def _not_a_folder(path: str) -> InvalidError:
    return InvalidError(f"{path!r} is not a folder or a .zip on this computer",
                        code="skill.not_a_folder", path=path)  # fmt: skip


def zip_entries(archive: zipfile.ZipFile) -> list[Entry]:
    infos = archive.infolist()
    if sum(not i.is_dir() for i in infos) > MAX_FILES:
        raise _too_many()
    entries = []
    for info in infos:
        if info.flag_bits & 0x1:
            raise InvalidError(f"{info.filename!r} is encrypted; export the skill without a "
                               "password", code="skill.encrypted", path=info.filename)  # fmt: skip
        mode = info.external_attr >> 16
        entries.append(Entry(info.filename, info.file_size, _opener(archive, info),
                             is_link=stat.S_ISLNK(mode), is_dir=info.is_dir()))  # fmt: skip
    return entries


def _opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], BinaryIO]:
    return lambda: archive.open(info)  # type: ignore[return-value]


def open_zip(file: BinaryIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise InvalidError("this file is not a zip archive", code="skill.not_a_zip") from None


def unpack(entries: Iterable[Entry], staging: Path) -> int:
    """Write `entries` into `staging` (which must not exist yet); returns the bytes written.
    On any refusal `staging` is removed and the error raised."""
    staging.mkdir(parents=True)
    try:
        return _unpack(list(entries), staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _unpack(entries: list[Entry], staging: Path) -> int:
    files: list[tuple[tuple[str, ...], Entry]] = []
    declared = 0
    for entry in entries:
        parts = _parts(entry.path)
        if not parts or _litter(parts):
            continue
        if entry.is_link:
            raise InvalidError(f"{entry.path!r} is a symbolic link; skills cannot hold links",
                               code="skill.symlink", path=entry.path)  # fmt: skip
        if entry.is_dir:
            continue
        if entry.size > MAX_FILE_BYTES:
            raise _file_too_large(entry.path)
        declared += entry.size
        if declared > MAX_TOTAL_BYTES:
            raise _too_large()
        files.append((parts, entry))
    if len(files) > MAX_FILES:
        raise _too_many()
    if not files:
        raise InvalidError("there are no files in it", code="skill.empty")
    files = _unwrapped(files)
    seen: set[str] = set()
    for parts, entry in files:
        key = "/".join(parts).casefold()  # one file on a case-insensitive disk too
        if key in seen or any("/".join(parts[:i]).casefold() in seen for i in range(1, len(parts))):
            raise InvalidError(f"{entry.path!r} is in it twice", code="skill.duplicate_path",
                               path=entry.path)  # fmt: skip
        seen.add(key)
    written = 0
    for parts, entry in files:
        target = confine(staging, "/".join(parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        written += _copy(entry, target, MAX_TOTAL_BYTES - written)
    return written


def _parts(raw: str) -> tuple[str, ...]:
    try:
        return path_parts(raw, allow_root=True)
    except PathRefused as error:
        raise InvalidError(f"{raw[:300]!r} is not allowed in a skill: {error}",
                           code="skill.path_refused", path=raw[:300], reason=error.reason) from None  # fmt: skip


def _litter(parts: tuple[str, ...]) -> bool:
    return parts[0] in _LITTER_DIRS or parts[-1] in _LITTER_FILES


def _unwrapped(
    files: list[tuple[tuple[str, ...], Entry]],
) -> list[tuple[tuple[str, ...], Entry]]:
    """Without the one top folder everything is in, when SKILL.md is not at the top already."""
    if any(parts == (SKILL_FILE,) for parts, _ in files):
        return files
    tops = {parts[0] for parts, _ in files}
    if len(tops) == 1 and all(len(parts) > 1 for parts, _ in files):
        return [(parts[1:], entry) for parts, entry in files]
    return files


def _copy(entry: Entry, target: Path, room: int) -> int:
    """Copy with a count: more bytes than declared, than a file may hold or than the room left
    stops the copy (a zip whose header lies about its size is a bomb like any other)."""
    limit = min(MAX_FILE_BYTES, room, entry.size)
    count = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with entry.open() as source, os.fdopen(fd, "wb") as out:
            while chunk := source.read(_CHUNK):
                count += len(chunk)
                if count > limit:
                    if count > MAX_FILE_BYTES:
                        raise _file_too_large(entry.path)
                    if count > room:
                        raise _too_large()
                    raise _corrupt(entry.path)  # more than its header said
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError):  # a bad CRC, a truncated stream
        raise _corrupt(entry.path) from None
    return count


def _corrupt(path: str) -> InvalidError:
    return InvalidError(f"{path!r} is damaged in the archive (its size or checksum is wrong)",
                        code="skill.corrupt", path=path)  # fmt: skip


def _too_many() -> InvalidError:
    return InvalidError(f"a skill can hold at most {MAX_FILES} files",
                        code="skill.too_many_files", limit=MAX_FILES)  # fmt: skip


def _file_too_large(path: str) -> TooLargeError:
    return TooLargeError(f"{path!r} is larger than {MAX_FILE_BYTES // 2**20} MB",
                         code="skill.file_too_large", path=path, limit=MAX_FILE_BYTES)  # fmt: skip


def _too_large() -> TooLargeError:
    return TooLargeError(f"a skill can hold at most {MAX_TOTAL_BYTES // 2**20} MB of files",
                         code="skill.too_large", limit=MAX_TOTAL_BYTES)  # fmt: skip
