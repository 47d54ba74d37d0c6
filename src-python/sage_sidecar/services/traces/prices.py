"""Estimated cost: tokens × the model's price, in USD per million tokens.

Sage ships prices for common models (list prices when this was written: estimates, which the user
edits in Settings → Usage). A model is matched exactly, then by the longest shipped or set name it
starts with after any `vendor/` prefix ("openai/gpt-4o-mini-2024-07-18" → "gpt-4o-mini"). Local
servers (Ollama, LM Studio) cost nothing. Anything else has no price: its cost is unknown, never 0.
"""

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.storage.models import ModelPrice

LOCAL_KINDS = frozenset({"ollama", "lmstudio"})

# model → (input, output) USD per million tokens.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
    "o3": (2.0, 8.0),
    "o3-mini": (1.1, 4.4),
    "o4-mini": (1.1, 4.4),
    "claude-opus-4": (15.0, 75.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-3-5-sonnet": (3.0, 15.0),
    "claude-3-5-haiku": (0.8, 4.0),
    "deepseek-chat": (0.27, 1.1),
    "deepseek-reasoner": (0.55, 2.19),
    "gemini-2.5-pro": (1.25, 10.0),
    "gemini-2.5-flash": (0.3, 2.5),
    "mistral-large": (2.0, 6.0),
}


@dataclass(frozen=True)
class Price:
    model: str
    input_per_mtok: float
    output_per_mtok: float
    source: str  # default | user | local


class PriceBook:
    """The prices in force: shipped defaults, overridden by the user's."""

    def __init__(self, user: dict[str, tuple[float, float]]) -> None:
        self.table = {**DEFAULT_PRICES, **user}
        self.user = user

    def price(self, model: str, provider_kind: str = "") -> Price | None:
        if provider_kind in LOCAL_KINDS and model not in self.user:
            return Price(model, 0.0, 0.0, "local")
        name = model.rsplit("/", 1)[-1]
        for candidate in (model, name):
            if candidate in self.table:
                return self._price(candidate)
        matches = [m for m in self.table if name.startswith(m) or model.startswith(m)]
        return self._price(max(matches, key=len)) if matches else None

    def _price(self, model: str) -> Price:
        inp, out = self.table[model]
        return Price(model, inp, out, "user" if model in self.user else "default")

    def cost(self, model: str, provider_kind: str, prompt: int, completion: int) -> float | None:
        price = self.price(model, provider_kind)
        if price is None:
            return None
        return (prompt * price.input_per_mtok + completion * price.output_per_mtok) / 1_000_000

    def listing(self) -> list[Price]:
        return [self._price(m) for m in sorted(self.table)]


async def price_book(session: AsyncSession) -> PriceBook:
    rows = await session.scalars(select(ModelPrice))
    return PriceBook({r.model: (r.input_per_mtok, r.output_per_mtok) for r in rows})


async def set_price(session: AsyncSession, model: str, inp: float, out: float) -> None:
    row = await session.get(ModelPrice, model)
    if row is None:
        session.add(ModelPrice(model=model, input_per_mtok=inp, output_per_mtok=out))
    else:
        row.input_per_mtok, row.output_per_mtok = inp, out
    await session.commit()


async def reset_price(session: AsyncSession, model: str) -> None:
    """Back to the shipped default (or to no price, for a model Sage ships none for)."""
    await session.execute(delete(ModelPrice).where(ModelPrice.model == model))
    await session.commit()
