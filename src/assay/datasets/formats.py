"""Case files: JSONL, CSV and Parquet, read into :class:`CaseSpec` and written back.

JSONL is the native shape: one object per line with at least ``input``, and
optionally ``id``, ``reference``, ``rubric``, ``tags`` (list), ``slices`` (object),
``weight``, ``cluster``, ``metadata``, ``provenance``; any other field is kept as
metadata.

CSV and Parquet carry the same columns, with these readings of text cells (CSV
cells are always text): an ``input`` or ``reference`` cell holding a JSON array or
object is read as structured data; ``tags`` is a JSON list or comma-separated;
``slices``, ``metadata`` and ``provenance`` are JSON objects; a column named
``slice.NAME`` is the slice ``NAME``; an empty cell is an absent value. Exports
write structured values as JSON text, so an export reads back as the same cases.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from assay.datasets.cases import CASE_FIELDS, CaseSpec, parse_case
from assay.errors import InvalidInput

SLICE_COLUMN_PREFIX = "slice."
_JSON_OBJECT_COLUMNS = ("slices", "metadata", "provenance")


class CaseFormat(StrEnum):
    """The file formats a dataset imports and exports."""

    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


_SUFFIXES = {
    ".jsonl": CaseFormat.JSONL,
    ".ndjson": CaseFormat.JSONL,
    ".csv": CaseFormat.CSV,
    ".parquet": CaseFormat.PARQUET,
    ".pq": CaseFormat.PARQUET,
}


def format_of(path: Path | str, given: str | None = None) -> CaseFormat:
    """The format named by ``given``, else by the file's suffix.

    Raises:
        InvalidInput: neither names a known format.
    """
    if given:
        try:
            return CaseFormat(given.lower())
        except ValueError:
            raise InvalidInput(
                f"unknown format {given!r}: use one of {', '.join(f.value for f in CaseFormat)}"
            ) from None
    suffix = Path(path).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    raise InvalidInput(
        f"cannot tell the format of {str(path)!r} from its suffix; name it with "
        "--format jsonl|csv|parquet (suffixes: .jsonl, .ndjson, .csv, .parquet)"
    )


def read_cases(data: bytes, fmt: CaseFormat, name: str = "input") -> list[CaseSpec]:
    """Parse a case file's bytes.

    Args:
        data: The file's content.
        fmt: Its format.
        name: What to call it in messages (the file name).

    Raises:
        InvalidInput: The file is malformed, or a case is invalid; the message
            names the line (JSONL, CSV) or row (Parquet) and the field.
    """
    if fmt is CaseFormat.JSONL:
        return list(_read_jsonl(data, name))
    if fmt is CaseFormat.CSV:
        return list(_read_csv(data, name))
    return list(_read_parquet(data, name))


def load_cases(path: Path, fmt: str | None = None) -> list[CaseSpec]:
    """Read a case file from disk (the format from ``fmt`` or the suffix).

    Raises:
        InvalidInput: as :func:`read_cases`, or the file cannot be read.
    """
    kind = format_of(path, fmt)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    return read_cases(data, kind, path.name)


def _read_jsonl(data: bytes, name: str) -> Iterator[CaseSpec]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(raw, dict):
            raise InvalidInput(f"{where}: expected a JSON object, got {type(raw).__name__}")
        yield parse_case(raw, where)


def _read_csv(data: bytes, name: str) -> Iterator[CaseSpec]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "input" not in reader.fieldnames:
        raise InvalidInput(f"{name}: the header row must have an input column")
    for row in reader:
        where = f"{name} line {reader.line_num}"
        if None in row:
            raise InvalidInput(f"{where}: more cells than header columns")
        yield parse_case(_typed_row(row, where), where)


def _read_parquet(data: bytes, name: str) -> Iterator[CaseSpec]:
    # PyArrow takes ~0.3 s to import: only Parquet files pay for it.
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{name}: not a readable Parquet file ({exc})") from exc
    if "input" not in table.column_names:
        raise InvalidInput(f"{name}: the table must have an input column")
    for number, row in enumerate(table.to_pylist(), start=1):
        where = f"{name} row {number}"
        yield parse_case(_typed_row(row, where), where)


def _typed_row(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A CSV or Parquet row as case fields: JSON cells parsed, slice columns folded."""
    out: dict[str, Any] = {}
    slices: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, str) and value == ""):
            continue
        if key.startswith(SLICE_COLUMN_PREFIX):
            slices[key[len(SLICE_COLUMN_PREFIX) :]] = value
        elif key in ("input", "reference"):
            out[key] = _maybe_json(value)
        elif key == "tags":
            out[key] = _tags(value, where)
        elif key in _JSON_OBJECT_COLUMNS:
            out[key] = _json_object(value, key, where)
        elif key == "weight" and isinstance(value, str):
            out[key] = _number(value, where)
        else:
            out[key] = value
    if slices:
        out["slices"] = {**slices, **out.get("slices", {})}
    return out


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return value
        if isinstance(parsed, (list, dict)):
            return parsed
    return value


def _tags(value: Any, where: str) -> Any:
    if not isinstance(value, str):
        return value
    if value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{where}: tags is not a JSON list ({exc.msg})") from exc
    return [tag.strip() for tag in value.split(",") if tag.strip()]


def _json_object(value: Any, key: str, where: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{where}: {key} is not a JSON object ({exc.msg})") from exc
    if not isinstance(parsed, dict):
        raise InvalidInput(f"{where}: {key} must be a JSON object")
    return parsed


def _number(value: str, where: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{where}: weight {value!r} is not a number") from None


# -- writing -----------------------------------------------------------------------


def case_record(case: CaseSpec, case_id: str) -> dict[str, Any]:
    """A case as one JSONL object (absent and empty fields left out)."""
    record: dict[str, Any] = {"id": case_id, "input": case.input}
    if case.reference is not None:
        record["reference"] = case.reference
    if case.rubric is not None:
        record["rubric"] = case.rubric
    if case.tags:
        record["tags"] = list(case.tags)
    if case.slices:
        record["slices"] = case.slices
    if case.weight != 1.0:
        record["weight"] = case.weight
    if case.cluster is not None:
        record["cluster"] = case.cluster
    if case.metadata:
        record["metadata"] = case.metadata
    if case.provenance:
        record["provenance"] = case.provenance
    return record


def write_cases(cases: Iterable[tuple[str, CaseSpec]], fmt: CaseFormat) -> bytes:
    """Serialise ``(id, case)`` pairs in ``fmt``; reading the bytes back gives the
    same cases."""
    pairs = list(cases)
    if fmt is CaseFormat.JSONL:
        lines = (json.dumps(case_record(c, i), ensure_ascii=False) for i, c in pairs)
        return "".join(line + "\n" for line in lines).encode()
    rows = [_flat_row(c, i) for i, c in pairs]
    if fmt is CaseFormat.CSV:
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=_FLAT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode()
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(c, pa.float64() if c == "weight" else pa.string()) for c in _FLAT_COLUMNS])
    table = pa.Table.from_pylist(_parquet_rows(rows), schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


# A flat file (CSV, Parquet) has one column per case field, in the JSONL order.
_FLAT_COLUMNS: Sequence[str] = CASE_FIELDS


def _flat_row(case: CaseSpec, case_id: str) -> dict[str, Any]:
    def text(value: Any) -> str:
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def obj(value: Mapping[str, Any]) -> str:
        return json.dumps(value, ensure_ascii=False) if value else ""

    return {
        "id": case_id,
        "input": text(case.input),
        "reference": text(case.reference),
        "rubric": case.rubric or "",
        "tags": json.dumps(list(case.tags), ensure_ascii=False) if case.tags else "",
        "slices": obj(case.slices),
        "weight": case.weight,
        "cluster": case.cluster or "",
        "metadata": obj(case.metadata),
        "provenance": obj(case.provenance),
    }


def _parquet_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Parquet has real nulls: an absent value is null, not an empty string.
    return [{k: (None if v == "" else v) for k, v in row.items()} for row in rows]
