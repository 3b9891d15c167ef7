"""Case files: JSONL, CSV and Parquet read with clear errors, and round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assay.datasets import CaseFormat, CaseSpec, format_of, load_cases, read_cases, write_cases
from assay.errors import InvalidInput

CASES = [
    CaseSpec(
        id="greet",
        input="Hello, who are you?",
        reference="I am the support bot.",
        tags=("golden", "smalltalk"),
        slices={"lang": "en", "tier": "pro"},
        weight=2.0,
        cluster="conv-1",
        metadata={"origin": "handbook", "n": 3},
        provenance={"trace_id": "ab" * 16, "by": "jane"},
    ),
    CaseSpec(
        id="chat",
        input=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        reference={"answer": "Hello", "confidence": 0.9},
        rubric="Polite and short.",
    ),
    CaseSpec(id="plain", input="Wie spät ist es?", slices={"lang": "de", "beta": True}),
]


@pytest.mark.parametrize("fmt", list(CaseFormat))
def test_export_reads_back_as_the_same_cases(fmt: CaseFormat) -> None:
    data = write_cases([(c.id or "", c) for c in CASES], fmt)
    assert read_cases(data, fmt) == CASES


def test_jsonl_lines_keep_unknown_fields_and_skip_blank_lines() -> None:
    data = b'{"input": "q1", "url": "u"}\n\n{"id": "x", "input": "q2"}\n'
    cases = read_cases(data, CaseFormat.JSONL, "cases.jsonl")
    assert [c.metadata for c in cases] == [{"url": "u"}, {}]
    assert cases[1].id == "x"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"input": "ok"}\n{"input": \n', "cases.jsonl line 2: not JSON"),
        (b'["input"]\n', "cases.jsonl line 1: expected a JSON object, got list"),
        (b'{"reference": "r"}\n', "cases.jsonl line 1: every case needs an input field"),
        (b"\xff\xfe{", "cases.jsonl: not UTF-8"),
    ],
)
def test_jsonl_errors_name_the_line(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        read_cases(data, CaseFormat.JSONL, "cases.jsonl")
    assert message in str(info.value)


def test_csv_columns() -> None:
    data = (
        b"id,input,reference,tags,slice.lang,weight,notes\n"
        b'a,"[{""role"": ""user"", ""content"": ""hi""}]",hello,"golden, smoke",en,2,first\n'
        b'b,[not json,,["x"],,,\n'
    )
    first, second = read_cases(data, CaseFormat.CSV, "c.csv")
    assert first.input == [{"role": "user", "content": "hi"}]
    assert first.tags == ("golden", "smoke")
    assert first.slices == {"lang": "en"}
    assert first.weight == 2.0
    assert first.metadata == {"notes": "first"}
    assert second.input == "[not json"
    assert second.tags == ("x",)
    assert second.reference is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,question\n1,hi\n", "c.csv: the header row must have an input column"),
        (b"input,weight\nq,heavy\n", "c.csv line 2: weight 'heavy' is not a number"),
        (b"input,slices\nq,[1]\n", "c.csv line 2: slices must be a JSON object"),
        (b"input\nq,extra\n", "c.csv line 2: more cells than header columns"),
    ],
)
def test_csv_errors_name_the_line(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        read_cases(data, CaseFormat.CSV, "c.csv")
    assert message in str(info.value)


def test_parquet_with_native_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "input": ["q1", "q2"],
            "tags": [["golden"], None],
            "weight": [1.5, None],
            "slice.lang": ["en", "fr"],
        }
    )
    path = tmp_path / "cases.parquet"
    pq.write_table(table, path)
    cases = load_cases(path)
    assert [c.tags for c in cases] == [("golden",), ()]
    assert [c.weight for c in cases] == [1.5, 1.0]
    assert [c.slices for c in cases] == [{"lang": "en"}, {"lang": "fr"}]


def test_parquet_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a readable Parquet file"):
        read_cases(b"PAR1 nonsense", CaseFormat.PARQUET, "x.parquet")
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"question": ["q"]}), sink)
    with pytest.raises(InvalidInput, match="must have an input column"):
        read_cases(sink.getvalue().to_pybytes(), CaseFormat.PARQUET, "x.parquet")


def test_format_from_suffix_or_name() -> None:
    assert format_of("a.JSONL") is CaseFormat.JSONL
    assert format_of("a.ndjson") is CaseFormat.JSONL
    assert format_of("a.txt", "csv") is CaseFormat.CSV
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        format_of("a.txt")
    with pytest.raises(InvalidInput, match="unknown format 'xml'"):
        format_of("a.jsonl", "xml")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        load_cases(tmp_path / "nope.jsonl")


def test_jsonl_export_leaves_defaults_out() -> None:
    line = write_cases([("x", CaseSpec(input="q"))], CaseFormat.JSONL).decode()
    assert json.loads(line) == {"id": "x", "input": "q"}
