"""Sidecar settings, read from the environment the shell prepares (prefix `SAGE_`)."""

from functools import cached_property
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sage_sidecar.core.contract import MIN_API_KEY_LENGTH
from sage_sidecar.core.private_files import PRIVATE_DIR, tighten

# Origins the Tauri webview uses (macOS/Linux custom protocol, Windows http/https variant) and the
# Vite dev server. Anything else needs SAGE_CORS_ORIGINS (browser tests use it).
WEBVIEW_ORIGINS = (
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
    "http://localhost:1420",
    "http://127.0.0.1:1420",
)


def default_data_dir() -> Path:
    """Same location the shell resolves: `<user data dir>/Sage/data`."""
    return Path(platformdirs.user_data_dir("Sage", appauthor=False, roaming=True)) / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAGE_", extra="ignore")

    api_key: SecretStr
    data_dir: Path = Field(default_factory=default_data_dir)
    # The shell's pid: when set, the sidecar exits as soon as that process is gone.
    parent_pid: int | None = None
    # Extra allowed origins, comma separated (e.g. a browser-test static server).
    cors_origins: str = ""
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    # After a new conversation's first answer, ask the model for a title (one extra call).
    auto_title: bool = True
    # Chat limits: a tool call waiting longer than this for approval is denied; a model call that
    # fails before its first token is retried after each of these delays; model calls per reply's
    # tool loop.
    chat_approval_timeout_s: float = Field(default=120.0, gt=0)
    chat_retry_delays_s: tuple[float, ...] = (0.5, 1.0, 2.0)
    chat_max_tool_steps: int = Field(default=8, ge=1)
    # The context window assumed for a model neither its provider nor Sage's table knows, tokens.
    chat_context_tokens: int = Field(default=8_192, ge=1_024)
    # `scripts/run.sh --demo`: the scripted provider's base URL, configured as "Demo (scripted)".
    demo_provider_url: str | None = None
    # Largest file a knowledge base accepts (upload or path), in MB; bigger ones get a 413.
    max_upload_mb: float = Field(default=100.0, gt=0)
    # A file is parsed in a worker process (knowledge/parse_worker.py) with this wall-clock budget
    # and this memory limit; past either, that file fails with the reason.
    parse_timeout_s: float = Field(default=120.0, gt=0)
    parse_memory_mb: int = Field(default=1024, ge=128)
    # The most an agent's workspace may hold, in MB: an upload or a file tool's write that would
    # pass it is refused (workspace.quota_exceeded). The trash is not counted.
    workspace_quota_mb: float = Field(default=1024.0, gt=0)
    # Record every reply's steps (services/traces). Off only to measure what recording costs
    # (bench/traces); the UI's Details then finds no trace.
    trace_recording: bool = True
    log_level: str = "INFO"

    @field_validator("api_key")
    @classmethod
    def _key_long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_API_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_API_KEY_LENGTH} characters")
        return value

    @property
    def allowed_origins(self) -> list[str]:
        extra = [o.strip() for o in self.cors_origins.split(",") if o.strip()]
        return [*WEBVIEW_ORIGINS, *extra]

    @cached_property
    def db_path(self) -> Path:
        return self.data_dir / "agent_platform.db"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    @property
    def vectors_dir(self) -> Path:
        return self.data_dir / "vectors"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def workspace_quota_bytes(self) -> int:
        return int(self.workspace_quota_mb * 1024 * 1024)

    @property
    def backups_dir(self) -> Path:
        """Copies of the database made before each upgrade (storage/migrate.py)."""
        return self.data_dir / "backups"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def ensure_layout(self) -> None:
        folders = (self.data_dir, self.storage_dir, self.vectors_dir, self.logs_dir)
        for folder in folders:
            folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        # Private even when an older version or the shell created them more open.
        database = [self.db_path.with_name(self.db_path.name + s) for s in ("", "-wal", "-shm")]
        logs = [p for p in self.logs_dir.iterdir() if p.is_file()]
        tighten([*folders, self.backups_dir], [*database, *logs])
