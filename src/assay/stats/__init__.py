"""Statistics for comparisons and the CI gate: a leaf that imports only ``assay.errors``.

- :func:`compare_paired`: one scorer, baseline vs candidate, cases paired: mean
  delta, paired (or cluster) bootstrap CI, exact McNemar / Wilcoxon /
  cluster-robust t p-value, and the minimum detectable effect.
- :func:`holm`: Holm correction over per-slice p-values.
- :func:`pass_rate`: Wilson interval for a single rate, rule of three at zero
  failures.
- :func:`summarize_repeats`: pass@k, pass^k and flakiness over repeated samples.
- :func:`agreement`: Krippendorff's alpha, Fleiss' and pairwise Cohen's kappa over
  annotators' labels (:func:`ratings_from_rows`), with bootstrap intervals.

The building blocks (bootstrap interval, the tests, the cluster-robust mean, the
MDE) are public too. Every result is a frozen dataclass; undefined statistics are
None with a reason, never NaN. See ``docs/concepts/statistics.md``.
"""

import importlib
from typing import TYPE_CHECKING, Any

from assay.stats.agreement import (
    ALPHA_FLOOR,
    AgreementReport,
    Estimate,
    PairAgreement,
    Ratings,
    agreement,
    ratings_from_rows,
)

if TYPE_CHECKING:
    from assay.stats.bootstrap import (
        DEFAULT_RESAMPLES,
        DEFAULT_SEED,
        BootstrapInterval,
        bootstrap_mean_interval,
    )
    from assay.stats.clustered import ClusterRobustMean, cluster_robust_mean
    from assay.stats.grouped import bootstrap_group_intervals
    from assay.stats.inputs import ClusterLabels
    from assay.stats.multiple import HolmCorrection, holm
    from assay.stats.paired import PairedComparison, compare_paired, compare_paired_groups
    from assay.stats.power import DEFAULT_POWER, minimum_detectable_effect
    from assay.stats.rates import RULE_OF_THREE, PassRate, pass_rate
    from assay.stats.repeats import RepeatSummary, summarize_repeats
    from assay.stats.significance import (
        SignificanceTest,
        TestName,
        mcnemar_exact,
        paired_test,
        wilcoxon_signed_rank,
    )

# Every module that needs NumPy, SciPy or statsmodels loads on first use (PEP 562): a
# process that never computes a statistic (the server ingesting spans, a queue's
# schema being read) is spared ~165 MB of resident memory, ~15 MB of it NumPy's.
# ``agreement`` loads eagerly (it imports NumPy only inside its functions), or the
# submodule of that name would shadow the function once something imported
# ``assay.stats.agreement`` first.
_LAZY: dict[str, str] = {
    "DEFAULT_RESAMPLES": "assay.stats.bootstrap",
    "DEFAULT_SEED": "assay.stats.bootstrap",
    "BootstrapInterval": "assay.stats.bootstrap",
    "bootstrap_mean_interval": "assay.stats.bootstrap",
    "bootstrap_group_intervals": "assay.stats.grouped",
    "ClusterLabels": "assay.stats.inputs",
    "RepeatSummary": "assay.stats.repeats",
    "summarize_repeats": "assay.stats.repeats",
    "ClusterRobustMean": "assay.stats.clustered",
    "cluster_robust_mean": "assay.stats.clustered",
    "HolmCorrection": "assay.stats.multiple",
    "holm": "assay.stats.multiple",
    "PairedComparison": "assay.stats.paired",
    "compare_paired": "assay.stats.paired",
    "compare_paired_groups": "assay.stats.paired",
    "DEFAULT_POWER": "assay.stats.power",
    "minimum_detectable_effect": "assay.stats.power",
    "RULE_OF_THREE": "assay.stats.rates",
    "PassRate": "assay.stats.rates",
    "pass_rate": "assay.stats.rates",
    "SignificanceTest": "assay.stats.significance",
    "TestName": "assay.stats.significance",
    "mcnemar_exact": "assay.stats.significance",
    "paired_test": "assay.stats.significance",
    "wilcoxon_signed_rank": "assay.stats.significance",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ALPHA_FLOOR",
    "DEFAULT_POWER",
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "RULE_OF_THREE",
    "AgreementReport",
    "BootstrapInterval",
    "ClusterLabels",
    "ClusterRobustMean",
    "Estimate",
    "HolmCorrection",
    "PairAgreement",
    "PairedComparison",
    "PassRate",
    "Ratings",
    "RepeatSummary",
    "SignificanceTest",
    "TestName",
    "agreement",
    "bootstrap_group_intervals",
    "bootstrap_mean_interval",
    "cluster_robust_mean",
    "compare_paired",
    "compare_paired_groups",
    "holm",
    "mcnemar_exact",
    "minimum_detectable_effect",
    "paired_test",
    "pass_rate",
    "ratings_from_rows",
    "summarize_repeats",
    "wilcoxon_signed_rank",
]
