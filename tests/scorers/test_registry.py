"""The registry: built-ins, in-process registration, entry-point plugins, errors."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import textwrap
from pathlib import Path

import pytest

from assay.errors import ConfigError, Conflict, InvalidInput
from assay.scorers import (
    ENTRY_POINT_GROUP,
    Score,
    ScorerArgs,
    ScorerSpec,
    create_scorer,
    list_scorers,
    register_scorer,
    spec_of,
)
from assay.scorers import registry as registry_module

BUILTINS = ["contains", "embedding", "exact", "json", "judge", "numeric", "python", "regex"]
# The least each built-in needs to be built.
MINIMAL = {
    "judge": {"model": "m"},
    "python": {"function": "logging:getLogger"},
    "regex": {"pattern": "x"},
}

PLUGIN_SOURCE = '''
"""A scorer plugin as a third party would write it."""
from pydantic import BaseModel, ConfigDict

from assay.scorers import Score, ScorerSpec


class LengthArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at_least: int = 1
    token: str | None = None


class LengthScorer:
    def __init__(self, args):
        self.token = args["token"]
        self.spec = ScorerSpec("length", {"at_least": args["at_least"]})
        self.at_least = args["at_least"]

    async def score(self, case):
        ok = len(str(case.output)) >= self.at_least
        return Score(1.0 if ok else 0.0, ok, f"token={self.token}")


def make_length(args):
    """Passes outputs of at least `at_least` characters."""
    return LengthScorer(args)


make_length.args_model = LengthArgs
make_length.secret_args = ("token",)


def make_bare(args):
    """A factory without an args model."""
    return LengthScorer({"at_least": args.get("at_least", 1), "token": None})


def make_not_a_scorer(args):
    """Returns the wrong thing."""
    return "nope"


def make_exploding(args):
    """Fails while building."""
    raise RuntimeError("kaboom")


NOT_CALLABLE = 42
'''


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[importlib.metadata.EntryPoint]:
    """Entry points of the ``assay.scorers`` group, as installed packages would declare."""
    (tmp_path / "assay_plugin_demo.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, "assay_plugin_demo", raising=False)
    importlib.invalidate_caches()

    def point(name: str, value: str) -> importlib.metadata.EntryPoint:
        return importlib.metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)

    points = [
        point("length", "assay_plugin_demo:make_length"),
        point("bare", "assay_plugin_demo:make_bare"),
        point("wrong", "assay_plugin_demo:make_not_a_scorer"),
        point("exploding", "assay_plugin_demo:make_exploding"),
        point("uncallable", "assay_plugin_demo:NOT_CALLABLE"),
        point("missing", "assay_plugin_absent_module:factory"),
        point("exact", "assay_plugin_demo:make_bare"),
    ]
    real = importlib.metadata.entry_points

    def fake(**params: object) -> object:
        if params.get("group") == ENTRY_POINT_GROUP:
            return importlib.metadata.EntryPoints(points)
        return real(**params)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    return points


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by the test are dropped afterwards."""
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))


def test_builtins_are_listed_with_summaries_and_arguments() -> None:
    infos = {info.name: info for info in list_scorers() if info.source == "builtin"}
    assert sorted(infos) == BUILTINS
    for info in infos.values():
        assert info.summary, info.name
        assert info.error is None
        for arg in info.args:
            assert arg.description, f"{info.name}.{arg.name}"
    assert infos["regex"].args_schema["required"] == ["pattern"]
    assert [a.name for a in infos["judge"].args if a.secret] == ["api_key"]


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_builds_with_its_own_name_and_a_canonical_spec(name: str) -> None:
    scorer = create_scorer(ScorerSpec(name, MINIMAL.get(name, {})))
    assert scorer.spec.name == name
    assert scorer.spec.args == MINIMAL.get(name, {})
    rebuilt = create_scorer(scorer.spec)
    assert rebuilt.spec == scorer.spec


def test_spelled_out_defaults_share_the_fingerprint() -> None:
    plain = create_scorer("exact")
    spelled = create_scorer("exact:normalize=true")
    changed = create_scorer("exact:normalize=false")
    assert spelled.spec == plain.spec
    assert spelled.spec.fingerprint == plain.spec.fingerprint
    assert changed.spec.args == {"normalize": False}


def test_unknown_scorer_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as info:
        create_scorer("exactly")
    message = str(info.value)
    assert message.startswith("unknown scorer 'exactly'; known scorers: ")
    for name in BUILTINS:
        assert name in message


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(InvalidInput, match="scorer 'exact': unknown argument 'normalise'"):
        create_scorer("exact:normalise=false")
    with pytest.raises(InvalidInput, match="scorer 'regex': argument 'pattern' is required"):
        create_scorer("regex")
    with pytest.raises(InvalidInput, match="scorer 'numeric': argument 'abs_tol'"):
        create_scorer("numeric:abs_tol=-1")


def test_secrets_reach_only_scorers_that_declare_them() -> None:
    judge = create_scorer("judge:model=m", secrets={"api_key": "sk-secret"})
    exact = create_scorer("exact", secrets={"api_key": "sk-secret"})
    assert judge.spec == ScorerSpec("judge", {"model": "m"})
    assert exact.spec == ScorerSpec("exact")


def test_register_scorer(clean_registry: None, run_score) -> None:
    class ShortArgs(ScorerArgs):
        most: int = 3

    @register_scorer("short", args=ShortArgs)
    class Short:
        """Passes short outputs."""

        def __init__(self, args: ShortArgs) -> None:
            self.args = args
            self.spec = spec_of("short", args)

        async def score(self, case: object) -> Score:
            return Score(1.0, True)

    scorer = create_scorer("short:most=5")
    assert isinstance(scorer, Short)
    assert scorer.args.most == 5
    info = next(info for info in list_scorers() if info.name == "short")
    assert (info.summary, info.source) == ("Passes short outputs.", "registered")
    with pytest.raises(Conflict, match="'short' is already registered"):
        register_scorer("short", args=ShortArgs)(Short)
    with pytest.raises(InvalidInput, match="not valid"):
        register_scorer("bad name", args=ShortArgs)


def test_a_good_plugin_is_listed_and_built(plugins: object, run_score) -> None:
    info = next(info for info in list_scorers() if info.name == "length")
    assert info.error is None
    assert info.summary == "Passes outputs of at least `at_least` characters."
    assert info.source == "plugin assay_plugin_demo:make_length"
    assert [(a.name, a.secret) for a in info.args] == [("at_least", False), ("token", True)]
    scorer = create_scorer("length:at_least=3", secrets={"token": "t0k"})
    assert scorer.spec == ScorerSpec("length", {"at_least": 3})
    assert run_score(scorer, "abcd") == Score(1.0, True, "token=t0k")
    assert run_score(scorer, "ab").passed is False


def test_plugin_arguments_are_validated_by_its_model(plugins: object) -> None:
    with pytest.raises(InvalidInput, match="scorer 'length': unknown argument 'atleast'"):
        create_scorer("length:atleast=3")


def test_a_plugin_without_an_args_model_gets_the_raw_args(plugins: object) -> None:
    assert create_scorer("bare:at_least=9").spec.args == {"at_least": 9}
    info = next(info for info in list_scorers() if info.name == "bare")
    assert (info.args, info.args_schema, info.error) == ((), {}, None)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "missing",
            "scorer plugin 'missing' \\(assay_plugin_absent_module:factory\\) cannot be "
            "loaded: ModuleNotFoundError",
        ),
        ("uncallable", "scorer plugin 'uncallable' .* is not callable"),
        ("wrong", "scorer plugin 'wrong' .* returned str, not a Scorer"),
        ("exploding", "scorer plugin 'exploding' .* failed to build: RuntimeError: kaboom"),
    ],
)
def test_broken_plugins_raise_config_errors_naming_them(
    plugins: object, name: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        create_scorer(name)


def test_broken_plugins_never_break_the_listing(plugins: object) -> None:
    infos = {(info.name, info.source): info for info in list_scorers()}
    missing = infos["missing", "plugin assay_plugin_absent_module:factory"]
    assert missing.error is not None
    assert "scorer plugin 'missing'" in missing.error
    assert "ModuleNotFoundError" in missing.error
    assert infos["uncallable", "plugin assay_plugin_demo:NOT_CALLABLE"].error is not None
    shadow = infos["exact", "plugin assay_plugin_demo:make_bare"]
    assert shadow.error == "name taken by the builtin scorer 'exact'"
    assert infos["exact", "builtin"].error is None
    # The built-in wins over the plugin of the same name.
    assert type(create_scorer("exact")).__name__ == "ExactScorer"


def test_plugin_names_appear_among_the_known_ones(plugins: object) -> None:
    with pytest.raises(InvalidInput, match=r"known scorers: .*length"):
        create_scorer("lenght")


def test_a_name_declared_by_two_plugins_is_a_config_error(
    plugins: list[importlib.metadata.EntryPoint],
) -> None:
    plugins.append(
        importlib.metadata.EntryPoint(
            name="length", value="assay_plugin_demo:make_bare", group=ENTRY_POINT_GROUP
        )
    )
    with pytest.raises(ConfigError, match="'length' is declared by several plugins"):
        create_scorer("length")
    errors = [info.error for info in list_scorers() if info.name == "length"]
    assert errors[0] is None
    assert errors[1] == "name already declared by plugin assay_plugin_demo:make_length"
