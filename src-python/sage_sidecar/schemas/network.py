"""Settings → Network at the API boundary: the proxy, the extra certificate authorities, and
the connection check."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

MAX_PEM = 1_000_000

BypassHost = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.*:\[\]_-]+$")]


class NetworkSettings(BaseModel):
    """What is saved. A proxy URL's password is write-only: it comes back as `***`, and a URL
    sent back with `***` keeps the saved password."""

    mode: Literal["system", "custom", "direct"] = Field(
        default="system",
        description="system: the environment's or the OS's proxy; custom: `proxy_url`; direct",
    )
    proxy_url: str | None = Field(
        default=None,
        max_length=2000,
        description="http://, https://, socks5:// or socks5h://host:port, user:password@ allowed",
    )
    bypass: list[BypassHost] = Field(
        default=["localhost", "127.0.0.1", "::1"],
        max_length=200,
        description="Custom mode: hosts (and their subdomains) reached directly",
    )
    extra_ca_pem: str = Field(
        default="", max_length=MAX_PEM, description="PEM certificates trusted besides certifi's"
    )
    extra_ca_path: str | None = Field(
        default=None,
        max_length=4096,
        pattern=r"^[^\x00]+$",
        description="A PEM file read at every start (a CA that is renewed in place)",
    )


class CertificateInfo(BaseModel):
    subject: str
    not_after: str  # ISO date
    source: Literal["pasted", "file"]


class NetworkSettingsOut(NetworkSettings):
    certificates: list[CertificateInfo] = Field(description="The extra CAs, as Sage read them")
    system_proxy: str | None = Field(
        description="The proxy system mode uses for https:// (environment or OS), if any"
    )


class NetworkCheck(BaseModel):
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000)


class NetworkCheckResult(BaseModel):
    ok: bool
    status: int
    proxy: str | None = Field(description="The proxy the request went through (password hidden)")
