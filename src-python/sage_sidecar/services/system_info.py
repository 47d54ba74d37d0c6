"""Where the data lives and how big each part is (Settings → Data)."""

from pathlib import Path

from sage_sidecar.core.config import Settings
from sage_sidecar.schemas.system import DataLocation, SystemInfo


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def system_info(settings: Settings) -> SystemInfo:
    def location(path: Path) -> DataLocation:
        return DataLocation(path=str(path), bytes=folder_bytes(path))

    return SystemInfo(
        data_dir=str(settings.data_dir),
        logs_dir=str(settings.logs_dir),
        database=location(settings.db_path),
        storage=location(settings.storage_dir),
        vectors=location(settings.vectors_dir),
    )
