"""Token prices: the table shipped in the package, extended by the user's file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from assay.errors import ConfigError

# What may follow a priced name for the price to apply: a dated or numbered snapshot
# (gpt-4o-2024-08-06, claude-3-5-sonnet-20241022, gemini-2.0-flash-001) or a moving
# alias. Anything else names another model: o3-pro is not o3 (it costs 10x), nor is
# gemini-2.5-flash-lite gemini-2.5-flash.
_SNAPSHOT = re.compile(r"[-@:.]?(?:\d{4}-?\d{2}-?\d{2}|\d{3,}|latest|preview)$")


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens."""

    input: float
    output: float


def _parse(data: dict[str, Any], source: str) -> dict[str, Price]:
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"{source}: [models] must be a table of model names")
    table: dict[str, Price] = {}
    for name, entry in models.items():
        try:
            table[name.lower()] = Price(float(entry["input"]), float(entry.get("output", 0.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"{source}: models.{name} needs numeric `input` (and `output`) prices per "
                "million tokens"
            ) from exc
    return table


class PriceTable:
    """Looks up a model's price by exact name, then by a snapshot of a priced name."""

    def __init__(self, overrides: Path | None = None) -> None:
        shipped = resources.files("assay.ingest").joinpath("prices.toml").read_text()
        self._table = _parse(tomllib.loads(shipped), "prices.toml")
        if overrides is not None:
            try:
                data = tomllib.loads(overrides.read_text())
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"prices file {overrides}: {exc}") from exc
            self._table.update(_parse(data, str(overrides)))
        self._prefixes = sorted(self._table, key=len, reverse=True)
        self._cache: dict[str, Price | None] = {}

    def price(self, model: str) -> Price | None:
        """The price of ``model`` (e.g. ``gpt-4o-mini-2024-07-18``), or None if unknown."""
        key = model.lower()
        if key in self._cache:
            return self._cache[key]
        name = key.rsplit("/", 1)[-1]
        found = self._table.get(name)
        if found is None:
            found = next(
                (
                    self._table[p]
                    for p in self._prefixes
                    if name.startswith(p) and _SNAPSHOT.match(name, len(p))
                ),
                None,
            )
        if len(self._cache) < 10_000:
            self._cache[key] = found
        return found

    def cost(
        self, model: str | None, input_tokens: int | None, output_tokens: int | None
    ) -> float | None:
        """USD cost of a call, or None when the model or the token counts are unknown."""
        if not model or (input_tokens is None and output_tokens is None):
            return None
        price = self.price(model)
        if price is None:
            return None
        return ((input_tokens or 0) * price.input + (output_tokens or 0) * price.output) / 1e6
