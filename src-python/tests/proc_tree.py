"""Reading a process's children from /proc (Linux), safe against threads and children that end
while we read: a task listed by iterdir() may be gone before its `children` file is opened, and a
child may exit before its cmdline is read. Both mean "not there", never an error."""

from pathlib import Path


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (_read(task / "children") or b"").split()}
    return found


def children_running(pid: int, *markers: bytes) -> list[int]:
    """The children of `pid` whose command line contains any of `markers`, in pid order."""
    found = []
    for child in sorted(children_of(pid)):
        cmdline = _read(Path(f"/proc/{child}/cmdline")) or b""
        if any(marker in cmdline for marker in markers):
            found.append(child)
    return found


def thread_nices(pid: int) -> list[int]:
    """The nice value of every thread of `pid` still alive while read."""
    nices = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = _read(task / "stat")
        if stat is not None:
            nices.append(int(stat.rsplit(b")", 1)[1].split()[16]))
    return nices
