"""``assay compare`` and ``assay gate`` on stored runs: outputs, files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _runs import Lab, new_lab
from assay.datasets import CaseSpec
from assay.store import Store

from .conftest import Cli

CASES = [
    CaseSpec(id=f"c{i:02d}", input=f"q{i}", slices={"lang": "en" if i % 2 else "de"})
    for i in range(60)
]
POLICY = """
[gate]
resamples = 1000
[[gate.rules]]
scorer = "exact"
max_drop = 0.02
"""


@pytest.fixture
def lab(sqlite_url: str) -> Lab:
    store = Store(sqlite_url)
    from assay.store import migrate

    migrate.upgrade(store)
    lab = new_lab(store)
    ref = lab.dataset(CASES)
    lab.run("base", ref, lambda c: 1.0, release="v1")
    lab.run("good", ref, lambda c: 1.0)
    lab.run("bad", ref, lambda c: 0.0 if int((c.id or "c0")[1:]) < 20 else 1.0)
    return lab


def test_compare_json_and_markdown(cli: Cli, lab: Lab, tmp_path: Path) -> None:
    data = cli.json("compare", "base", "bad", "-p", "bot", "--resamples", "500")
    exact = data["scorers"][0]
    assert exact["overall"]["delta"] == pytest.approx(-20 / 60)
    assert exact["regressed_count"] == 20
    assert data["resamples"] == 500
    md = tmp_path / "cmp.md"
    out = cli.ok("compare", "release:v1", "bad", "-p", "bot", "--markdown", str(md)).stdout
    assert "bad vs base" in out
    assert md.read_text().startswith("## bad vs base on suite@1")
    assert (
        "no run of release 'v1' has passed a gate yet"
        in cli("compare", "release:v1", "bad", "-p", "bot").stderr
    )


def test_gate_exit_codes_and_files(
    cli: Cli, lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "assay.toml"
    policy.write_text(POLICY)
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    passed = cli.ok(
        "gate", "--policy", str(policy), "--baseline", "release:v1", "--candidate", "good",
        "-p", "bot", "--junit", str(tmp_path / "j.xml"), "--json", str(tmp_path / "g.json"),
    )  # fmt: skip
    assert "assay gate passed" in passed.stdout
    assert json.loads((tmp_path / "g.json").read_text())["passed"] is True
    assert 'failures="0"' in (tmp_path / "j.xml").read_text()
    failed = cli.fails(
        "gate", "--policy", str(policy), "--baseline", "base", "--candidate", "bad", "-p", "bot",
        "--markdown", str(tmp_path / "g.md"), code=1,
    )  # fmt: skip
    assert "assay gate failed" in failed.stdout
    assert "dropped: delta -33.3 pts" in (tmp_path / "g.md").read_text()
    assert summary.read_text().count("## ") >= 2  # both gates appended
    # release:v1 now resolves to its run that passed a gate (base was never gated,
    # but "good" has no release: the fallback note stays).
    bad_policy = tmp_path / "bad.toml"
    bad_policy.write_text("[gate]\n[[gate.rules]]\nscorer = 'exact'\n")
    error = cli.fails(
        "gate", "--policy", str(bad_policy), "--baseline", "base", "--candidate", "bad", "-p", "bot"
    )
    assert "rule 1: cannot tell what it checks" in error.stderr
    missing = cli.fails(
        "gate", "--policy", str(policy), "--baseline", "nope", "--candidate", "bad", "-p", "bot"
    )
    assert "no run named 'nope'" in missing.stderr
