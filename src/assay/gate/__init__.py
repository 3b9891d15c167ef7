"""The CI gate: a policy checked in with the app, applied to a comparison of the
candidate with the last good run; exit code, Markdown, JUnit XML and JSON."""

from assay.gate.evaluate import GateResult, RuleResult, evaluate
from assay.gate.outputs import gate_json, gate_junit, gate_markdown
from assay.gate.policy import Policy, load_policy, parse_policy
from assay.gate.refs import ResolvedComparison, compare_refs, record_gate, resolve_run

__all__ = [
    "GateResult",
    "Policy",
    "ResolvedComparison",
    "RuleResult",
    "compare_refs",
    "evaluate",
    "gate_json",
    "gate_junit",
    "gate_markdown",
    "load_policy",
    "parse_policy",
    "record_gate",
    "resolve_run",
]
