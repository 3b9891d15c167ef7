"""Normalisation, outputs as text, and JSON found inside prose."""

from __future__ import annotations

import pytest

from assay.scorers.text import as_text, find_json_values, normalize_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Paris ", "paris"),
        ("PARIS.", "paris"),
        ('"Paris!"', "paris"),
        ("“Paris”", "paris"),
        ("(Paris)", "paris"),
        ("New   York\n City", "new york city"),
        ("Ｐａｒｉｓ", "paris"),
        ("Straße", "strasse"),
        ("東京。", "東京"),
        ("「東京」", "東京"),
        ("-5", "-5"),
        ("50%", "50%"),
        ("3.14", "3.14"),
        ("U.S.A.", "u.s.a"),
        ("#1", "#1"),
        ("...", ""),
        ("", ""),
        ("Hello, world!", "hello, world"),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (None, ""),
        (42, "42"),
        (1.5, "1.5"),
        (True, "true"),
        ({"b": 1, "a": "é"}, '{"a": "é", "b": 1}'),
        (["x", None], '["x", null]'),
        ({1, 2}, "{1, 2}"),
    ],
)
def test_as_text(value: object, expected: str) -> None:
    assert as_text(value) == expected


def test_find_json_values_in_prose_and_fences() -> None:
    text = (
        'Thinking {not json}. Here:\n```json\n{"score": 4, "nested": {"a": [1]}}\n```\nand [1, 2]'
    )
    assert find_json_values(text) == [{"score": 4, "nested": {"a": [1]}}, [1, 2]]


def test_find_json_values_rejects_nan_and_handles_nothing() -> None:
    assert find_json_values('{"score": NaN} {"score": 1}') == [{"score": 1}]
    assert find_json_values("no json here") == []
    assert find_json_values("{{{") == []
