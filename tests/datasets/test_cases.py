"""Cases: validation with messages that name the field, hashing, derived ids."""

from __future__ import annotations

import pytest

from assay.datasets import CaseSpec, case_hash, derived_id, parse_case
from assay.datasets.cases import duplicate_key, input_text
from assay.errors import InvalidInput


def test_unknown_fields_become_metadata() -> None:
    case = parse_case({"input": "hi", "source_url": "https://x", "metadata": {"a": 1}}, "f line 1")
    assert case.metadata == {"source_url": "https://x", "a": 1}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"reference": "x"}, "f line 3: every case needs an input field"),
        ({"input": "   "}, "input is empty"),
        ({"input": []}, "empty list or object"),
        ({"input": "q", "weight": 0}, "weight"),
        ({"input": "q", "weight": "heavy"}, "weight"),
        ({"input": "q", "tags": [1]}, "tags must be non-empty strings"),
        ({"input": "q", "slices": {"lang": {"nested": 1}}}, "slices.lang"),
        ({"input": "q", "id": ""}, "id"),
        ({"input": 5}, "input"),
    ],
)
def test_invalid_cases_name_where_and_what(raw: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match="f line 3") as info:
        parse_case(raw, "f line 3")
    assert message in str(info.value)


def test_numeric_ids_and_clusters_become_text() -> None:
    case = parse_case({"input": "q", "id": 7, "cluster": 12}, "x")
    assert (case.id, case.cluster) == ("7", "12")


def test_tags_are_deduplicated_in_order() -> None:
    assert parse_case({"input": "q", "tags": ["b", "a", "b"]}, "x").tags == ("b", "a")
    assert parse_case({"input": "q", "tags": "golden"}, "x").tags == ("golden",)


def test_hash_covers_content_and_id() -> None:
    base = CaseSpec(input="What is 2+2?", reference="4")
    assert case_hash(base, "a") == case_hash(CaseSpec(input="What is 2+2?", reference="4"), "a")
    assert case_hash(base, "a") != case_hash(base, "b")
    assert case_hash(base, "a") != case_hash(CaseSpec(input="What is 2+2?", reference="5"), "a")
    assert case_hash(base, "a") != case_hash(base.model_copy(update={"tags": ("x",)}), "a")


def test_derived_id_follows_the_input_only() -> None:
    a = CaseSpec(input="Hello", reference="x")
    b = CaseSpec(input="Hello", reference="y", tags=("t",))
    assert derived_id(a) == derived_id(b)
    assert derived_id(a) != derived_id(CaseSpec(input="Hello!"))
    assert derived_id(a).startswith("c")
    assert len(derived_id(a)) == 13


def test_duplicate_key_ignores_case_and_whitespace_at_any_depth() -> None:
    assert duplicate_key("What  is\nthis?") == duplicate_key("what is this?")
    chat_a = [{"role": "user", "content": "Hi  THERE"}]
    chat_b = [{"role": "user", "content": "hi there"}]
    assert duplicate_key(chat_a) == duplicate_key(chat_b)
    assert duplicate_key("a b") != duplicate_key("ab")


def test_input_text_of_chat_messages() -> None:
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert input_text(chat) == "Be brief.\nHi"
    assert input_text({"q": 1}) == '{"q":1}'
    assert input_text("plain") == "plain"


def test_duplicates_threshold_matches_the_embeddings_package() -> None:
    from assay import embeddings
    from assay.datasets import duplicates

    assert duplicates.NEAR_DUPLICATE_COSINE == embeddings.NEAR_DUPLICATE_COSINE
