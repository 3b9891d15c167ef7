"""Cluster-robust mean, standard error and t-test for cases that come in clusters.

Cases drawn from one source document, conversation or session tend to pass or
fail together, so they carry less information than as many independent cases.
The mean is estimated by OLS of the values on a constant, and its standard error
by the cluster-robust sandwich (Liang & Zeger 1986), as recommended for evals by
Miller 2024, "Adding Error Bars to Evals" (arXiv 2411.00640).
statsmodels computes it (``OLS(...).fit(cov_type="cluster", use_t=True)``) with
its default small-sample factor G/(G-1) (N-1)/(N-K), and tests against a t
distribution with G-1 degrees of freedom, G the number of clusters. For clusters
of equal size this equals a one-sample t-test on the cluster means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from statsmodels.regression.linear_model import OLS

from assay.errors import InvalidInput
from assay.stats.inputs import ClusterLabels, cluster_index, score_array
from assay.stats.significance import SignificanceTest

# Cluster residual totals this close to 0 mean the standard error is 0 up to
# floating-point rounding (values are scores of order 1; sums of 10,000 of them
# round at about 1e-12). Testing first keeps statsmodels from dividing by zero.
_ZERO = 1e-9


@dataclass(frozen=True, slots=True)
class ClusterRobustMean:
    """The mean of clustered values with a cluster-robust standard error and test.

    Attributes:
        mean: The mean over all cases (clusters weighted by their size).
        standard_error: Cluster-robust standard error of the mean; 0 when every
            cluster's mean equals the overall mean (e.g. constant values).
        t: The t statistic ``mean / standard_error``; None when the standard
            error is 0.
        p_value: Two-sided p-value of "the mean is 0" from a t distribution with
            ``df`` degrees of freedom. With a zero standard error it is 1 if the
            mean is 0 and 0 otherwise (the limit of the t-test).
        df: Degrees of freedom, ``clusters - 1``.
        clusters: The number of clusters.
    """

    mean: float
    standard_error: float
    t: float | None
    p_value: float
    df: int
    clusters: int

    @property
    def test(self) -> SignificanceTest:
        """The cluster-robust t-test as a :class:`SignificanceTest`."""
        return SignificanceTest("cluster-t", self.p_value, self.t, self.df)


def cluster_robust_mean(values: npt.ArrayLike, clusters: ClusterLabels) -> ClusterRobustMean:
    """Mean of ``values`` with a cluster-robust standard error and t-test.

    Args:
        values: One value per case, e.g. paired differences.
        clusters: One label per case; ``None`` labels are clusters of one.

    Returns:
        The estimate and its test.

    Raises:
        InvalidInput: If the values are malformed or empty, the labels do not
            match them, or there are fewer than 2 clusters (with one cluster the
            standard error has no degrees of freedom).
    """
    array = score_array(values, "values")
    if array.size == 0:
        raise InvalidInput("a cluster-robust mean needs at least one case")
    index = cluster_index(clusters, array.size)
    if index.count < 2:
        raise InvalidInput(
            f"a cluster-robust standard error needs at least 2 clusters, got {index.count}"
        )
    mean = float(array.mean())
    if np.all(np.abs(index.sums(array - mean)) <= _ZERO):
        p_value = 1.0 if abs(mean) <= _ZERO else 0.0
        return ClusterRobustMean(mean, 0.0, None, p_value, index.count - 1, index.count)
    fit = OLS(array, np.ones((array.size, 1))).fit(
        cov_type="cluster", cov_kwds={"groups": index.codes}, use_t=True
    )
    return ClusterRobustMean(
        mean=float(fit.params[0]),
        standard_error=float(fit.bse[0]),
        t=float(fit.tvalues[0]),
        p_value=float(fit.pvalues[0]),
        df=int(fit.df_resid_inference),
        clusters=index.count,
    )
