"""Settings → Web search at the API boundary. The API key is write-only, like a provider's."""

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

Backend = Literal["none", "searxng", "brave", "tavily"]
Url = Field(default=None, pattern=r"^https?://[^\s/?#]+[^\s?#]*$", max_length=2000)


class WebSearchSettingsIn(BaseModel):
    backend: Backend = "none"
    searxng_url: str | None = Url
    api_key: SecretStr | None = Field(
        default=None, max_length=500, description="Brave or Tavily; omitted: kept, empty: cleared"
    )
    api_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#]+[^\s?#]*$",
        max_length=2000,
        description="Brave's or Tavily's endpoint when it is not the public one (a gateway)",
    )
    max_results: int = Field(default=5, ge=1, le=10)


class WebSearchSettingsOut(BaseModel):
    backend: Backend
    searxng_url: str | None
    has_api_key: bool
    api_url: str | None
    max_results: int
    endpoint_host: str | None = Field(description="Where queries go (the agents' domain limits)")


class WebSearchTest(BaseModel):
    query: str = Field(default="Sage Desktop", min_length=1, max_length=400)


class WebSearchHit(BaseModel):
    title: str
    url: str
    snippet: str


class WebSearchTestResult(BaseModel):
    results: list[WebSearchHit]
