"""A gate result as Markdown (for the pull request), JUnit XML (for CI test
reports) and JSON."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from assay.comparisons import comparison_json, comparison_markdown
from assay.gate.evaluate import GateResult


def gate_markdown(result: GateResult) -> str:
    """A PR-ready summary: the verdict, each rule with its numbers, then the comparison."""
    c = result.comparison
    verdict = "✅ **assay gate passed**" if result.passed else "❌ **assay gate failed**"
    lines = [
        f"## {verdict}: {c.candidate.name} vs {c.baseline.name}",
        "",
        "| | rule | result |",
        "|---|---|---|",
    ]
    for r in result.rules:
        mark = "✅" if r.passed else "❌"
        note = " (this data cannot detect a drop of that size)" if r.undetectable else ""
        lines.append(f"| {mark} | {_cell(r.title)} | {_cell(r.reason)}{note} |")
    for r in result.rules:
        if r.details and not r.passed:
            lines += ["", f"<details><summary>{_cell(r.title)}</summary>", ""]
            lines += [f"- {d}" for d in r.details]
            lines += ["", "</details>"]
    lines += ["", comparison_markdown(c, heading="###")]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def gate_junit(result: GateResult) -> str:
    """JUnit XML: one test case per rule, a failure element with the reason."""
    c = result.comparison
    suite = ET.Element(
        "testsuite",
        name=f"assay gate: {c.candidate.name} vs {c.baseline.name}",
        tests=str(len(result.rules)),
        failures=str(len(result.failed)),
        errors="0",
    )
    for r in result.rules:
        case = ET.SubElement(suite, "testcase", classname="assay.gate", name=r.title)
        if not r.passed:
            failure = ET.SubElement(case, "failure", message=r.reason)
            failure.text = "\n".join([r.reason, *r.details])
        elif r.undetectable:
            out = ET.SubElement(case, "system-out")
            out.text = f"{r.reason} (this data cannot detect a drop of the rule's size)"
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def gate_json(result: GateResult) -> dict[str, Any]:
    """The gate result as JSON data."""
    return {
        "passed": result.passed,
        "policy": result.policy.model_dump(),
        "rules": [
            {
                "title": r.title,
                "passed": r.passed,
                "reason": r.reason,
                "details": r.details,
                "undetectable": r.undetectable,
            }
            for r in result.rules
        ],
        "comparison": comparison_json(result.comparison),
    }
