"""What the judge's tokens cost: one price table per model, and the usage totals jobs and agents carry.

Prices are USD per million tokens (input, output), public list prices without cached-input or batch
discounts, so a figure here is an upper bound. A versioned model name (``gpt-4o-mini-2024-07-18``) takes
the price of its longest listed prefix; a model that is not listed costs 0 and is logged once, so an
unknown model never breaks a verdict. ``JUDGE_PRICES_PER_MILLION`` (JSON ``{"model": [input, output]}``)
adds or overrides entries without a code change.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agent_jobs.models.jobs import JobUsage
from agent_jobs.observability import logger

# USD per 1M tokens: (input, output). Checked against the providers' pricing pages, 2025.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "o4-mini": (1.10, 4.40),
    "offline-judge-stand-in": (0.0, 0.0),
}
_warned: set[str] = set()


@lru_cache(maxsize=1)
def price_table() -> dict[str, tuple[float, float]]:
    """The built-in table plus ``JUDGE_PRICES_PER_MILLION`` (read once per process)."""
    table = dict(PRICES_PER_MILLION)
    extra = json.loads(os.environ.get("JUDGE_PRICES_PER_MILLION") or "{}")
    for model, (price_in, price_out) in extra.items():
        table[str(model)] = (float(price_in), float(price_out))
    return table


def price_of(model: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens for ``model``, by longest matching prefix; None if unlisted."""
    table = price_table()
    matches = [name for name in table if model == name or model.startswith(name + "-")]
    return table[max(matches, key=len)] if matches else None


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price = price_of(model)
    if price is None:
        if model not in _warned:
            _warned.add(model)
            logger.warning("no price for the judge model: its cost counts as 0", extra={"judge_model": model})
        return 0.0
    return round((prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000, 10)


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and their cost, added up over judge calls (retries, chunks, re-checks, auto-assign)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @classmethod
    def of_call(cls, model: str, prompt_tokens: int, completion_tokens: int) -> Usage:
        return cls(prompt_tokens, completion_tokens, cost_usd(model, prompt_tokens, completion_tokens))

    @classmethod
    def from_api(cls, value: Any) -> Usage:
        """A stored ``JobUsage`` (or nothing) back into a Usage."""
        if not isinstance(value, dict):
            return cls()
        return cls(
            int(value.get("promptTokens") or 0),
            int(value.get("completionTokens") or 0),
            float(value.get("costUsd") or 0.0),
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            round(self.cost_usd + other.cost_usd, 10),
        )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_api(self) -> JobUsage:
        return {
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "costUsd": self.cost_usd,
        }

    def counts(self) -> dict[str, int]:
        """The token counts as the metrics hook takes them."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
