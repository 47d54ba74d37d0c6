"""Paths confined to a folder: the one check every workspace path goes through, whether it comes
from an agent's file tool or from the Workspace API (services/workspace.py).

A path is a string the client or the model chose, relative to the folder, `/` or `\\` separated.
It is refused, with a reason the UI can translate, when it:

- is empty (unless the folder itself is meant), or holds a NUL or another control character;
- is absolute (`/x`, `\\x`, `\\\\server\\share`) or names a Windows drive (`C:`, `C:x`);
- has a `..` part (even one that would stay inside: a path means what it says);
- has a part Windows cannot hold: a reserved device name (`CON`, `nul.txt`, `COM1`…), a trailing
  dot or space, or one of `<>:"|?*` (`:` also opens NTFS alternate streams);
- passes through a symbolic link (or a Windows junction) anywhere on its way, even one that
  points back inside: an agent's `run_python` can create links, and a link checked now can be
  repointed later, so the API never follows one. The last part may be a link only where the
  caller asks (`last_may_be_link`: delete and move act on the link itself, not its target).

Then the resolved path must still lie inside the folder (a second check, whatever the first
missed). File opens add O_NOFOLLOW (`open_flags`), so a link swapped in after the check is not
followed either.
"""

import os
import re
import stat
from pathlib import Path, PurePosixPath

from sage_sidecar.core.errors import InvalidError

MAX_PART = 255  # bytes of one name on every common file system
MAX_DEPTH = 64
MAX_PATH = 1024  # bytes of the whole relative path: the data dir's own path must still fit PATH_MAX
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$", re.I)
_FORBIDDEN = set('<>:"|?*')
_DRIVE = re.compile(r"^[A-Za-z]:")
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class PathRefused(InvalidError):
    """`reason` is one of: empty, nul, control, absolute, drive, traversal, reserved_name,
    trailing_dot, forbidden_character, too_long, symlink, outside."""

    default_code = "workspace.path_refused"

    def __init__(self, path: str, reason: str, detail: str) -> None:
        shown = path.replace("\x00", "\\0")[:300]
        super().__init__(
            f"{shown!r}: {detail}", code="workspace.path_refused", path=shown, reason=reason
        )
        self.reason = reason


def path_parts(raw: str, *, allow_root: bool = False) -> tuple[str, ...]:
    """The parts of `raw` after the checks that need no disk. `()` is the folder itself."""
    if not isinstance(raw, str):
        raise PathRefused(str(raw), "empty", "a path must be a string")
    if "\x00" in raw:
        raise PathRefused(raw, "nul", "a path cannot hold a NUL byte")
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise PathRefused(raw, "control", "a path cannot hold control characters")
    text = raw.replace("\\", "/")
    if text.startswith("/"):
        raise PathRefused(
            raw, "absolute", "absolute paths are not allowed; use one inside the workspace"
        )
    if _DRIVE.match(text):
        raise PathRefused(
            raw, "drive", "drive letters are not allowed; use a path inside the workspace"
        )
    parts = tuple(p for p in PurePosixPath(text).parts if p not in ("", "."))
    if not parts and not allow_root:
        raise PathRefused(raw, "empty", "a path is required")
    if len(parts) > MAX_DEPTH or len("/".join(parts).encode()) > MAX_PATH:
        raise PathRefused(
            raw, "too_long", f"a path can be at most {MAX_PATH} bytes, {MAX_DEPTH} folders deep"
        )
    for part in parts:
        _check_part(raw, part)
    return parts


def _check_part(raw: str, part: str) -> None:
    if part == "..":
        raise PathRefused(raw, "traversal", "'..' is not allowed in workspace paths")
    if len(part.encode()) > MAX_PART:
        raise PathRefused(raw, "too_long", f"a name can be at most {MAX_PART} bytes")
    if part.endswith((".", " ")):
        raise PathRefused(raw, "trailing_dot", "a name cannot end with a dot or a space")
    if _FORBIDDEN.intersection(part):
        raise PathRefused(raw, "forbidden_character", 'a name cannot hold any of < > : " | ? *')
    if _RESERVED.match(part.split(".")[0].rstrip(" ")):
        raise PathRefused(raw, "reserved_name", f"{part!r} is a reserved device name on Windows")


def _is_link(path: Path) -> bool:
    try:
        info = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    if stat.S_ISLNK(info.st_mode):
        return True
    # A Windows junction is a reparse point that is not a symlink to lstat.
    return bool(
        getattr(info, "st_file_attributes", 0) & getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
    )


def confine(
    root: Path, raw: str, *, allow_root: bool = False, last_may_be_link: bool = False
) -> Path:
    """`raw` as a path inside `root`, or PathRefused. Blocking (lstat per part): async callers
    on a request path run it in a thread or accept a few microseconds per part."""
    parts = path_parts(raw, allow_root=allow_root)
    base = root.resolve()
    current = base
    for index, part in enumerate(parts):
        current = current / part
        last = index == len(parts) - 1
        if _is_link(current) and not (last and last_may_be_link):
            raise PathRefused(raw, "symlink", "that path goes through a symbolic link")
        if not last and current.exists() and not current.is_dir():
            raise InvalidError(f"{raw!r}: {part!r} is a file, not a folder",
                               code="workspace.not_a_folder", path=raw, name=part)  # fmt: skip
    check = (
        current.parent.resolve() / current.name if last_may_be_link and parts else current.resolve()
    )
    if check != base and base not in check.parents:
        raise PathRefused(raw, "outside", "that path leads outside the workspace")
    return current


def relative(root: Path, path: Path) -> str:
    """`path` (from `confine`) as the `/`-separated path the API and the UI use."""
    return path.relative_to(root.resolve()).as_posix()
