"""Agreement: the published worked examples, the libraries on random data, bad input."""

from __future__ import annotations

import random

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from assay.errors import InvalidInput
from assay.stats import agreement, ratings_from_rows
from assay.stats.agreement import LEVELS, Level

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
# observers, twelve units, missing values ("."). Published: nominal .743, ordinal
# .815, interval .849, ratio .797.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Fleiss (1971), "Measuring nominal scale agreement among many raters", Table 1: 30
# patients, 6 psychiatrists each, 5 diagnoses (as R's irr package ships it,
# `diagnoses`). Published: kappa = .430 (irr: 0.4302445).
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip


def _rows(matrix: list[list[int | None]]) -> list[tuple[str, str, int | None]]:
    """(item, annotator, value) rows from an annotators x items matrix."""
    return [
        (f"unit-{j}", f"observer-{i}", value)
        for i, labels in enumerate(matrix)
        for j, value in enumerate(labels)
    ]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_worked_example(level: Level, published: float) -> None:
    report = agreement(ratings_from_rows(_rows(KRIPPENDORFF_2011), level), resamples=200)
    assert report.alpha.value is not None
    assert report.alpha.value == pytest.approx(published, abs=5e-4)
    assert report.items == 12
    assert report.annotators == 4
    assert report.labels == 41
    assert report.pairable == 11  # unit 12 has a single label
    assert report.alpha.ci is not None
    assert report.alpha.ci.low <= report.alpha.value <= report.alpha.ci.high


def test_fleiss_1971_worked_example() -> None:
    rows = [
        (f"patient-{p}", f"psychiatrist-{r}", diagnosis)
        for p, diagnoses in enumerate(FLEISS_1971)
        for r, diagnosis in enumerate(diagnoses)
    ]
    report = agreement(ratings_from_rows(rows, "nominal"), resamples=200)
    assert report.fleiss is not None
    assert report.fleiss.value == pytest.approx(0.430, abs=5e-4)
    assert report.fleiss.value == pytest.approx(0.4302445, abs=1e-7)
    assert report.fleiss.items == 30


def test_cohen_1960_table_1() -> None:
    # Cohen (1960), "A coefficient of agreement for nominal scales", Table 1: two
    # judges, three categories, observed agreement p_o = .25 + .02 + .02 = .29 and
    # chance agreement p_c = .20 + .09 + .06 = .35, so kappa = (.29 - .35) / (1 - .35).
    # Kappa depends only on the diagonal and the margins; these 100 units have the
    # table's diagonal and margins whose products are its chance cells (.50 x .40,
    # .30 x .30, .20 x .30).
    cells = {(1, 1): 25, (1, 2): 15, (1, 3): 10, (2, 1): 10, (2, 2): 2, (2, 3): 18,
             (3, 1): 5, (3, 2): 13, (3, 3): 2}  # fmt: skip
    rows: list[tuple[str, str, int]] = []
    for (first, second), count in cells.items():
        for n in range(count):
            unit = f"{first}{second}-{n}"
            rows += [(unit, "judge-1", first), (unit, "judge-2", second)]
    report = agreement(ratings_from_rows(rows, "nominal"), resamples=200)
    (pair,) = report.pairs
    assert pair.items == 100
    assert pair.observed == pytest.approx(0.29)
    assert pair.kappa.value == pytest.approx((0.29 - 0.35) / (1 - 0.35), abs=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equal_to_the_libraries_on_random_labels_with_gaps(seed: int) -> None:
    rng = random.Random(seed)
    annotators, items = 4, 60
    truth = [rng.randint(1, 5) for _ in range(items)]
    matrix: list[list[int | None]] = [
        [
            None if rng.random() < 0.15 else max(1, min(5, t + rng.choice([-1, 0, 0, 1])))
            for t in truth
        ]
        for _ in range(annotators)
    ]
    rows = _rows(matrix)
    rng.shuffle(rows)  # order of rows must not matter
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    for level in LEVELS:
        report = agreement(ratings_from_rows(rows, level), resamples=50)
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert report.alpha.value == pytest.approx(expected, abs=1e-12)
    weighted: list[tuple[Level, str | None]] = [("nominal", None), ("ordinal", "linear")]
    for level, weights in weighted:
        report = agreement(ratings_from_rows(rows, level), resamples=50)
        assert len(report.pairs) == 6
        for pair in report.pairs:
            a = int(pair.first.split("-")[1])
            b = int(pair.second.split("-")[1])
            both = ~np.isnan(data[a]) & ~np.isnan(data[b])
            expected = cohen_kappa_score(data[a][both], data[b][both], weights=weights)
            assert pair.kappa.value == pytest.approx(expected, abs=1e-12)
            assert pair.items == int(both.sum())
    # Fleiss on the items every annotator labelled (the most common count here).
    complete = data[:, ~np.isnan(data).any(axis=0)]
    report = agreement(ratings_from_rows(rows, "nominal"), resamples=50)
    assert report.fleiss is not None
    assert report.fleiss.items == complete.shape[1]
    expected = fleiss_kappa(aggregate_raters(complete.T.astype(int))[0])
    assert report.fleiss.value == pytest.approx(expected, abs=1e-12)


def test_text_labels_intervals_and_the_floor() -> None:
    rng = random.Random(4)
    rows = []
    for item in range(80):
        answer = rng.choice(["helpful", "harmful", "off-topic"])
        for who in ("ana", "bo", "cy"):
            label = answer if rng.random() < 0.55 else rng.choice(["helpful", "harmful"])
            rows.append((f"trace-{item}", who, label))
    ratings = ratings_from_rows(rows, "nominal")
    assert ratings.categories == ("harmful", "helpful", "off-topic")
    report = agreement(ratings, floor=0.8, resamples=300, seed=1)
    assert report.alpha.value is not None
    assert report.alpha.value < 0.8
    assert report.below_floor
    assert any("under the floor of 0.800" in w for w in report.warnings)
    assert report.alpha.ci is not None
    assert report.alpha.ci.low < report.alpha.value < report.alpha.ci.high
    assert agreement(ratings, floor=0.8, resamples=300, seed=1) == report
    unanimous = [(f"t{i}", who, "ok" if i % 2 else "bad") for i in range(40) for who in "ab"]
    perfect = agreement(ratings_from_rows(unanimous, "nominal"), resamples=100)
    assert perfect.alpha.value == pytest.approx(1.0)
    assert perfect.observed == 1.0
    assert not perfect.warnings


def test_undefined_coefficients_say_why() -> None:
    same = [(f"t{i}", who, "yes") for i in range(5) for who in "ab"]
    report = agreement(ratings_from_rows(same, "nominal"), resamples=50)
    assert report.alpha.value is None
    assert report.alpha.note is not None
    assert "different labels" in report.alpha.note
    interval = agreement(ratings_from_rows(_rows(KRIPPENDORFF_2011), "interval"), resamples=50)
    assert interval.fleiss is None
    assert interval.pairs == []


@pytest.mark.parametrize(
    ("rows", "level", "message"),
    [
        ([("a", "x", 1), ("a", "x", 2)], "nominal", "row 2: annotator 'x' labelled item 'a' twice"),
        ([("a", "x", "good")], "ordinal", "row 1: ordinal labels must be numbers"),
        ([("a", "x", True)], "interval", "row 1: interval labels must be numbers"),
        ([("a", "x", "inf")], "ratio", "not a finite number"),
        ([("a", "x", None), ("b", "y", "")], "nominal", "no labels"),
        ([("", "x", 1)], "nominal", "row 1: item and annotator must not be empty"),
        ([("a", "x", {"k": 1})], "nominal", "a label must be text or a number"),
        ([("a", "x", 1)], "binary", "level must be one of"),
    ],
)
def test_bad_labels_are_refused(
    rows: list[tuple[object, object, object]], level: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        ratings_from_rows(rows, level)  # type: ignore[arg-type]


def test_bad_arguments_are_refused() -> None:
    ratings = ratings_from_rows(_rows(KRIPPENDORFF_2011), "nominal")
    with pytest.raises(InvalidInput, match="floor"):
        agreement(ratings, floor=2.0)
    with pytest.raises(InvalidInput, match="resamples"):
        agreement(ratings, resamples=0)
