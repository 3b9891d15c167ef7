"""Gate policies: the documented example parses; every malformed rule is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.errors import InvalidInput
from assay.gate import load_policy, parse_policy
from assay.gate.policy import AdapterRule, BudgetRule, DropRule, GapRule, SuiteRule, TagRule

EXAMPLE = """
[gate]
alpha = 0.05

[[gate.rules]]
scorer = "exact"      # overall: fail on a significant drop larger than max_drop
max_drop = 0.02

[[gate.rules]]
tag = "golden"        # fail on any regressed case carrying this tag
max_regressions = 0

[[gate.rules]]
scorer = "exact"
slice = "lang"        # per value of the slice attribute `lang`
max_drop = 0.05

[[gate.rules]]
scorer = "exact"
slice = "lang"
max_gap = 0.1

[[gate.rules]]
suite = "math"
scorer = "exact"
min_pass_rate = 0.9

[[gate.rules]]
max_latency_p95_ms = 2000
max_cost_increase = 0.1

[[gate.rules]]
adapter_compatible = true
compatibility_suite = "compat"
"""


def test_the_documented_policy(tmp_path: Path) -> None:
    path = tmp_path / "assay.toml"
    path.write_text(EXAMPLE)
    policy = load_policy(path)
    assert policy.alpha == 0.05
    kinds = [type(r) for r in policy.rules]
    assert kinds == [DropRule, TagRule, DropRule, GapRule, SuiteRule, BudgetRule, AdapterRule]
    assert policy.rules[2] == DropRule(scorer="exact", slice="lang", max_drop=0.05)


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({}, "at least one [[gate.rules]]"),
        ({"rules": [{"scorer": "exact"}]}, "rule 1: cannot tell what it checks"),
        ({"rules": [{"scorer": "exact", "max_drop": 2}]}, "rule 1 (DropRule): max_drop"),
        ({"rules": [{"max_drop": 0.1}]}, "rule 1 (DropRule): scorer: Field required"),
        ({"rules": [{"tag": "golden", "max_regressions": -1}]}, "max_regressions"),
        ({"rules": [{"tag": "g", "max_drop": 0.1}]}, "rule 1 (TagRule): max_drop"),
        ({"rules": [{"max_cost": 1, "colour": "red"}]}, "colour"),
        ({"alpha": 1.5, "rules": [{"tag": "g"}]}, "[gate] alpha"),
        ({"rules": [{"tag": "g"}, "x"]}, "rule 2 is not a table"),
    ],
)
def test_bad_policies_name_the_rule_and_field(gate: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_policy({"gate": gate}, "assay.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("assay.toml")


def test_unreadable_and_not_toml(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read policy"):
        load_policy(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[gate\n")
    with pytest.raises(InvalidInput, match=r"bad\.toml: not valid TOML"):
        load_policy(bad)
    with pytest.raises(InvalidInput, match="expected a \\[gate\\] table"):
        parse_policy({"rules": []})
