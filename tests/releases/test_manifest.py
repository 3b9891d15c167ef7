"""Manifest schema, file formats, canonical JSON and fingerprint."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from assay.errors import ConfigError, InvalidInput
from assay.releases import (
    SCHEMA_VERSION,
    Manifest,
    behaviour,
    canonical_dumps,
    canonical_json,
    fingerprint,
    load_manifest,
    parse_manifest,
    parse_manifest_text,
    upgrade_manifest_data,
)
from assay.releases import manifest as manifest_module

MANIFEST: dict[str, Any] = {
    "name": "support-bot-2026-11-20",
    "model": {"id": "gpt-4o", "provider": "openai", "snapshot": "2024-08-06"},
    "generation": {"temperature": 0.7, "top_p": 1, "max_tokens": 512, "seed": 7},
    "prompts": {"system": "You are a support agent.\nBe brief.", "user": "Q: {question}"},
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "search_kb",
                "parameters": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}},
                    "required": ["query"],
                },
            },
        },
        {"name": "escalate", "description": "Hand over to a person."},
    ],
    "retrieval": {
        "embedding_model": "text-embedding-3-small",
        "index_version": "kb-42",
        "top_k": 5,
        "chunking": {"size": 512, "overlap": 64},
        "reranker": "bge-reranker-v2",
    },
    "adapter": {"name": "tone-lora", "base_model": "llama-3.1-8b", "version": "3"},
    "serving": {"base_model": "llama-3.1-8b"},
    "code": {"commit": "1a2b3c4d", "repository": "github.com/acme/support"},
    "extra": {"guardrails": {"pii": True}},
}

# The same manifest, keys in another order, floats written differently.
TOML = """
name = "support-bot-2026-11-20"

[code]
repository = "github.com/acme/support"
commit = "1a2b3c4d"

[generation]
seed = 7
max_tokens = 512
top_p = 1.0
temperature = 0.70

[prompts]
user = "Q: {question}"
system = \"\"\"You are a support agent.
Be brief.\"\"\"

[model]
snapshot = "2024-08-06"
provider = "openai"
id = "gpt-4o"

[[tools]]
type = "function"
[tools.function]
name = "search_kb"
[tools.function.parameters]
type = "object"
required = ["query"]
properties = { query = { type = "string" } }

[[tools]]
name = "escalate"
description = "Hand over to a person."

[retrieval]
reranker = "bge-reranker-v2"
embedding_model = "text-embedding-3-small"
index_version = "kb-42"
top_k = 5
chunking = { overlap = 64, size = 512 }

[adapter]
version = 3
name = "tone-lora"
base_model = "llama-3.1-8b"

[serving]
base_model = "llama-3.1-8b"

[extra.guardrails]
pii = true
"""

YAML = """
name: support-bot-2026-11-20
extra:
  guardrails: {pii: true}
serving:
  base_model: llama-3.1-8b
adapter: {name: tone-lora, base_model: llama-3.1-8b, version: 3}
code:
  commit: 1a2b3c4d
  repository: github.com/acme/support
model:
  version: 2024-08-06   # the alias of snapshot; unquoted, and still text
  id: gpt-4o
  provider: openai
generation:
  temperature: 0.70
  top_p: 1.0
  max_tokens: 512
  seed: 7
prompts:
  system: |-
    You are a support agent.
    Be brief.
  user: "Q: {question}"
tools:
  - type: function
    function:
      name: search_kb
      parameters:
        type: object
        properties:
          query: {type: string}
        required: [query]
  - name: escalate
    description: Hand over to a person.
retrieval:
  embedding_model: text-embedding-3-small
  index_version: kb-42
  top_k: 5
  chunking: {size: 512, overlap: 64}
  reranker: bge-reranker-v2
"""

# Pinned so that a change to the canonical rules, which would orphan every stored
# fingerprint, cannot pass unnoticed.
PINNED_BEHAVIOUR = (
    '{"adapter":{"base_model":"llama-3.1-8b","name":"tone-lora","version":"3"},'
    '"code":{"commit":"1a2b3c4d","repository":"github.com/acme/support"},'
    '"extra":{"guardrails":{"pii":true}},'
    '"generation":{"max_tokens":512,"seed":7,"temperature":0.7,"top_p":1},'
    '"model":{"id":"gpt-4o","provider":"openai","snapshot":"2024-08-06"},'
    '"prompts":{"system":"You are a support agent.\\nBe brief.","user":"Q: {question}"},'
    '"retrieval":{"chunking":{"overlap":64,"size":512},'
    '"embedding_model":"text-embedding-3-small","index_version":"kb-42",'
    '"reranker":"bge-reranker-v2","top_k":5},'
    '"serving":{"base_model":"llama-3.1-8b"},'
    '"tools":[{"function":{"name":"search_kb","parameters":{"properties":'
    '{"query":{"type":"string"}},"required":["query"],"type":"object"}},"type":"function"},'
    '{"description":"Hand over to a person.","name":"escalate"}]}'
)
PINNED_FINGERPRINT = "babc83b45fe58fc3f44ed4233809b2f12ae22e9b3e21f0fd0da8ee132a6007e2"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def with_change(path: str, value: Any) -> dict[str, Any]:
    """MANIFEST with the dotted ``path`` set to ``value``."""
    data = copy.deepcopy(MANIFEST)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return data


# --- fingerprint ---------------------------------------------------------------------


def test_fingerprint_is_64_lowercase_hex() -> None:
    digest = fingerprint(parse_manifest(MANIFEST))
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")


def test_fingerprint_is_pinned() -> None:
    manifest = parse_manifest(MANIFEST)
    assert canonical_dumps(behaviour(manifest)) == PINNED_BEHAVIOUR
    assert hashlib.sha256(PINNED_BEHAVIOUR.encode()).hexdigest() == PINNED_FINGERPRINT
    assert fingerprint(manifest) == PINNED_FINGERPRINT


def test_same_manifest_as_json_toml_and_yaml_has_one_fingerprint(tmp_path: Path) -> None:
    reordered = dict(reversed(list(MANIFEST.items())))
    files = [
        write(tmp_path, "release.json", json.dumps(reordered, indent=2)),
        write(tmp_path, "release.toml", TOML),
        write(tmp_path, "release.yaml", YAML),
        write(tmp_path, "release.yml", YAML),
    ]
    expected = fingerprint(parse_manifest(MANIFEST))
    for file in files:
        loaded = load_manifest(file)
        assert fingerprint(loaded) == expected, file.name
        assert canonical_json(loaded) == canonical_json(parse_manifest(MANIFEST)), file.name


def test_fingerprint_ignores_key_order() -> None:
    def reverse_keys(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reverse_keys(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reverse_keys(v) for v in value]
        return value

    assert fingerprint(parse_manifest(reverse_keys(MANIFEST))) == fingerprint(
        parse_manifest(MANIFEST)
    )


def test_fingerprint_ignores_the_release_name() -> None:
    renamed = with_change("name", "v2")
    assert fingerprint(parse_manifest(renamed)) == fingerprint(parse_manifest(MANIFEST))
    assert canonical_json(parse_manifest(renamed)) != canonical_json(parse_manifest(MANIFEST))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("model.id", "gpt-4o-mini"),
        ("model.provider", "azure"),
        ("model.snapshot", "2024-11-20"),
        ("generation.temperature", 0.2),
        ("generation.seed", 8),
        ("generation.max_tokens", 513),
        ("generation.stop", ["###"]),
        ("prompts.system", "You are a support agent.\nBe thorough."),
        ("prompts.fallback", "Sorry."),
        ("tools", list(reversed(MANIFEST["tools"]))),
        ("tools", [*MANIFEST["tools"], {"name": "refund"}]),
        ("retrieval.embedding_model", "text-embedding-3-large"),
        ("retrieval.index_version", "kb-43"),
        ("retrieval.top_k", 8),
        ("retrieval.chunking", "recursive"),
        ("retrieval.reranker", "none"),
        ("adapter.checksum", "sha256:ab12"),
        ("adapter.base_model", "llama-3.1-70b"),
        ("serving.base_model", "llama-3.1-70b"),
        ("code.commit", "5e6f7a8b"),
        ("code.version", "1.4.0"),
        ("extra.guardrails", {"pii": False}),
        ("prompts.user", "Q: {question} "),
    ],
)
def test_fingerprint_changes_with_any_behaviour_field(path: str, value: Any) -> None:
    assert fingerprint(parse_manifest(with_change(path, value))) != fingerprint(
        parse_manifest(MANIFEST)
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("model.provider", None),
        ("generation.stop", []),
        ("generation.logit_bias", {}),
        ("retrieval.filters", None),
        ("extra.notes", {}),
        ("code.version", None),
    ],
)
def test_fingerprint_ignores_empty_and_null_fields(path: str, value: Any) -> None:
    data = copy.deepcopy(MANIFEST)
    data["model"].pop("provider")
    base = fingerprint(parse_manifest(data))
    changed = copy.deepcopy(data)
    section, key = path.split(".")
    changed[section][key] = value
    assert fingerprint(parse_manifest(changed)) == base


def test_empty_optional_sections_do_not_change_the_fingerprint() -> None:
    minimal = {"name": "v1", "model": {"id": "gpt-4o"}}
    padded = {
        "name": "v1",
        "model": {"id": "gpt-4o", "provider": None},
        "generation": {},
        "prompts": {},
        "tools": [],
        "retrieval": {},
        "adapter": {},
        "serving": {},
        "code": {},
        "extra": {},
    }
    assert fingerprint(parse_manifest(padded)) == fingerprint(parse_manifest(minimal))


def test_float_spellings_and_integral_floats_are_one_value(tmp_path: Path) -> None:
    json_file = write(tmp_path, "a.json", '{"name": "a", "generation": {"temperature": 0.70}}')
    toml_int = write(tmp_path, "b.toml", 'name = "b"\n[generation]\ntemperature = 1\n')
    toml_float = write(tmp_path, "c.toml", 'name = "c"\n[generation]\ntemperature = 1.0\n')
    assert fingerprint(load_manifest(json_file)) == fingerprint(
        parse_manifest({"name": "x", "generation": {"temperature": 0.7}})
    )
    assert fingerprint(load_manifest(toml_int)) == fingerprint(load_manifest(toml_float))
    assert '"temperature":1}' in canonical_json(load_manifest(toml_float))


def test_canonical_json_is_compact_sorted_utf8() -> None:
    manifest = parse_manifest(
        {"name": "v1", "prompts": {"system": "Réponds en français."}, "model": {"id": "m"}}
    )
    assert canonical_json(manifest) == (
        '{"model":{"id":"m"},"name":"v1","prompts":{"system":"Réponds en français."},'
        '"schema_version":1}'
    )


def test_behaviour_leaves_out_name_and_schema_version() -> None:
    covered = behaviour(parse_manifest(MANIFEST))
    assert "name" not in covered
    assert "schema_version" not in covered
    assert covered["model"]["id"] == "gpt-4o"


def test_list_members_keep_their_nulls_and_positions() -> None:
    a = parse_manifest({"name": "a", "extra": {"steps": [None, "x"]}})
    b = parse_manifest({"name": "a", "extra": {"steps": ["x"]}})
    assert fingerprint(a) != fingerprint(b)


# --- schema --------------------------------------------------------------------------


def test_only_the_name_is_required() -> None:
    manifest = parse_manifest({"name": "v1"})
    assert manifest.name == "v1"
    assert manifest.schema_version == SCHEMA_VERSION
    assert manifest.model is None


def test_model_version_is_an_alias_of_snapshot() -> None:
    manifest = parse_manifest({"name": "v1", "model": {"id": "m", "version": "2024-08-06"}})
    assert manifest.model is not None
    assert manifest.model.snapshot == "2024-08-06"


def test_open_sections_keep_unknown_keys() -> None:
    manifest = parse_manifest(
        {"name": "v1", "generation": {"logprobs": True}, "retrieval": {"hybrid": 0.3}}
    )
    assert behaviour(manifest)["generation"] == {"logprobs": True}
    assert behaviour(manifest)["retrieval"] == {"hybrid": 0.3}


def test_integer_versions_are_read_as_text() -> None:
    manifest = parse_manifest({"name": "v1", "code": {"version": 2}})
    assert manifest.code is not None
    assert manifest.code.version == "2"


def test_prompts_may_be_a_list() -> None:
    manifest = parse_manifest({"name": "v1", "prompts": ["Be brief.", {"role": "user"}]})
    assert behaviour(manifest)["prompts"] == ["Be brief.", {"role": "user"}]


def test_manifest_is_immutable() -> None:
    manifest = parse_manifest(MANIFEST)
    with pytest.raises(ValidationError):
        manifest.name = "v9"  # type: ignore[misc]


def test_manifest_can_be_built_in_python() -> None:
    built = Manifest(
        name="support-bot-2026-11-20", **{k: v for k, v in MANIFEST.items() if k != "name"}
    )
    assert fingerprint(built) == fingerprint(parse_manifest(MANIFEST))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "v", "model": {"id": 3}}, "model.id: expected a string"),
        ({"model": {"id": "m"}}, "name: required"),
        ({"name": ""}, "name: must not be empty"),
        ({"name": " v1"}, "name: must not start or end with whitespace"),
        ({"name": "a" * 64}, "name: must not look like a fingerprint"),
        ({"name": "v\n1"}, "name: must not contain control characters"),
        ({"name": "v", "promts": {}}, "promts: unknown key (did you mean 'prompts'?)"),
        ({"name": "v", "labels": {}}, "labels: unknown key; put custom fields under 'extra'"),
        ({"name": "v", "model": {"snaphot": "x"}}, "model.snaphot: unknown key"),
        (
            {"name": "v", "generation": {"temperature": "0.7"}},
            "generation.temperature: expected a number",
        ),
        (
            {"name": "v", "generation": {"top_p": 1.5}},
            "generation.top_p: should be less than or equal to 1",
        ),
        (
            {"name": "v", "generation": {"max_tokens": True}},
            "generation.max_tokens: expected an integer",
        ),
        ({"name": "v", "generation": 0.7}, "generation: expected a mapping"),
        ({"name": "v", "prompts": {"system": 3}}, "prompts.system: expected template text"),
        ({"name": "v", "prompts": [1]}, "prompts[0]: expected template text"),
        ({"name": "v", "prompts": "hi"}, "prompts: expected a mapping of prompt name"),
        ({"name": "v", "tools": {"a": 1}}, "tools: expected a list"),
        ({"name": "v", "tools": ["search"]}, "tools[0]: expected a mapping"),
        (
            {"name": "v", "tools": [{"name": "a"}, {"name": "a"}]},
            "tools[1]: duplicate tool name 'a'",
        ),
        ({"name": "v", "code": {"version": 1.10}}, "code.version: expected a string; quote"),
        (
            {"name": "v", "model": {"snapshot": "a", "version": "b"}},
            "model: give snapshot or version",
        ),
        ({"name": "v", "retrieval": {"chunking": 512}}, "retrieval.chunking: expected a string or"),
        ({"name": "v", "extra": {"x": float("nan")}}, "extra.x: NaN and infinity are not allowed"),
        ({"name": "v", "extra": {1: "x"}}, "extra: keys must be strings"),
        ({"name": "v", "prompts": {"s": "a\ud800"}}, "prompts.s: text holds an unpaired surrogate"),
        ({"name": "v", "extra": {"x": {1, 2}}}, "extra.x: set is not a JSON value"),
        ({"name": "v", "schema_version": 2}, "schema_version: 2 is newer than this assay"),
        ({"name": "v", "schema_version": 0}, "schema_version: 0 is not a manifest version"),
        ({"name": "v", "schema_version": "1"}, "schema_version: expected an integer"),
    ],
)
def test_invalid_manifest_names_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_manifest(data)
    assert message in str(err.value)


def test_every_problem_is_listed() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_manifest({"name": "v", "model": {"id": 1, "provider": 2}}, source="m.json")
    assert str(err.value) == (
        "m.json: 2 problems:\n  model.id: expected a string\n  model.provider: expected a string"
    )


def test_keys_under_extra_are_free() -> None:
    manifest = parse_manifest({"name": "v", "extra": {"promts": "anything", "x": [1, {"y": 2}]}})
    assert manifest.extra == {"promts": "anything", "x": [1, {"y": 2}]}


# --- files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "text"),
    [
        ("bad.json", '{"name": "v", "model": {"id": 3}}'),
        ("bad.toml", 'name = "v"\n[model]\nid = 3\n'),
        ("bad.yaml", "name: v\nmodel:\n  id: 3\n"),
    ],
)
def test_wrong_type_in_a_file_names_file_and_field(
    tmp_path: Path, file_name: str, text: str
) -> None:
    path = write(tmp_path, file_name, text)
    with pytest.raises(InvalidInput) as err:
        load_manifest(path)
    assert str(err.value) == f"{path}: model.id: expected a string"


@pytest.mark.parametrize(
    ("file_name", "text", "message"),
    [
        ("bad.json", '{"name": "v",\n "model": {"id": "m",}}', "invalid JSON at line 2, column"),
        ("bad.toml", 'name = "v"\n[model\n', "invalid TOML"),
        ("bad.yaml", "name: v\nmodel: [a,\n", "invalid YAML at line"),
        ("dup.json", '{"name": "v", "name": "w"}', "duplicate key 'name'"),
        ("dup.yaml", "name: v\nmodel: {id: a}\nmodel: {id: b}\n", "found duplicate key 'model'"),
        ("dup.toml", 'name = "v"\nname = "w"\n', "invalid TOML"),
        ("nan.json", '{"name": "v", "generation": {"temperature": NaN}}', "NaN is not allowed"),
        ("nan.toml", 'name = "v"\n[extra]\nx = nan\n', "extra.x: NaN and infinity"),
        ("list.yaml", "- name: v\n", "expected a mapping at the top level"),
        ("empty.yaml", "", "expected a mapping at the top level"),
        ("typo.toml", 'name = "v"\n[promts]\nsystem = "x"\n', "promts: unknown key"),
    ],
)
def test_bad_file_names_the_file_and_the_problem(
    tmp_path: Path, file_name: str, text: str, message: str
) -> None:
    path = write(tmp_path, file_name, text)
    with pytest.raises(InvalidInput) as err:
        load_manifest(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_unsupported_extension_is_invalid_input(tmp_path: Path) -> None:
    path = write(tmp_path, "release.ini", "name = v")
    with pytest.raises(InvalidInput, match=r"unsupported format '\.ini' for a release manifest"):
        load_manifest(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read release manifest"):
        load_manifest(tmp_path / "nope.toml")


def test_non_utf8_file_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"name": "café"}'.encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_manifest(path)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"name": "v1"}')
    assert load_manifest(path).name == "v1"


def test_dates_are_text_in_every_format(tmp_path: Path) -> None:
    expected = fingerprint(parse_manifest({"name": "v", "code": {"version": "2026-11-20"}}))
    yaml_file = write(tmp_path, "d.yaml", "name: v\ncode:\n  version: 2026-11-20\n")
    toml_file = write(tmp_path, "d.toml", 'name = "v"\n[code]\nversion = 2026-11-20\n')
    assert fingerprint(load_manifest(yaml_file)) == expected
    assert fingerprint(load_manifest(toml_file)) == expected


def test_yaml_reads_only_true_and_false_as_booleans(tmp_path: Path) -> None:
    path = write(tmp_path, "b.yaml", "name: v\nextra:\n  answers: [yes, no, on, off, true]\n")
    assert load_manifest(path).extra == {"answers": ["yes", "no", "on", "off", True]}


def test_parse_manifest_text_reads_each_format() -> None:
    expected = fingerprint(parse_manifest(MANIFEST))
    assert fingerprint(parse_manifest_text(TOML, "toml")) == expected
    assert fingerprint(parse_manifest_text(YAML, "yaml")) == expected
    assert fingerprint(parse_manifest_text(json.dumps(MANIFEST), "json")) == expected


# --- schema versions -----------------------------------------------------------------


def test_missing_schema_version_reads_as_version_1() -> None:
    assert upgrade_manifest_data({"name": "v"})["schema_version"] == 1


def test_old_shapes_are_upgraded_on_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend version 2 renamed `code.commit` to `code.revision`.
    monkeypatch.setattr(manifest_module, "SCHEMA_VERSION", 2)

    def one_to_two(data: dict[str, Any]) -> dict[str, Any]:
        code = dict(data.get("code", {}))
        code["revision"] = code.pop("commit")
        return {**data, "code": code}

    upgraded = upgrade_manifest_data(
        {"name": "v", "code": {"commit": "abc"}}, upgrades={1: one_to_two}
    )
    assert upgraded == {"name": "v", "code": {"revision": "abc"}, "schema_version": 2}


def test_a_version_without_an_upgrade_path_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifest_module, "SCHEMA_VERSION", 2)
    with pytest.raises(InvalidInput, match="no upgrade from version 1"):
        upgrade_manifest_data({"name": "v", "schema_version": 1}, upgrades={})
