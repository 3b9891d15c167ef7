"""The stats package: a leaf that imports only assay.errors, with a complete __all__."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import assay.stats

PACKAGE = Path(assay.stats.__file__).parent


def test_imports_nothing_from_assay_but_errors() -> None:
    for module in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] == "assay":
                    assert name == "assay.errors" or name.startswith("assay.stats"), (
                        f"{module.name} imports {name}"
                    )


INTERNAL = {"check_bootstrap_args", "check_groups", "has_few_distinct", "percentile_interval"}
"""Helpers the package's modules share; not part of its interface."""


def test_public_functions_and_classes_are_exported_and_documented() -> None:
    for name in assay.stats.__all__:
        value = getattr(assay.stats, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), f"{name} has no docstring"
    for module in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(module.read_text())
        for node in tree.body:
            is_public = isinstance(node, ast.FunctionDef | ast.ClassDef) and not (
                node.name.startswith("_")
            )
            # Helpers shared between the package's own modules stay internal.
            if is_public and module.stem not in {"inputs"} and node.name not in INTERNAL:
                assert node.name in assay.stats.__all__, f"{module.name}: {node.name} not exported"
