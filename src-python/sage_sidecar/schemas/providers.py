import re
from typing import Annotated, Literal

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from sage_sidecar.schemas.timestamps import UtcDateTime

ProviderKind = Literal["openai", "ollama", "lmstudio", "anthropic"]

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "lmstudio": "http://127.0.0.1:1234/v1",
    "anthropic": "https://api.anthropic.com",  # the client adds /v1/...
}


def usable_url(value: str) -> str:
    """A URL the HTTP client can send a request to: a host it can encode (IDNA), a valid port.
    Checked when it is saved, so a provider's test and model list never meet it."""
    try:
        url = httpx.URL(value)
        host, port = url.host, url.port  # `host` decodes the IDNA name: it can fail too
    except (httpx.InvalidURL, ValueError) as error:  # idna.IDNAError is a ValueError
        raise ValueError(f"not a usable URL ({error})") from None
    if not host:
        raise ValueError("the URL has no host")
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    return value


BaseUrl = Annotated[
    str, Field(pattern=r"^https?://[^\s]+$", max_length=2000), AfterValidator(usable_url)
]
HEADER_SAFE = r"^[\x20-\x7e]*$"


def header_safe(value: SecretStr) -> SecretStr:
    if not re.fullmatch(HEADER_SAFE, value.get_secret_value()):
        raise ValueError("an API key is printable ASCII (it is sent in an HTTP header)")
    return value


# Sent in an HTTP header (`Authorization`, `x-api-key`), which carries ASCII only. SecretStr
# ignores `pattern`: the validator checks it, the schema states it.
ApiKey = Annotated[
    SecretStr,
    Field(max_length=1000, json_schema_extra={"pattern": HEADER_SAFE}),
    AfterValidator(header_safe),
]


class ProviderCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: ProviderKind
    base_url: BaseUrl | None = None
    api_key: ApiKey | None = None
    default_model: str | None = Field(default=None, max_length=200)
    enabled: bool = True


class ProviderUpdate(BaseModel):
    """Omitted fields stay as they are; `api_key: ""` removes the stored key."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    base_url: BaseUrl | None = None
    api_key: ApiKey | None = None
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
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ConnectionVerdict(BaseModel):
    ok: bool
    verdict: Literal["ok", "bad_key", "unreachable", "proxy_unreachable", "wrong_url", "error"]
    message: str
    models: list[str] = []


class DetectedServer(BaseModel):
    kind: ProviderKind
    base_url: str
    models: list[str]
