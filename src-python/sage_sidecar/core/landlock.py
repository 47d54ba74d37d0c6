"""Linux Landlock (kernel ≥ 5.13) through ctypes: an unprivileged process restricts which files it
and its future children may read and write. No package, no user namespace, no setuid helper.

Landlock only grants (a ruleset lists what is allowed beneath some folders), so "everything but the
data dir" is built by granting read on each sibling along the path from / down to the data dir:
for /home/me/.local/share/Sage/data, everything in / but home, in /home but me, … in Sage but data.
Entries created later in those folders are not granted (fail closed). The writable folders get
every right. Where the kernel has it (ABI 6, Linux 6.12), signals and abstract Unix sockets are
scoped too: the script cannot signal its supervisor, the sidecar or anything else outside.
"""

from __future__ import annotations

import ctypes
import os
import stat
from pathlib import Path

_SYS_CREATE_RULESET = 444  # the same number on every architecture (added after the unification)
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

_EXECUTE = 1 << 0
_WRITE_FILE = 1 << 1
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3
_REMOVE_DIR = 1 << 4
_REMOVE_FILE = 1 << 5
_MAKE_CHAR = 1 << 6
_MAKE_DIR = 1 << 7
_MAKE_REG = 1 << 8
_MAKE_SOCK = 1 << 9
_MAKE_FIFO = 1 << 10
_MAKE_BLOCK = 1 << 11
_MAKE_SYM = 1 << 12
_REFER = 1 << 13  # ABI 2
_TRUNCATE = 1 << 14  # ABI 3
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
_SCOPE_SIGNAL = 1 << 1  # ABI 6

_READ = _EXECUTE | _READ_FILE | _READ_DIR
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE  # the only ones a file may carry


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when it has none (or it is disabled)."""
    try:
        version = int(_libc().syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def _handled(abi: int) -> int:
    rights = (_READ | _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_CHAR | _MAKE_DIR
              | _MAKE_REG | _MAKE_SOCK | _MAKE_FIFO | _MAKE_BLOCK | _MAKE_SYM)  # fmt: skip
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def _grants(hidden: Path | None, writable: list[Path]) -> list[tuple[Path, bool]]:
    """(path, writable) pairs: readable siblings along the way to `hidden`, then `writable`."""
    grants: list[tuple[Path, bool]] = []
    if hidden is None:
        grants.append((Path("/"), False))
    else:
        keep = hidden
        for folder in hidden.parents:  # from the data dir's parent up to /
            try:
                entries = list(os.scandir(folder))
            except OSError:
                entries = []  # not listable: nothing in it is granted
            grants += [(Path(e.path), False) for e in entries if e.name != keep.name]
            keep = folder
    grants += [(path, True) for path in writable]
    grants.append((Path("/dev/null"), True))
    return grants


def restrict(hidden: str | None, writable: list[str]) -> int:
    """Build the ruleset and return its fd, to be enforced with `enforce(fd)` (in the child just
    before exec, so the supervisor itself keeps its view of /proc). -1 when Landlock is missing."""
    abi = abi_version()
    if abi < 1:
        return -1
    handled = _handled(abi)
    attr = _RulesetAttr(
        handled, 0, (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0
    )
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    libc = _libc()
    ruleset = int(libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, 0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    hidden_path = Path(hidden).resolve() if hidden else None
    writable_paths = [Path(p).resolve() for p in writable]
    for path, can_write in _grants(hidden_path, writable_paths):
        try:
            fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # gone since it was listed
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISLNK(mode):
                continue  # its target is checked when it is followed
            rights = handled if can_write else _READ
            if not stat.S_ISDIR(mode):
                rights &= _FILE_RIGHTS
            rule = _PathBeneathAttr(rights & handled, fd)
            # A refused rule (an odd file system) leaves that path ungranted: fails closed.
            libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0)
        finally:
            os.close(fd)
    return ruleset


def enforce(ruleset: int) -> None:
    """Restrict this process (and what it will exec or fork) to the ruleset. Needs
    no_new_privs (processes.forbid_new_privileges) unless the process has CAP_SYS_ADMIN."""
    if int(_libc().syscall(_SYS_RESTRICT_SELF, ruleset, 0)) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
