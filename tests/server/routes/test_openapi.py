"""The committed openapi.json matches the app's schema (regenerate: scripts/openapi)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

from assay.server.openapi import REGENERATE, build_schema, render
from assay.server.routes import (
    annotate,
    feedback,
    online_scorers,
    projects,
    queue_items,
    queue_stats,
    queues,
    releases,
    rules,
    traces,
    users,
)

REPO = Path(__file__).resolve().parents[3]
COMMITTED = REPO / "openapi.json"


def test_committed_openapi_matches_the_app() -> None:
    assert COMMITTED.exists(), f"openapi.json is missing; generate it with {REGENERATE}"
    expected = render(build_schema())
    current = COMMITTED.read_text(encoding="utf-8")
    if current != expected:
        pytest.fail(
            f"openapi.json differs from the app's schema: regenerate it with {REGENERATE} "
            "and commit the result",
            pytrace=False,
        )


def test_every_api_route_is_documented() -> None:
    schema = json.loads(render(build_schema()))
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), f"{where} has no summary"
            assert operation.get("description"), f"{where} has no docstring"


@pytest.mark.parametrize(
    "module",
    [
        feedback,
        projects,
        releases,
        traces,
        queues,
        queue_items,
        queue_stats,
        annotate,
        rules,
        online_scorers,
        users,
    ],
)
def test_every_api_model_field_is_described(module: ModuleType) -> None:
    models = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    ]
    assert models
    for model in models:
        assert model.__doc__, f"{model.__name__} has no docstring"
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
