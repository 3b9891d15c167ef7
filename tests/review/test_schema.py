"""Label schemas and queue definition files: parsing, validation, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.errors import ConfigError, InvalidInput
from assay.review import (
    agreement_level,
    decisive,
    load_queue_definition,
    parse_queue_definition,
    parse_queue_text,
    parse_schema,
)

from .conftest import FIELDS


def test_fields_parse_with_defaults_and_round_trip() -> None:
    schema = parse_schema(FIELDS)
    assert schema.names == ("verdict", "score", "issues", "fix", "note")
    verdict, score, issues, fix, note = schema.fields
    assert (verdict.required, issues.required, note.required, score.required) == (
        True, False, False, False,
    )  # fmt: skip
    assert score.level == "ordinal"
    assert score.scale == 5
    assert schema.reference_field is fix  # the first correction, by default
    assert [f.name for f in schema.decisive_fields] == ["verdict", "score", "issues"]
    assert [decisive(f) for f in schema.fields] == [True, True, True, False, False]
    assert [agreement_level(f) for f in schema.fields] == [
        "nominal", "ordinal", "nominal", None, None,
    ]  # fmt: skip
    assert parse_schema(schema.to_data()) == schema
    assert parse_schema({"fields": FIELDS}) == schema


def test_ordinal_options_anchors_level_and_explicit_reference() -> None:
    schema = parse_schema(
        [
            {"name": "quality", "type": "ordinal", "scale": 3, "level": "interval",
             "anchors": {"1": "wrong", 3: "perfect"}},
            {"name": "fix", "type": "correction", "reference": False},
            {"name": "ok", "type": "boolean", "reference": True},
        ]
    )  # fmt: skip
    quality = schema.field("quality")
    assert quality.anchors == {1: "wrong", 3: "perfect"}
    assert agreement_level(quality) == "interval"
    assert schema.reference_field is not None
    assert schema.reference_field.name == "ok"
    assert (
        parse_schema([{"name": "fix", "type": "correction", "reference": False}]).reference_field
        is None
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"name": "quality", "type": "ordinal"}], "field 'quality': ordinal needs scale >= 2"),
        ([{"name": "quality", "type": "ordinal", "scale": 1}],
         "field 'quality': ordinal needs scale"),
        ([{"name": "quality", "type": "ordinal", "scale": 5, "anchors": {"6": "x"}}],
         "field 'quality': anchor '6' is not a point of the scale 1-5"),
        ([{"name": "quality", "type": "ordinal", "scale": 5, "anchors": {"²": "x"}}],
         "field 'quality': anchor '²' is not a point of the scale 1-5"),
        ([{"name": "quality", "type": "ordinal", "scale": 5, "level": "ratio"}],
         "field 'quality': level must be 'ordinal' or 'interval'"),
        ([{"name": "verdict", "type": "categorical"}],
         "field 'verdict': categorical needs options"),
        ([{"name": "verdict", "type": "categorical", "options": ["a"]}],
         "field 'verdict': categorical needs at least 2 options"),
        ([{"name": "verdict", "type": "categorical", "options": ["a", "a"]}],
         "field 'verdict': option 'a' is listed twice"),
        ([{"name": "verdict", "type": "colour"}], "field 'verdict': type must be one of"),
        ([{"name": "ok", "type": "boolean", "options": ["y"]}],
         "field 'ok': unknown key 'options' for a boolean field"),
        ([{"name": "ok", "type": "boolean", "required": "yes"}],
         "field 'ok': required must be true or false"),
        ([{"name": "note", "type": "text", "reference": True}],
         "field 'note': a text field cannot be the reference"),
        ([{"name": "2nd", "type": "text"}], "field 1: name must be an identifier"),
        ([{"name": "a", "type": "text"}, {"name": "a", "type": "boolean"}],
         "field 'a': the name is used twice"),
        ([{"name": "a", "type": "correction", "reference": True},
          {"name": "b", "type": "boolean", "reference": True}],
         "fields 'a', 'b': only one field may be the reference"),
        ([], "the label schema needs at least one field"),
        ("verdict", "fields must be a list"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_field(fields: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        parse_schema(fields)


def test_values_are_normalised() -> None:
    schema = parse_schema(FIELDS)
    values = schema.validate(
        {"verdict": "bad", "score": "2", "issues": ["wrong ", "rude", "wrong"], "fix": "  "}
    )
    assert values == {
        "verdict": "bad", "score": 2, "issues": ["rude", "wrong"], "fix": None, "note": None,
    }  # fmt: skip
    flag = parse_schema([{"name": "ok", "type": "boolean"}, {"name": "t", "type": "tags"}])
    assert flag.validate({"ok": "True", "t": ["any", "free"]}) == {"ok": True, "t": ["any", "free"]}
    assert flag.validate({"ok": False}) == {"ok": False, "t": []}


def test_every_problem_with_values_is_named() -> None:
    schema = parse_schema(FIELDS)
    with pytest.raises(InvalidInput) as caught:
        schema.validate({"score": 7, "issues": ["late"], "fix": 3, "colour": "red"})
    message = str(caught.value)
    assert "unknown field 'colour'" in message
    assert "field 'verdict': is required" in message
    assert "field 'score': must be an integer from 1 to 5, got 7" in message
    assert "field 'issues': tag 'late' is not one of the options" in message
    assert "field 'fix': must be text" in message
    for bad, expected in [
        ({"verdict": "meh"}, "field 'verdict': 'meh' is not one of the options: good, bad"),
        ({"verdict": "good", "score": True}, "field 'score': must be an integer"),
        ({"verdict": "good", "issues": "wrong"}, "field 'issues': must be a list of tags"),
    ]:
        with pytest.raises(InvalidInput, match=expected):
            schema.validate(bad)
    with pytest.raises(InvalidInput, match="label values must be an object"):
        schema.validate(["good"])
    required_tags = parse_schema([{"name": "t", "type": "tags", "required": True}])
    with pytest.raises(InvalidInput, match="field 't': is required: give at least one tag"):
        required_tags.validate({})


TOML = """
name = "support"
instructions = "Judge the answer."
overlap = 3
gold_rate = 0.1

[[fields]]
name = "verdict"
type = "categorical"
options = ["good", "bad"]
"""
YAML = """
name: support
claim_seconds: 600
agreement_floor: 0.8
fields:
  - name: answered
    type: categorical
    options: [yes, no]
"""


def test_queue_definition_files_in_three_formats(tmp_path: Path) -> None:
    toml = parse_queue_text(TOML, "toml")
    assert (toml.name, toml.overlap, toml.gold_rate, toml.claim_seconds) == (
        "support",
        3,
        0.1,
        1800,
    )
    assert toml.instructions == "Judge the answer."
    # YAML 1.2 scalars: yes/no stay text, as options should.
    yaml = parse_queue_text(YAML, "yaml")
    assert yaml.schema.field("answered").options == ("yes", "no")
    assert (yaml.claim_seconds, yaml.agreement_floor, yaml.overlap) == (600, 0.8, 2)
    path = tmp_path / "queue.json"
    path.write_text('{"name": "j", "fields": [{"name": "ok", "type": "boolean"}]}')
    assert load_queue_definition(path).schema.names == ("ok",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fields": FIELDS}, "name is missing"),
        ({"name": "q"}, "fields is missing"),
        ({"name": "q", "fields": FIELDS, "overlap": 0}, "overlap must be an integer from 1 to 20"),
        ({"name": "q", "fields": FIELDS, "gold_rate": 1}, "gold_rate must be a number from 0"),
        ({"name": "q", "fields": FIELDS, "claim_seconds": 5}, "claim_seconds must be an integer"),
        ({"name": "q", "fields": FIELDS, "agreement_floor": 2}, "agreement_floor must be"),
        ({"name": "q", "fields": FIELDS, "overlpa": 2}, "unknown key 'overlpa'"),
        ({"name": "a/b", "fields": FIELDS}, "queue name 'a/b' may not hold"),
        ({"name": " q", "fields": FIELDS}, "queue name ' q' starts or ends with spaces"),
        ({"name": "q" * 101, "fields": FIELDS}, "queue name is longer than 100"),
        ({"name": "q", "fields": [{"name": "x", "type": "ordinal"}]},
         "field 'x': ordinal needs scale >= 2"),
    ],
)  # fmt: skip
def test_definition_errors_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=f"queue.toml: {message}"):
        parse_queue_definition(data, source="queue.toml")


def test_definition_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="duplicate key 'name'"):
        parse_queue_text('{"name": "a", "name": "b", "fields": []}', "json")
    with pytest.raises(InvalidInput, match="invalid TOML"):
        parse_queue_text("name = ", "toml")
    with pytest.raises(InvalidInput, match=r"unsupported format '\.ini'"):
        load_queue_definition(tmp_path / "queue.ini")
    with pytest.raises(ConfigError, match="cannot read queue definition"):
        load_queue_definition(tmp_path / "missing.toml")
