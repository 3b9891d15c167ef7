"""``--target`` specs and target files."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import InvalidInput
from assay.targets import HttpTarget, OpenAIChatTarget, PythonTarget, load_target


def test_short_specs(tmp_path: Path) -> None:
    (tmp_path / "specapp.py").write_text("def f(x):\n    return x\n")
    assert isinstance(load_target("specapp:f", cwd=tmp_path), PythonTarget)
    assert isinstance(load_target("python:specapp:f", cwd=tmp_path), PythonTarget)
    assert isinstance(load_target("https://example.org/answer"), HttpTarget)
    chat = load_target("openai:gpt-4o-mini@http://127.0.0.1:8000/v1", api_key="k")
    assert isinstance(chat, OpenAIChatTarget)
    assert (chat.model, chat.base_url) == ("gpt-4o-mini", "http://127.0.0.1:8000/v1")


def test_target_files(tmp_path: Path) -> None:
    (tmp_path / "prompt.j2").write_text("Answer: {{ input }}")
    (tmp_path / "t.toml").write_text(
        'kind = "openai"\nbase_url = "http://h/v1"\nmodel = "m"\nprompt_file = "prompt.j2"\n'
        "[params]\ntemperature = 0.3\n"
    )
    target = load_target("t.toml", cwd=tmp_path)
    assert isinstance(target, OpenAIChatTarget)
    assert target.prompt == "Answer: {{ input }}"
    assert target.params == {"temperature": 0.3}
    (tmp_path / "h.yaml").write_text(
        "kind: http\nurl: http://h/x\nbody: {q: $input}\noutput: a.b\nheaders: {X-Key: s}\n"
    )
    http = load_target(str(tmp_path / "h.yaml"))
    assert isinstance(http, HttpTarget)
    assert (http.body, http.output, http.headers) == ({"q": "$input"}, "a.b", {"X-Key": "s"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('kind = "grpc"', "kind must be python, http or openai"),
        ('kind = "http"\nurl = "http://h"\ntimeout = 3', "unknown field timeout"),
        ('kind = "openai"\nmodel = "m"', "base_url is required"),
        (
            'kind = "openai"\nbase_url="http://h"\nmodel="m"\nprompt="a"\nprompt_file="b"',
            "not both",
        ),
        ("kind = [", "t.toml"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "t.toml").write_text(text)
    with pytest.raises(InvalidInput, match=message):
        load_target("t.toml", cwd=tmp_path)


def test_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="use module:function"):
        load_target("answer")
    with pytest.raises(InvalidInput, match="openai:MODEL@BASE_URL"):
        load_target("openai:gpt-4o")
    with pytest.raises(InvalidInput, match="cannot read target config"):
        load_target("missing.toml", cwd=tmp_path)
