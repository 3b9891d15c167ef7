"""The gate policy: a TOML file checked in with the app.

```toml
[gate]
alpha = 0.05

[[gate.rules]]
scorer = "exact"        # overall: fail on a significant drop larger than max_drop
max_drop = 0.02

[[gate.rules]]
tag = "golden"          # fail on any regressed case carrying this tag
max_regressions = 0

[[gate.rules]]
scorer = "exact"
slice = "lang"          # per value of the slice attribute `lang` (Holm-corrected)
max_drop = 0.05

[[gate.rules]]
scorer = "exact"
slice = "lang"
max_gap = 0.10          # worst slice at most 10 points below the best, in the candidate

[[gate.rules]]
suite = "math"          # a required capability suite: cases tagged `math`
scorer = "exact"
max_drop = 0.0
min_pass_rate = 0.9

[[gate.rules]]
max_latency_p95_ms = 2000
max_cost_increase = 0.10    # at most 10% more cost than the baseline

[[gate.rules]]
adapter_compatible = true   # adapter base model == serving base model ...
compatibility_suite = "compat"  # ... unless this suite passes
```

Each rule is one of these shapes; a rule that fits none, or mixes two, is refused
with a message naming the rule and the field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assay.errors import InvalidInput


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, description="Shown in reports instead of a summary.")


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class DropRule(_Rule):
    """No significant drop of a scorer's mean larger than ``max_drop``, overall or in
    every value of ``slice`` (Holm-corrected)."""

    kind: Literal["drop"] = "drop"
    scorer: str
    max_drop: Fraction
    slice: str | None = None


class GapRule(_Rule):
    """In the candidate, the worst value of ``slice`` is at most ``max_gap`` below the
    best (the disaggregated check a fairness review asks for)."""

    kind: Literal["gap"] = "gap"
    scorer: str
    slice: str
    max_gap: Fraction


class TagRule(_Rule):
    """At most ``max_regressions`` regressed cases carry ``tag`` (any scorer, or
    ``scorer``)."""

    kind: Literal["tag"] = "tag"
    tag: str
    max_regressions: int = Field(default=0, ge=0)
    scorer: str | None = None


class SuiteRule(_Rule):
    """A required capability suite (cases tagged ``suite``) must be present, must not
    drop significantly by more than ``max_drop``, and, if given, must reach
    ``min_pass_rate`` in the candidate."""

    kind: Literal["suite"] = "suite"
    suite: str
    scorer: str
    max_drop: Fraction = 0.0
    min_pass_rate: Fraction | None = None


class BudgetRule(_Rule):
    """Latency and cost budgets of the candidate, absolute or against the baseline."""

    kind: Literal["budget"] = "budget"
    max_latency_p95_ms: float | None = Field(default=None, gt=0)
    max_latency_increase: float | None = Field(default=None, ge=0)
    max_cost: float | None = Field(default=None, ge=0)
    max_cost_increase: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _something(self) -> BudgetRule:
        if all(
            v is None
            for v in (
                self.max_latency_p95_ms,
                self.max_latency_increase,
                self.max_cost,
                self.max_cost_increase,
            )
        ):
            raise ValueError("a budget rule needs at least one max_* limit")
        return self


class AdapterRule(_Rule):
    """The candidate release's adapter base model must equal its serving base model,
    unless ``compatibility_suite`` passes (no significant drop, see SuiteRule)."""

    kind: Literal["adapter"] = "adapter"
    adapter_compatible: Literal[True]
    compatibility_suite: str | None = None
    scorer: str | None = None


Rule = DropRule | GapRule | TagRule | SuiteRule | BudgetRule | AdapterRule

# Which field makes a rule which kind, checked in this order.
_KIND_BY_FIELD: tuple[tuple[str, type[_Rule]], ...] = (
    ("adapter_compatible", AdapterRule),
    ("suite", SuiteRule),
    ("tag", TagRule),
    ("max_gap", GapRule),
    ("max_drop", DropRule),
)
_BUDGET_FIELDS = ("max_latency_p95_ms", "max_latency_increase", "max_cost", "max_cost_increase")


class Policy(BaseModel):
    """A gate policy: the significance level and the rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    resamples: int = Field(default=10_000, ge=100, le=1_000_000)
    seed: int = Field(default=0, ge=0)
    rules: list[Rule]


def parse_policy(data: dict[str, Any], source: str = "policy") -> Policy:
    """Validate a policy from plain data (the ``[gate]`` table).

    Raises:
        InvalidInput: unknown fields, a rule of no known shape, bad values; the
            message names ``source``, the rule's number and the field.
    """
    gate = data.get("gate")
    if not isinstance(gate, dict):
        raise InvalidInput(f"{source}: expected a [gate] table")
    raw_rules = gate.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise InvalidInput(f"{source}: [gate] needs at least one [[gate.rules]] entry")
    rules: list[Rule] = []
    for number, raw in enumerate(raw_rules, start=1):
        if not isinstance(raw, dict):
            raise InvalidInput(f"{source}: rule {number} is not a table")
        rules.append(_rule(raw, f"{source}: rule {number}"))
    settings = {k: v for k, v in gate.items() if k != "rules"}
    try:
        return Policy(**settings, rules=rules)
    except ValidationError as exc:
        raise InvalidInput(f"{source}: [gate] {_problems(exc)}") from exc


def _rule(raw: dict[str, Any], where: str) -> Rule:
    kind: type[_Rule] | None = None
    for field, model in _KIND_BY_FIELD:
        if field in raw:
            kind = model
            break
    if kind is None and any(f in raw for f in _BUDGET_FIELDS):
        kind = BudgetRule
    if kind is None:
        raise InvalidInput(
            f"{where}: cannot tell what it checks; give max_drop (with scorer), max_gap "
            "(with scorer and slice), tag, suite, a max_latency_*/max_cost* budget, or "
            "adapter_compatible"
        )
    try:
        return kind.model_validate(raw)  # type: ignore[return-value]
    except ValidationError as exc:
        raise InvalidInput(f"{where} ({kind.__name__}): {_problems(exc)}") from exc


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"
        for err in exc.errors(include_url=False)
    )


def load_policy(path: Path) -> Policy:
    """Read a policy TOML file.

    Raises:
        InvalidInput: unreadable, not TOML, or not a valid policy.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidInput(f"cannot read policy {str(path)!r}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path.name}: not valid TOML: {exc}") from exc
    return parse_policy(data, path.name)
