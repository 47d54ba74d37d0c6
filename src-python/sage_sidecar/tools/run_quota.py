"""What Python code run by an agent writes counts against its workspace's size limit, like the file
tool's writes and uploads (core/workspace_quota.py).

Before a run: a workspace already at its limit refuses the run (`workspace_full`), and no file may
grow past the room left plus the largest file there (RLIMIT_FSIZE; it bounds a file's size, not
the bytes written, so a script that appends to a big file within the room is not refused). That
keeps a runaway script from filling the disk. After a run: several files can still add up past the
limit, so the workspace is measured again; over it, the model gets an error with the script's
output and the user a notice (`workspace_over_quota`). The files stay (the user decides what
goes); every write and upload is refused until enough is deleted.
"""

from pathlib import Path

from sage_sidecar.core.workspace_quota import size_text, usage
from sage_sidecar.tools.base import ToolNotice


def file_size_cap(workspace: Path, quota: int | None) -> int | None:
    """The largest file a run may leave (None: no limit), or ToolNotice when there is no room.
    Blocking: run it in a thread."""
    if quota is None:
        return None
    found = usage(workspace)
    room = quota - found.total
    if room <= 0:
        raise ToolNotice(
            f"the code did not run: the workspace is full ({size_text(found.total)} of its "
            f"{size_text(quota)} limit); delete files from it first",
            code="workspace_full", used=size_text(found.total), limit=size_text(quota),
        )  # fmt: skip
    return room + found.largest


def check_after_run(workspace: Path, quota: int | None, result: str) -> None:
    """ToolNotice (carrying the run's `result`) when the run left the workspace over its limit.
    Blocking: run it in a thread."""
    if quota is None:
        return
    used = usage(workspace).total
    if used > quota:
        raise ToolNotice(
            f"the code's files took the workspace past its {size_text(quota)} limit (it holds "
            f"{size_text(used)} now). They were kept, but nothing more can be written there until "
            "files are deleted. The run's result:",
            code="workspace_over_quota", output=result, used=size_text(used), limit=size_text(quota),
        )  # fmt: skip
