"""Rendering values as span attributes."""

from __future__ import annotations

import datetime as dt
import enum
import json

from assay.sdk.serialize import serialize_value, to_attribute, to_json, truncate


class Color(enum.Enum):
    RED = "red"


class PydanticLike:
    def model_dump(self, mode: str) -> dict[str, object]:
        assert mode == "json"
        return {"answer": 42}


def test_to_json_handles_common_types() -> None:
    value = {
        "when": dt.date(2024, 6, 1),
        "color": Color.RED,
        "model": PydanticLike(),
        "pair": (1, 2),
        "text": "Grüße",
    }
    assert json.loads(to_json(value)) == {
        "when": "2024-06-01",
        "color": "red",
        "model": {"answer": 42},
        "pair": [1, 2],
        "text": "Grüße",
    }
    assert "Grüße" in to_json("Grüße")


def test_unencodable_keys_fall_back_to_repr() -> None:
    assert json.loads(to_json({(1, 2): "tuple key"})) == "{(1, 2): 'tuple key'}"


def test_truncate() -> None:
    assert truncate("abc", 3) == ("abc", False)
    assert truncate("abcdef", 2) == ("ab… [truncated 4 chars]", True)


def test_serialize_value() -> None:
    assert serialize_value("plain", 100) == ("plain", "text/plain", False)
    assert serialize_value([1], 100) == ("[1]", "application/json", False)
    assert serialize_value([1, 2, 3], 3).mime_type == "text/plain"


def test_to_attribute() -> None:
    assert to_attribute(None, 10) is None
    assert to_attribute(True, 10) is True
    assert to_attribute(3, 10) == 3
    assert to_attribute(["a", "b"], 10) == ["a", "b"]
    assert to_attribute([1, True], 10) == "[1, true]"
    assert to_attribute([], 10) == "[]"
    assert to_attribute({"a": 1}, 10) == '{"a": 1}'
