"""Datasets: eval suites as immutable, content-addressed versions of cases.

Cases come from files (JSONL, CSV, Parquet), the API, or reviewed production traces;
each version records where it came from, and each case its provenance. Exact
duplicates are found on every add, near duplicates with an embedder.
"""

from assay.datasets.cases import CASE_FIELDS, CaseSpec, case_hash, derived_id, parse_case
from assay.datasets.diff import CaseChange, DatasetDiff, diff_cases
from assay.datasets.duplicates import (
    Duplicate,
    EmbeddingFinder,
    NearDuplicateFinder,
    exact_duplicates,
)
from assay.datasets.formats import (
    CaseFormat,
    case_record,
    format_of,
    load_cases,
    read_cases,
    write_cases,
)
from assay.datasets.registry import (
    AddMode,
    AddResult,
    CaseFacts,
    CaseView,
    DatasetView,
    OnDuplicate,
    VersionView,
    add_version,
    check_name,
    create_dataset,
    get_dataset,
    get_version,
    list_datasets,
    parse_ref,
    version_case_facts,
    version_cases,
)

__all__ = [
    "CASE_FIELDS",
    "AddMode",
    "AddResult",
    "CaseChange",
    "CaseFacts",
    "CaseFormat",
    "CaseSpec",
    "CaseView",
    "DatasetDiff",
    "DatasetView",
    "Duplicate",
    "EmbeddingFinder",
    "NearDuplicateFinder",
    "OnDuplicate",
    "VersionView",
    "add_version",
    "case_hash",
    "case_record",
    "check_name",
    "create_dataset",
    "derived_id",
    "diff_cases",
    "exact_duplicates",
    "format_of",
    "get_dataset",
    "get_version",
    "list_datasets",
    "load_cases",
    "parse_case",
    "parse_ref",
    "read_cases",
    "version_case_facts",
    "version_cases",
    "write_cases",
]
