"""Comparisons: two runs on the same dataset version, paired case by case, with
honest statistics (see docs/concepts/statistics.md)."""

from assay.comparisons.compare import (
    MIN_SLICE_N,
    CaseDelta,
    Comparison,
    RunCosts,
    ScorerComparison,
    SliceComparison,
    compare_runs,
)
from assay.comparisons.report import comparison_json, comparison_markdown

__all__ = [
    "MIN_SLICE_N",
    "CaseDelta",
    "Comparison",
    "RunCosts",
    "ScorerComparison",
    "SliceComparison",
    "compare_runs",
    "comparison_json",
    "comparison_markdown",
]
