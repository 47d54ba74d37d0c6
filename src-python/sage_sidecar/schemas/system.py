from pydantic import BaseModel


class DataLocation(BaseModel):
    path: str
    bytes: int


class SystemInfo(BaseModel):
    """Where this sidecar keeps everything, for the Settings → Data section."""

    data_dir: str
    logs_dir: str
    database: DataLocation
    storage: DataLocation
    vectors: DataLocation
