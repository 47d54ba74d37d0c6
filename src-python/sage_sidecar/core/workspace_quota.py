"""A workspace's size limit: what its files take on disk, and the coded error when a write or an
upload would take it past the limit (`workspace.quota_exceeded`, HTTP 413). The agent's file tool,
the code it runs (tools/run_quota.py) and the Workspace API use the same count."""

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sage_sidecar.core.errors import TooLargeError


class QuotaExceeded(TooLargeError):
    default_code = "workspace.quota_exceeded"

    def __init__(self, quota: int, used: int, adding: int) -> None:
        super().__init__(
            f"the workspace is full: adding {size_text(adding)} to the {size_text(used)} it holds "
            f"would pass its {size_text(quota)} limit",
            code="workspace.quota_exceeded", quota=quota, used=used, adding=adding,
            limit=size_text(quota),
        )  # fmt: skip


def size_text(count: int) -> str:
    if count >= 2**20:
        return f"{count / 2**20:.1f} MB"
    return f"{count / 1024:.1f} KB" if count >= 1024 else f"{count} bytes"


@dataclass(frozen=True)
class Usage:
    total: int  # bytes of every file
    largest: int  # bytes of the largest one


def usage(root: Path) -> Usage:
    """What the files under `root` take (links count as nothing and are not followed).
    Blocking: async callers run it in a thread."""
    total = largest = 0
    for folder, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue  # removed while we looked
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
                largest = max(largest, info.st_size)
    return Usage(total, largest)


def used_bytes(root: Path) -> int:
    """Bytes of every file under `root` (see `usage`)."""
    return usage(root).total


def check_room(root: Path, quota: int | None, adding: int, replacing: int = 0) -> None:
    """QuotaExceeded when `adding` bytes (in place of `replacing` bytes) do not fit."""
    if quota is None:
        return
    used = used_bytes(root)
    if used - replacing + adding > quota:
        raise QuotaExceeded(quota, used, adding)
