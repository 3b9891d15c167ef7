"""The NAME[:ARGS] syntax, canonical JSON and fingerprints of scorer specs."""

from __future__ import annotations

import hashlib

import pytest

from assay.errors import InvalidInput
from assay.scorers import ScorerSpec, canonical_json


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("exact", "exact", {}),
        ("  exact  ", "exact", {}),
        ("exact:", "exact", {}),
        ("exact:normalize=false", "exact", {"normalize": False}),
        ("numeric:abs_tol=0.01,extract=true", "numeric", {"abs_tol": 0.01, "extract": True}),
        ("numeric: abs_tol = 1e-3 , rel_tol=0", "numeric", {"abs_tol": 0.001, "rel_tol": 0}),
        (r"regex:pattern=^\d+$", "regex", {"pattern": r"^\d+$"}),
        (r"regex:pattern=\d{1,3},flags=i", "regex", {"pattern": r"\d{1,3}", "flags": "i"}),
        ("regex:pattern=[a,b]x", "regex", {"pattern": "[a,b]x"}),
        ('regex:pattern="a,b"', "regex", {"pattern": "a,b"}),
        ('regex:pattern="say \\"hi\\", ok"', "regex", {"pattern": 'say "hi", ok'}),
        ("regex:pattern=:)", "regex", {"pattern": ":)"}),
        ("regex:pattern=a=b", "regex", {"pattern": "a=b"}),
        (
            'contains:values=["a", "b,c"],mode=any',
            "contains",
            {"values": ["a", "b,c"], "mode": "any"},
        ),
        ("python:function=checks:polite", "python", {"function": "checks:polite"}),
        ("judge:scale=[1,5],model=gpt-4o", "judge", {"scale": [1, 5], "model": "gpt-4o"}),
        ("x:value=", "x", {"value": ""}),
        ("x:value=NaN", "x", {"value": "NaN"}),
        ("x:value=007", "x", {"value": "007"}),
        ("x:value=null", "x", {"value": None}),
        ("x:value=héllo wörld", "x", {"value": "héllo wörld"}),
        (
            'regex:{"pattern": "^\\\\d+$", "flags": "i"}',
            "regex",
            {"pattern": r"^\d+$", "flags": "i"},
        ),
        ('json:{"schema": {"type": "object"}}', "json", {"schema": {"type": "object"}}),
        ("my-org.toxicity:level=2", "my-org.toxicity", {"level": 2}),
    ],
)
def test_parse(text: str, name: str, args: dict[str, object]) -> None:
    spec = ScorerSpec.parse(text)
    assert spec.name == name
    assert spec.args == args


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "scorer spec is empty"),
        ("   ", "scorer spec is empty"),
        (":a=1", "name '' is not valid"),
        ("ex act", "name 'ex act' is not valid"),
        ("9lives", "name '9lives' is not valid"),
        ('regex:{"pattern": }', "start with '\\{' but are not valid JSON"),
        ('regex:{"pattern": NaN}', "not valid JSON"),
        ("regex:[1, 2]", "has no '='"),
        ("regex:pattern", "argument 'pattern' has no '='"),
        ("regex:pattern=a,,flags=i", "empty argument"),
        ("regex:pattern=a,", "empty argument"),
        ("regex:my pattern=a", "argument name 'my pattern' is not an identifier"),
        ("regex:pattern=a,pattern=b", "argument 'pattern' is given twice"),
        ('regex:pattern="abc', "unclosed '\"'"),
        ("contains:values=[1,2", "unclosed '\\[' or '\\{'"),
    ],
)
def test_parse_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ScorerSpec.parse(text)


def test_json_arguments_must_be_an_object() -> None:
    # A JSON array is not taken for JSON arguments (only '{' starts them), and a
    # JSON object that parses to something else cannot happen; a non-object from
    # code is refused by the constructor.
    with pytest.raises(InvalidInput, match="arguments must be an object, got list"):
        ScorerSpec("regex", [1, 2])  # type: ignore[arg-type]


def test_string_form_round_trips() -> None:
    for text in ["exact", 'regex:pattern="a,b",flags=i', "numeric:abs_tol=0.5"]:
        spec = ScorerSpec.parse(text)
        assert ScorerSpec.parse(str(spec)) == spec
    assert str(ScorerSpec("exact")) == "exact"
    assert str(ScorerSpec("regex", {"pattern": "é", "flags": "i"})) == (
        'regex:{"flags":"i","pattern":"é"}'
    )


def test_canonical_form_and_fingerprint_are_pinned() -> None:
    spec = ScorerSpec("numeric", {"rel_tol": 0.5, "abs_tol": 1.0})
    assert spec.canonical == '{"args":{"abs_tol":1,"rel_tol":0.5},"name":"numeric"}'
    expected = hashlib.sha256(spec.canonical.encode()).hexdigest()
    assert spec.fingerprint == expected
    assert len(spec.fingerprint) == 64


def test_equal_meaning_gives_equal_fingerprints() -> None:
    a = ScorerSpec.parse("numeric:abs_tol=1,extract=true")
    b = ScorerSpec.parse('numeric:{"extract": true, "abs_tol": 1.0}')
    assert a == b
    assert a.fingerprint == b.fingerprint
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


def test_different_args_give_different_fingerprints() -> None:
    fingerprints = {
        ScorerSpec.parse(text).fingerprint
        for text in ["exact", "exact:normalize=false", "exact:normalize=true", "contains"]
    }
    assert len(fingerprints) == 4


def test_the_spec_keeps_its_own_copy_of_the_args() -> None:
    args: dict[str, object] = {"values": ["a"]}
    spec = ScorerSpec("contains", args)
    args["values"] = ["b"]
    assert spec.args == {"values": ["a"]}


def test_dict_round_trip_and_errors() -> None:
    spec = ScorerSpec("regex", {"pattern": "x"})
    assert ScorerSpec.from_dict(spec.to_dict()) == spec
    assert ScorerSpec.from_dict({"name": "exact"}) == ScorerSpec("exact")
    with pytest.raises(InvalidInput, match="no name"):
        ScorerSpec.from_dict({"args": {}})
    with pytest.raises(InvalidInput, match="unknown fields: version"):
        ScorerSpec.from_dict({"name": "exact", "version": 2})


def test_args_must_be_json() -> None:
    with pytest.raises(InvalidInput, match=r"scorer 'numeric': args\.x: NaN"):
        ScorerSpec("numeric", {"x": float("nan")})
    with pytest.raises(InvalidInput, match="set is not a JSON value"):
        ScorerSpec("numeric", {"x": {1}})


def test_canonical_json_rules() -> None:
    assert canonical_json({"b": [1.0, 2.5, None], "a": "é"}) == '{"a":"é","b":[1,2.5,null]}'
    assert canonical_json(2.0**60) == "1.152921504606847e+18"
    with pytest.raises(InvalidInput, match="keys must be strings"):
        canonical_json({1: "x"})
