"""Token prices: the shipped table, prefix lookups, and a user's prices file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import ConfigError
from assay.ingest.normalize import normalize_traces
from assay.ingest.pricing import Price, PriceTable
from assay.projects.service import ProjectConfig
from assay.testing.otlp import export_trace_request, genai_llm_span, openinference_llm_span

SHIPPED = PriceTable()


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o", Price(2.50, 10.00)),
        ("gpt-4o-mini", Price(0.15, 0.60)),  # not gpt-4o: the longest prefix wins
        ("gpt-4o-mini-2024-07-18", Price(0.15, 0.60)),  # a dated snapshot
        ("GPT-4o-2024-08-06", Price(2.50, 10.00)),  # case does not matter
        ("openai/gpt-4.1-mini", Price(0.40, 1.60)),  # a provider prefix is dropped
        ("claude-sonnet-4-20250514", Price(3.00, 15.00)),
        ("text-embedding-3-small", Price(0.02, 0.0)),
    ],
)
def test_shipped_prices(model: str, expected: Price) -> None:
    assert SHIPPED.price(model) == expected


@pytest.mark.parametrize("model", ["in-house-7b", "llama-3-70b", "gpt-4", ""])
def test_unknown_models_have_no_price(model: str) -> None:
    assert SHIPPED.price(model) is None


def test_cost_from_tokens() -> None:
    assert SHIPPED.cost("gpt-4o", 1_000_000, 100_000) == pytest.approx(2.50 + 1.00)
    assert SHIPPED.cost("gpt-4o", 1_000, None) == pytest.approx(0.0025)
    assert SHIPPED.cost("gpt-4o", None, 1_000) == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("model", "prompt", "completion"),
    [(None, 10, 10), ("", 10, 10), ("gpt-4o", None, None), ("in-house-7b", 10, 10)],
)
def test_cost_unknown(model: str | None, prompt: int | None, completion: int | None) -> None:
    assert SHIPPED.cost(model, prompt, completion) is None


@pytest.mark.parametrize("model", ["o3-pro", "o3-mini", "gemini-2.5-flash-lite"])
def test_a_different_model_is_not_priced_as_its_prefix(model: str) -> None:
    prefix = model.rsplit("-", 1)[0]
    assert SHIPPED.price(model) != SHIPPED.price(prefix)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_file_extends_and_overrides(tmp_path: Path) -> None:
    table = PriceTable(
        write(
            tmp_path,
            '[models."in-house-7b"]\ninput = 0.05\noutput = 0.10\n\n'
            '[models."GPT-4o"]\ninput = 1.0\noutput = 4.0\n\n'
            '[models."embedder"]\ninput = 0.01\n',
        )
    )
    assert table.price("in-house-7b-2025-06-01") == Price(0.05, 0.10)
    assert table.price("in-house-7b-v2") is None  # another model, not a snapshot
    assert table.price("gpt-4o-2024-08-06") == Price(1.0, 4.0)  # overridden, case folded
    assert table.price("gpt-4o-mini") == Price(0.15, 0.60)  # the rest of the shipped table
    assert table.price("embedder") == Price(0.01, 0.0)  # output defaults to 0
    assert table.cost("in-house-7b", 2_000_000, 1_000_000) == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models = [1, 2]", "must be a table"),
        ('[models."x"]\noutput = 1.0\n', r"models\.x needs numeric `input`"),
        ('[models."x"]\ninput = "cheap"\n', r"models\.x needs numeric"),
        ("[models\nbroken", "prices file"),
    ],
)
def test_bad_user_file_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PriceTable(write(tmp_path, text))


def test_missing_user_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="prices file"):
        PriceTable(tmp_path / "nope.toml")


def test_ingest_uses_the_user_prices(tmp_path: Path, config: ProjectConfig) -> None:
    table = PriceTable(write(tmp_path, '[models."in-house-7b"]\ninput = 1.0\noutput = 2.0\n'))
    request = export_trace_request(
        [
            genai_llm_span(model="in-house-7b", input_tokens=1000, output_tokens=500),
            openinference_llm_span(model="in-house-7b", prompt_tokens=10, completion_tokens=0),
        ]
    )
    rows = normalize_traces(request, config, table).rows
    assert rows[0]["cost"] == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    assert rows[1]["cost"] == pytest.approx(10 / 1e6)
