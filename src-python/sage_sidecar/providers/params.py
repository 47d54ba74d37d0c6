"""Which model parameters a provider and model take. Where one is not taken it is left out of the
request, never sent to fail: a reasoning effort for a model that does not reason, a seed for
Anthropic (its API has none), a temperature for OpenAI's reasoning models (they refuse one).

Sources: OpenAI's reasoning guide (o-series and gpt-5 take `reasoning_effort`, `minimal` only
gpt-5; they take `max_completion_tokens`, not `max_tokens`, and refuse `temperature`/`top_p`);
Anthropic's extended-thinking docs (Claude 3.7 Sonnet and the 4.x models; `budget_tokens` ≥ 1024
and below `max_tokens`; not with a changed `temperature` or `top_k`, `top_p` only 0.95–1); Ollama's
OpenAI-compatibility page (its /v1 maps temperature, top_p, seed, stop and max_tokens to the
model's options)."""

import re

_OPENAI_REASONING = re.compile(r"^(o[1-9](?!.*-chat)|gpt-5(?!.*-chat))")
_ANTHROPIC_THINKING = re.compile(r"^claude-(3-7-sonnet|(sonnet|opus|haiku)-4|4)")
# An effort as Anthropic's thinking budget (tokens).
THINKING_BUDGET = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384}


def bare_name(model: str) -> str:
    """`openai/o3-mini:latest` → `o3-mini`: the routing prefix and tag say nothing here."""
    return model.lower().rsplit("/", 1)[-1].split(":", 1)[0]


def openai_reasoning(model: str) -> bool:
    return bool(_OPENAI_REASONING.match(bare_name(model)))


def anthropic_thinking(model: str) -> bool:
    return bool(_ANTHROPIC_THINKING.match(bare_name(model)))


def takes_reasoning_effort(kind: str, model: str) -> bool:
    """Ollama and LM Studio are left out: a model there that does not think refuses the field."""
    if kind == "anthropic":
        return anthropic_thinking(model)
    return kind == "openai" and openai_reasoning(model)


def takes_seed(kind: str) -> bool:
    return kind != "anthropic"


def openai_effort(model: str, effort: str) -> str:
    """o-series models know low, medium and high; `minimal` is gpt-5's."""
    if effort == "minimal" and not bare_name(model).startswith("gpt-5"):
        return "low"
    return effort
