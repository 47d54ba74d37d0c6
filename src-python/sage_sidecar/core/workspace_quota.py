"""A workspace's size limit: what its files take on disk, and the coded error when a write or an
upload would take it past the limit (`workspace.quota_exceeded`, HTTP 413). The agent's file tool
and the Workspace API use the same count, so neither can fill the disk past the setting."""

import os
import stat
from pathlib import Path

from sage_sidecar.core.errors import TooLargeError


class QuotaExceeded(TooLargeError):
    default_code = "workspace.quota_exceeded"

    def __init__(self, quota: int, used: int, adding: int) -> None:
        super().__init__(
            f"the workspace is full: adding {_size(adding)} to the {_size(used)} it holds "
            f"would pass its {_size(quota)} limit",
            code="workspace.quota_exceeded", quota=quota, used=used, adding=adding,
            limit=_size(quota),
        )  # fmt: skip


def _size(count: int) -> str:
    if count >= 2**20:
        return f"{count / 2**20:.1f} MB"
    return f"{count / 1024:.1f} KB" if count >= 1024 else f"{count} bytes"


def used_bytes(root: Path) -> int:
    """Bytes of every file under `root` (links count as nothing and are not followed).
    Blocking: async callers run it in a thread."""
    total = 0
    for folder, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue  # removed while we looked
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total


def check_room(root: Path, quota: int | None, adding: int, replacing: int = 0) -> None:
    """QuotaExceeded when `adding` bytes (in place of `replacing` bytes) do not fit."""
    if quota is None:
        return
    used = used_bytes(root)
    if used - replacing + adding > quota:
        raise QuotaExceeded(quota, used, adding)
