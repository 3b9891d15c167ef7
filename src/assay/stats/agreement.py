"""How far annotators agree: Krippendorff's alpha, Cohen's and Fleiss' kappa, with CIs.

Labels arrive as (item, annotator, value) rows, missing values allowed. They become
a reliability matrix (one row per annotator, one column per item, NaN where an
annotator did not label an item), and the coefficients come from the libraries
that define them in Python:

- **Krippendorff's alpha** (``krippendorff``): any number of annotators, missing
  labels, and the level of measurement that matches the field (nominal for
  categories, ordinal for rubric scores, interval or ratio for numbers).
  Krippendorff (2004, section 11.4) asks for alpha >= .800 before relying on the
  data and accepts .667-.800 only for tentative conclusions.
- **Cohen's kappa** (scikit-learn) for every pair of annotators on the items both
  labelled, linearly weighted for ordinal labels (Cohen 1968).
- **Fleiss' kappa** (statsmodels) over the items labelled by the most common number
  of annotators (it assumes each item has the same number of labels).

Kappas need categories, so with interval or ratio labels only alpha is given. Each
coefficient has a percentile bootstrap interval over items: items are drawn with
replacement and the library recomputes the coefficient (labels of one item are not
independent, so items, not labels, are the unit resampled). Resamples where it is
undefined (every label equal) are left out and counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

from assay.errors import InvalidInput

if TYPE_CHECKING:
    import numpy.typing as npt

    from assay.stats.bootstrap import BootstrapInterval
    from assay.stats.inputs import FloatArray

# NumPy and the bootstrap helpers are imported where they are used, like the
# libraries below: the review schemas and the server's agreement routes name this
# module's constants and result types, and importing it must not load NumPy into
# `assay serve` (~15 MB resident) before anyone asks for a coefficient.

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

ALPHA_FLOOR = 0.667
"""Default floor below which alpha is flagged: Krippendorff's lowest acceptable value
for tentative conclusions (.800 for data relied on)."""

AGREEMENT_RESAMPLES = 1_000
"""Bootstrap resamples per coefficient. Each resample calls the library again, so
this is fewer than a comparison's 10,000; the endpoints' Monte Carlo error is then
about 0.09 standard errors."""


@dataclass(frozen=True, slots=True)
class Ratings:
    """Labels as a reliability matrix.

    Attributes:
        items: Item ids, one per column, in first-seen order.
        annotators: Annotator ids, one per row, in first-seen order.
        matrix: Annotators x items; NaN where an annotator gave no label. Nominal
            labels are codes into ``categories``.
        level: The level of measurement.
        categories: The distinct nominal labels (code ``i`` is ``categories[i]``);
            None for numeric levels.
    """

    items: tuple[str, ...]
    annotators: tuple[str, ...]
    matrix: FloatArray
    level: Level
    categories: tuple[Any, ...] | None = None

    @property
    def labels(self) -> int:
        """Labels given (non-missing cells)."""
        import numpy as np

        return int(np.count_nonzero(~np.isnan(self.matrix)))


@dataclass(frozen=True, slots=True)
class Estimate:
    """One agreement coefficient with its bootstrap interval.

    Attributes:
        value: The coefficient; None when undefined (``note`` says why).
        ci: Percentile bootstrap interval over items; None when undefined.
        items: Items the coefficient was computed on.
        skipped_resamples: Resamples where the coefficient was undefined.
        note: Why the value or interval is missing or rough, if it is.
    """

    value: float | None
    ci: BootstrapInterval | None
    items: int
    skipped_resamples: int = 0
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """Two annotators on the items both labelled."""

    first: str
    second: str
    items: int
    observed: float | None
    kappa: Estimate


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Agreement over one set of labels (a field of a queue, or a file).

    Attributes:
        level: The level of measurement used.
        items: Distinct items.
        annotators: Distinct annotators.
        labels: Labels given.
        pairable: Items with at least two labels (the only ones that count).
        observed: Share of agreeing pairs of labels on the same item (exact
            equality), over all such pairs; None without any pair.
        alpha: Krippendorff's alpha.
        fleiss: Fleiss' kappa; None for interval and ratio labels.
        pairs: Cohen's kappa per annotator pair with common items (None for
            interval and ratio labels: empty).
        floor: The alpha floor checked.
        warnings: Plain sentences: alpha under the floor, few items, and so on.
    """

    level: Level
    items: int
    annotators: int
    labels: int
    pairable: int
    observed: float | None
    alpha: Estimate
    fleiss: Estimate | None
    pairs: list[PairAgreement]
    floor: float
    warnings: list[str] = field(default_factory=list)

    @property
    def below_floor(self) -> bool:
        """Whether alpha is defined and under the floor."""
        return self.alpha.value is not None and self.alpha.value < self.floor


def ratings_from_rows(rows: Iterable[tuple[Any, Any, Any]], level: Level) -> Ratings:
    """Build the reliability matrix from (item, annotator, value) rows.

    A value of None (or an empty string) is a missing label. Numeric levels need
    numbers (numeric text is read as a number); nominal labels may be any text or
    number. Item and annotator ids are compared as text.

    Raises:
        InvalidInput: Unknown level, a non-numeric value for a numeric level, the
            same annotator labelling the same item twice, or no labels at all;
            the message names the row (counted from 1).
    """
    import numpy as np

    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    items: dict[str, int] = {}
    annotators: dict[str, int] = {}
    cells: dict[tuple[int, int], Any] = {}
    for number, (item, annotator, value) in enumerate(rows, start=1):
        if item is None or str(item) == "" or annotator is None or str(annotator) == "":
            raise InvalidInput(f"row {number}: item and annotator must not be empty")
        i = items.setdefault(str(item), len(items))
        a = annotators.setdefault(str(annotator), len(annotators))
        if (a, i) in cells:
            raise InvalidInput(
                f"row {number}: annotator {annotator!r} labelled item {item!r} twice"
            )
        cells[(a, i)] = _value(value, level, number)
    given = {key: v for key, v in cells.items() if v is not None}
    if not given:
        raise InvalidInput("no labels: every value is missing")
    matrix = np.full((len(annotators), len(items)), np.nan)
    categories: tuple[Any, ...] | None = None
    if level == "nominal":
        categories = tuple(sorted({v for v in given.values()}, key=_sort_key))
        code = {c: float(n) for n, c in enumerate(categories)}
        for (a, i), v in given.items():
            matrix[a, i] = code[v]
    else:
        for (a, i), v in given.items():
            matrix[a, i] = v
    return Ratings(tuple(items), tuple(annotators), matrix, level, categories)


def agreement(
    ratings: Ratings,
    *,
    floor: float = ALPHA_FLOOR,
    confidence: float = 0.95,
    resamples: int = AGREEMENT_RESAMPLES,
    seed: int = 0,
) -> AgreementReport:
    """Alpha, Fleiss' kappa and pairwise Cohen's kappa, each with a bootstrap CI.

    Args:
        ratings: The labels.
        floor: Alpha under this is flagged in ``warnings``.
        confidence: Coverage of the intervals.
        resamples: Bootstrap resamples (items drawn with replacement).
        seed: Seed of the draws; the same labels and seed give the same intervals.

    Raises:
        InvalidInput: An argument out of range.
    """
    import numpy as np

    from assay.stats.bootstrap import check_bootstrap_args

    check_bootstrap_args(confidence, resamples, seed)
    if not -1.0 <= floor <= 1.0:
        raise InvalidInput(f"floor must be between -1 and 1, got {floor}")
    matrix = ratings.matrix
    counts = np.count_nonzero(~np.isnan(matrix), axis=0)
    pairable = matrix[:, counts >= 2]
    warnings: list[str] = []
    sampler = _Sampler(confidence, resamples, seed)
    alpha = sampler.estimate(
        pairable, lambda m: _alpha(m, ratings.level), "Krippendorff's alpha needs"
    )
    fleiss = pairs = None
    if ratings.level in ("nominal", "ordinal"):
        fleiss = _fleiss(pairable, sampler)
        pairs = _pairs(ratings, sampler)
    if alpha.value is not None and alpha.value < floor:
        warnings.append(
            f"Krippendorff's alpha is {alpha.value:.3f}, under the floor of {floor:.3f}: the "
            "annotators disagree too much to rely on these labels; review the instructions "
            "and adjudicate"
        )
    if pairable.shape[1] < 30:
        warnings.append(
            f"only {pairable.shape[1]} item(s) have two or more labels: the intervals are wide"
        )
    return AgreementReport(
        level=ratings.level,
        items=len(ratings.items),
        annotators=len(ratings.annotators),
        labels=ratings.labels,
        pairable=int(pairable.shape[1]),
        observed=_observed(pairable),
        alpha=alpha,
        fleiss=fleiss,
        pairs=pairs or [],
        floor=floor,
        warnings=warnings,
    )


class _Sampler:
    """Computes a coefficient and its percentile bootstrap interval over items."""

    def __init__(self, confidence: float, resamples: int, seed: int) -> None:
        self.confidence = confidence
        self.resamples = resamples
        self.seed = seed

    def estimate(
        self, columns: npt.NDArray[Any], statistic: Callable[[Any], float | None], need: str
    ) -> Estimate:
        import numpy as np

        from assay.stats.bootstrap import percentile_interval

        items = int(columns.shape[1])
        value = statistic(columns) if items >= 2 else None
        if value is None:
            return Estimate(
                None, None, items, note=f"{need} two or more items with different labels"
            )
        rng = np.random.default_rng(self.seed)
        draws = rng.integers(0, items, size=(self.resamples, items))
        values = np.array([statistic(columns[:, row]) for row in draws], dtype=object)
        defined = np.array([v for v in values if v is not None], dtype=np.float64)
        skipped = self.resamples - defined.size
        if defined.size < max(2, self.resamples // 2):
            return Estimate(
                value, None, items, skipped,
                note="the coefficient is undefined in most resamples: too few distinct labels",
            )  # fmt: skip
        ci = percentile_interval(defined, self.confidence, self.resamples, self.seed, None)
        note = (
            f"{skipped} of {self.resamples} resamples had no variation and were left out"
            if skipped
            else None
        )
        return Estimate(value, ci, items, skipped, note)


def _alpha(columns: FloatArray, level: Level) -> float | None:
    import krippendorff
    import numpy as np

    if columns.shape[1] == 0 or np.unique(columns[~np.isnan(columns)]).size < 2:
        return None
    value = float(krippendorff.alpha(reliability_data=columns, level_of_measurement=level))
    return value if math.isfinite(value) else None


def _fleiss(pairable: FloatArray, sampler: _Sampler) -> Estimate:
    import numpy as np
    from statsmodels.stats.inter_rater import fleiss_kappa

    counts = np.count_nonzero(~np.isnan(pairable), axis=0)
    if counts.size == 0:
        return Estimate(None, None, 0, note="Fleiss' kappa needs items with two or more labels")
    values, frequency = np.unique(counts, return_counts=True)
    raters = int(values[np.argmax(frequency)])
    kept = pairable[:, counts == raters]
    categories = np.unique(kept[~np.isnan(kept)])

    def kappa(columns: FloatArray) -> float | None:
        # items x categories: how many annotators gave each category to each item.
        table = np.stack(
            [np.count_nonzero(columns == c, axis=0) for c in categories], axis=1
        ).astype(np.float64)
        if np.count_nonzero(table.sum(axis=0)) < 2:
            return None
        value = float(fleiss_kappa(table))
        return value if math.isfinite(value) else None

    estimate = sampler.estimate(kept, kappa, "Fleiss' kappa needs")
    left_out = pairable.shape[1] - kept.shape[1]
    if left_out:
        note = (
            f"computed on the {kept.shape[1]} items with {raters} labels each; {left_out} "
            "with another number of labels were left out (Fleiss' kappa assumes the same "
            "number per item)"
        )
        notes = "; ".join(n for n in (estimate.note, note) if n)
        return Estimate(
            estimate.value, estimate.ci, estimate.items, estimate.skipped_resamples, notes
        )
    return estimate


def _pairs(ratings: Ratings, sampler: _Sampler) -> list[PairAgreement]:
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa

    # Linear weights over the categories' order for ordinal labels (Cohen 1968), as
    # scikit-learn's cohen_kappa_score(weights="linear") does; statsmodels works on
    # the contingency table, ~20x faster per bootstrap resample (a test holds the
    # two libraries equal).
    weighting = "linear" if ratings.level == "ordinal" else None
    out: list[PairAgreement] = []
    for a, b in combinations(range(len(ratings.annotators)), 2):
        both = ~np.isnan(ratings.matrix[a]) & ~np.isnan(ratings.matrix[b])
        if not both.any():
            continue
        columns = ratings.matrix[[a, b]][:, both]
        categories = np.unique(columns)
        codes = np.searchsorted(categories, columns)
        k = categories.size

        def kappa(picked: Any, k: int = k) -> float | None:
            table = np.bincount(picked[0] * k + picked[1], minlength=k * k).reshape(k, k)
            if np.count_nonzero(table.sum(axis=0) + table.sum(axis=1)) < 2:
                return None
            value = float(cohens_kappa(table, wt=weighting, return_results=False))
            return value if math.isfinite(value) else None

        out.append(
            PairAgreement(
                first=ratings.annotators[a],
                second=ratings.annotators[b],
                items=int(columns.shape[1]),
                observed=float(np.mean(columns[0] == columns[1])),
                kappa=sampler.estimate(codes, kappa, "Cohen's kappa needs"),
            )
        )
    return out


def _observed(pairable: FloatArray) -> float | None:
    import numpy as np

    agree = pairs = 0
    for column in pairable.T:
        labels = column[~np.isnan(column)]
        _, counts = np.unique(labels, return_counts=True)
        agree += int(sum(c * (c - 1) for c in counts))
        pairs += labels.size * (labels.size - 1)
    return agree / pairs if pairs else None


def _value(value: Any, level: Level, number: int) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if level == "nominal":
        if isinstance(value, (dict, list)):
            raise InvalidInput(f"row {number}: a label must be text or a number, got {value!r}")
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, bool):
        raise InvalidInput(f"row {number}: {level} labels must be numbers, got {value!r}")
    if isinstance(value, (int, float)):
        number_value = float(value)
    else:
        try:
            number_value = float(str(value))
        except ValueError:
            raise InvalidInput(
                f"row {number}: {level} labels must be numbers, got {value!r} "
                "(use --level nominal for categories)"
            ) from None
    if not math.isfinite(number_value):
        raise InvalidInput(f"row {number}: label {value!r} is not a finite number")
    return number_value


def _sort_key(value: Any) -> tuple[int, Any]:
    # Numbers before text, each in its natural order, so codes are stable.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))
