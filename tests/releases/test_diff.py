"""Field-by-field differences between manifests."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.releases import (
    FieldChange,
    canonical_json,
    diff_manifests,
    fingerprint,
    parse_manifest,
    unified_text_diff,
)

SEARCH: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "search",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    },
}
ESCALATE: dict[str, Any] = {"name": "escalate", "description": "Hand over to a person."}

BASE: dict[str, Any] = {
    "name": "v1",
    "model": {"id": "gpt-4o", "provider": "openai"},
    "generation": {"temperature": 0.2, "max_tokens": 512},
    "prompts": {"system": "You are helpful.\nAnswer briefly.\nCite sources.", "user": "{q}"},
    "tools": [SEARCH, ESCALATE],
}


def changed(**sections: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["name"] = "v2"
    data.update(sections)
    return data


def test_identical_behaviour_has_no_changes_even_under_another_name() -> None:
    assert diff_manifests(BASE, changed()) == []


def test_changed_temperature() -> None:
    new = changed(generation={"temperature": 0.7, "max_tokens": 512})
    assert diff_manifests(BASE, new) == [
        FieldChange("generation.temperature", "changed", old=0.2, new=0.7)
    ]


def test_added_tool_is_found_by_name() -> None:
    refund = {"name": "refund", "parameters": {"type": "object"}}
    new = changed(tools=[SEARCH, ESCALATE, refund])
    assert diff_manifests(BASE, new) == [FieldChange("tools[refund]", "added", new=refund)]


def test_removed_tool_is_found_by_name() -> None:
    new = changed(tools=[ESCALATE])
    assert diff_manifests(BASE, new) == [FieldChange("tools[search]", "removed", old=SEARCH)]


def test_a_tool_schema_change_is_reported_inside_the_tool() -> None:
    search = copy.deepcopy(SEARCH)
    search["function"]["parameters"]["properties"]["q"]["type"] = "integer"
    assert diff_manifests(BASE, changed(tools=[search, ESCALATE])) == [
        FieldChange(
            "tools[search].function.parameters.properties.q.type",
            "changed",
            old="string",
            new="integer",
        )
    ]


def test_reordered_tools_report_the_order() -> None:
    changes = diff_manifests(BASE, changed(tools=[ESCALATE, SEARCH]))
    assert changes == [
        FieldChange("tools", "changed", old=["search", "escalate"], new=["escalate", "search"])
    ]


def test_changed_prompt_with_a_unified_diff() -> None:
    prompts = {"system": "You are helpful.\nAnswer in detail.\nCite sources.", "user": "{q}"}
    [change] = diff_manifests(BASE, changed(prompts=prompts))
    assert change.path == "prompts.system"
    assert change.kind == "changed"
    assert change.unified_diff() == (
        "--- a/prompts.system\n"
        "+++ b/prompts.system\n"
        "@@ -1,3 +1,3 @@\n"
        " You are helpful.\n"
        "-Answer briefly.\n"
        "+Answer in detail.\n"
        " Cite sources."
    )


def test_added_and_removed_sections_and_fields() -> None:
    new = changed(model={"id": "gpt-4o"}, retrieval={"top_k": 5})
    assert diff_manifests(BASE, new) == [
        FieldChange("model.provider", "removed", old="openai"),
        FieldChange("retrieval", "added", new={"top_k": 5}),
    ]


def test_empty_sections_are_not_changes() -> None:
    assert diff_manifests(BASE, changed(retrieval={}, extra={"x": None})) == []


def test_integral_float_is_not_a_change() -> None:
    old = {"name": "a", "generation": {"temperature": 1}}
    new = {"name": "b", "generation": {"temperature": 1.0}}
    assert diff_manifests(old, new) == []


def test_a_boolean_is_not_the_number_one() -> None:
    old = {"name": "a", "extra": {"stream": 1}}
    new = {"name": "b", "extra": {"stream": True}}
    assert diff_manifests(old, new) == [FieldChange("extra.stream", "changed", old=1, new=True)]


def test_unnamed_lists_are_aligned_not_compared_by_position() -> None:
    old = {"name": "a", "prompts": ["Be brief.", "Be kind.", "{q}"]}
    new = {"name": "b", "prompts": ["You are a bot.", "Be brief.", "Be kind!", "{q}"]}
    assert diff_manifests(old, new) == [
        FieldChange("prompts[0]", "added", new="You are a bot."),
        FieldChange("prompts[2]", "changed", old="Be kind.", new="Be kind!"),
    ]


def test_odd_keys_are_quoted_in_paths() -> None:
    old = {"name": "a", "extra": {"my key": 1, "a.b": 1}}
    new = {"name": "b", "extra": {"my key": 2, "a.b": 2}}
    assert [c.path for c in diff_manifests(old, new)] == ['extra["a.b"]', 'extra["my key"]']


def test_summaries() -> None:
    assert FieldChange("a.b", "changed", 0.2, 0.7).summary() == "~ a.b: 0.2 -> 0.7"
    assert FieldChange("t[x]", "added", None, {"name": "x"}).summary() == '+ t[x]: {"name": "x"}'
    assert FieldChange("p", "removed", "hi", None).summary() == '- p: "hi"'
    long = FieldChange("p", "added", None, "x" * 200).summary()
    assert long.endswith("…")
    assert len(long) < 80


def test_unified_diff_is_none_for_non_text() -> None:
    assert FieldChange("a", "changed", 1, 2).unified_diff() is None
    assert FieldChange("a", "added", None, "x").unified_diff() is None


def test_unified_text_diff_of_equal_text_is_empty() -> None:
    assert unified_text_diff("same\ntext", "same\ntext") == ""


@pytest.mark.parametrize(
    "new",
    [
        changed(),
        changed(generation={"temperature": 0.2, "max_tokens": 512, "seed": 1}),
        changed(tools=[ESCALATE, SEARCH]),
        changed(tools=[SEARCH]),
        changed(prompts={"system": "x", "user": "{q}"}),
        changed(model={"id": "gpt-4o", "provider": "openai", "snapshot": "2024-08-06"}),
    ],
)
def test_the_diff_is_empty_exactly_when_the_fingerprints_match(new: dict[str, Any]) -> None:
    same = fingerprint(parse_manifest(BASE)) == fingerprint(parse_manifest(new))
    assert (diff_manifests(BASE, new) == []) == same


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)
extras = st.dictionaries(st.sampled_from(["a", "b", "c.d"]), json_values, max_size=3)
temperatures = st.none() | st.sampled_from([0, 0.0, 0.5, 0.50, 1, 1.0])


@settings(max_examples=150, deadline=None)
@given(extra_a=extras, extra_b=extras, temp_a=temperatures, temp_b=temperatures)
def test_diff_and_fingerprint_agree(
    extra_a: dict[str, Any], extra_b: dict[str, Any], temp_a: Any, temp_b: Any
) -> None:
    a = parse_manifest({"name": "a", "extra": extra_a, "generation": {"temperature": temp_a}})
    b = parse_manifest({"name": "b", "extra": extra_b, "generation": {"temperature": temp_b}})
    same = fingerprint(a) == fingerprint(b)
    assert (diff_manifests(a, b) == []) == same
    # What the store keeps reads back to the same behaviour.
    assert fingerprint(parse_manifest(json.loads(canonical_json(a)))) == fingerprint(a)
