from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

ProviderKind = Literal["openai", "ollama", "lmstudio", "anthropic"]

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "lmstudio": "http://127.0.0.1:1234/v1",
    "anthropic": "https://api.anthropic.com",  # the client adds /v1/...
}

BaseUrl = Field(default=None, pattern=r"^https?://[^\s]+$", max_length=2000)


class ProviderCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: ProviderKind
    base_url: str | None = BaseUrl
    api_key: SecretStr | None = None
    default_model: str | None = Field(default=None, max_length=200)
    enabled: bool = True


class ProviderUpdate(BaseModel):
    """Omitted fields stay as they are; `api_key: ""` removes the stored key."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    base_url: str | None = BaseUrl
    api_key: SecretStr | None = None
    default_model: str | None = Field(default=None, max_length=200)
    enabled: bool | None = None


class ProviderOut(BaseModel):
    """The key itself is write-only: only whether one is set comes back."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: str
    base_url: str
    default_model: str | None
    enabled: bool
    has_api_key: bool
    created_at: datetime
    updated_at: datetime


class ConnectionVerdict(BaseModel):
    ok: bool
    verdict: Literal["ok", "bad_key", "unreachable", "wrong_url", "error"]
    message: str
    models: list[str] = []


class DetectedServer(BaseModel):
    kind: ProviderKind
    base_url: str
    models: list[str]
