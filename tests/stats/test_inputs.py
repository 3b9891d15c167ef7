"""Input checks shared by the statistics: score arrays, pairs, cluster labels."""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InvalidInput
from assay.stats.inputs import cluster_index, is_binary, paired_scores, score_array


def test_score_array_names_the_bad_position() -> None:
    with pytest.raises(InvalidInput, match=r"baseline\[2\] is nan"):
        score_array([0.1, 0.2, float("nan")], "baseline")
    with pytest.raises(InvalidInput, match=r"values\[0\] is inf"):
        score_array([float("inf")], "values")
    with pytest.raises(InvalidInput, match="one-dimensional"):
        score_array([[0.1, 0.2]], "values")
    with pytest.raises(InvalidInput, match="must be numbers"):
        score_array(["high"], "values")


def test_booleans_read_as_zero_and_one() -> None:
    scores = score_array([True, False, True], "values")
    assert scores.tolist() == [1.0, 0.0, 1.0]
    assert is_binary(scores)
    assert not is_binary(score_array([1.0, 0.5], "values"))


def test_pairs_must_line_up_and_be_non_empty() -> None:
    with pytest.raises(InvalidInput, match="baseline has 2 scores but candidate has 3"):
        paired_scores([0, 1], [0, 1, 1])
    with pytest.raises(InvalidInput, match="no paired cases"):
        paired_scores([], [])


def test_differences_are_rounded_so_equal_steps_tie() -> None:
    pair = paired_scores([0.5, 0.3, 0.1], [0.7, 0.5, 0.3])
    # Unrounded: 0.19999999999999996, 0.2, 0.19999999999999998.
    assert len(set(pair.differences.tolist())) == 1
    assert not pair.binary
    assert pair.n == 3


def test_clusters_are_numbered_in_order_of_first_appearance() -> None:
    index = cluster_index(["b", "a", "b", None, "a", None], 6)
    # Each None is a cluster of its own.
    assert index.codes.tolist() == [0, 1, 0, 2, 1, 3]
    assert index.count == 4
    assert index.sizes().tolist() == [2, 2, 1, 1]
    assert index.sums(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])).tolist() == [4.0, 7.0, 4.0, 6.0]


def test_array_labels_get_the_same_numbering_as_lists() -> None:
    labels = [f"doc{i % 7}" for i in range(50)][::-1]
    from_list = cluster_index(labels, 50)
    from_array = cluster_index(np.array(labels), 50)
    assert from_list.codes.tolist() == from_array.codes.tolist()
    assert cluster_index(np.array([3, 1, 3]), 3).codes.tolist() == [0, 1, 0]


def test_mixed_label_types_are_not_merged() -> None:
    # 1 and "1" are different clusters; converting to one array would merge them.
    assert cluster_index([1, "1", 1], 3).count == 2


def test_cluster_labels_must_match_the_cases() -> None:
    with pytest.raises(InvalidInput, match="clusters has 2 labels but there are 3 cases"):
        cluster_index(["a", "b"], 3)
    with pytest.raises(InvalidInput, match="clusters has 2 labels but there are 3 cases"):
        cluster_index(np.array([1, 2]), 3)
    with pytest.raises(InvalidInput, match=r"clusters\[1\] is not hashable"):
        cluster_index(["a", ["b"]], 2)  # type: ignore[list-item]
