"""Model parameters: what an agent sets and a conversation may override, with their ranges. A
value out of range is a 422 (`request.invalid`, each problem in `params.errors`). Whether a
provider takes a parameter is the provider client's business (providers/params.py): one it does
not take is left out of the request, not an error."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ReasoningEffort = Literal["minimal", "low", "medium", "high"]
ContextPolicy = Literal["drop", "summarise"]
StopSequence = Annotated[str, Field(min_length=1, max_length=100)]
# OpenAI takes at most four stop sequences; Anthropic more, but four is what a user needs.
MAX_STOP = 4
SEED_MAX = 2**63 - 1


def unique_stops(stop: list[str] | None) -> list[str] | None:
    return None if stop is None else list(dict.fromkeys(stop))


class ModelParams(BaseModel):
    """A conversation's own parameters over its agent's: each one left out (or null) is the
    agent's. Also the shape of the resolved set a reply uses (services/context/params.py)."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stop: list[StopSequence] | None = Field(default=None, max_length=MAX_STOP)
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)
    reasoning_effort: ReasoningEffort | None = None

    _unique_stops = field_validator("stop")(classmethod(lambda cls, v: unique_stops(v)))


class ContextSettings(BaseModel):
    default_context_tokens: int = Field(
        ge=1_024,
        le=10_000_000,
        description="The context window assumed for a model neither its provider nor Sage knows",
    )
