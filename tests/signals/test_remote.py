"""Which online scorers a project key may create: no code, no unlisted URLs."""

from __future__ import annotations

import pytest

from assay.errors import Forbidden
from assay.settings import Settings
from assay.signals.remote import check_api_spec, parse_api_spec

LOCAL = "http://vllm.internal:8000/v1"


def test_listed_urls_are_allowed_and_others_refused() -> None:
    urls = [LOCAL]
    check_api_spec(parse_api_spec(f"judge:model=m,base_url={LOCAL}/"), urls)
    check_api_spec(parse_api_spec(f"embedding:embedder=openai:e5@{LOCAL}"), urls)
    check_api_spec(parse_api_spec("regex:pattern=refund"), urls)
    check_api_spec(parse_api_spec("no-such-scorer"), urls)  # left to the 400 path
    with pytest.raises(Forbidden, match="judge base_url"):
        check_api_spec(parse_api_spec("judge:model=m"), urls)  # OpenAI is not listed here
    with pytest.raises(Forbidden, match="cannot be created over the REST API"):
        check_api_spec(parse_api_spec("python:function=app:score"), urls)


def test_the_setting_reads_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().api_scorer_base_urls == ["https://api.openai.com/v1"]
    monkeypatch.setenv("ASSAY_API_SCORER_BASE_URLS", f'["{LOCAL}"]')
    assert Settings().api_scorer_base_urls == [LOCAL]
