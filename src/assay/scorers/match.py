"""Text-matching scorers: ``exact``, ``contains`` and ``regex``.

Outputs and references that are not strings are compared as JSON text with sorted
keys (so the output ``42`` equals the reference ``"42"``, and two equal objects are
equal); a ``None`` output is the empty string. Each passes with value 1 or fails
with value 0, except ``contains`` in ``all`` mode, whose value is the share of the
wanted strings found.

``regex`` runs on the ``regex`` package rather than ``re``: the same syntax, but a
match can be given a time limit. A backtracking pattern (``^(a|aa)+$``) on an
unlucky output would otherwise hold a worker (and, in ``re``, the GIL) for as long
as the output is long; here it stops after :data:`REGEX_TIMEOUT_S` and the case is
an error, not a fail.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import regex as re
from pydantic import Field, field_validator, model_validator

from assay.scorers.args import ScorerArgs, spec_of
from assay.scorers.base import Score, ScoreInput, ScorerError
from assay.scorers.registry import register_scorer
from assay.scorers.text import as_text, normalize_text

# Longest output or reference quoted in a reason; results stay readable in a table.
_QUOTE_CHARS = 80
# Longest matched text kept in metadata, to bound what every result row stores.
_MATCH_CHARS = 1000
REGEX_TIMEOUT_S = 1.0
"""Longest a ``regex`` scorer may search one output."""

_REGEX_FLAGS = {
    "i": re.IGNORECASE,
    "m": re.MULTILINE,
    "s": re.DOTALL,
    "x": re.VERBOSE,
    "a": re.ASCII,
}


def quote(text: str) -> str:
    """``text`` as a short ``repr`` for a reason, cut to 80 characters."""
    if len(text) > _QUOTE_CHARS:
        text = text[: _QUOTE_CHARS - 1] + "…"
    return repr(text)


def _need_reference(name: str, case: ScoreInput) -> Any:
    if case.reference is None:
        raise ScorerError(f"scorer {name!r} needs a reference, and this case has none")
    return case.reference


class ExactArgs(ScorerArgs):
    """Arguments of ``exact``."""

    normalize: bool = Field(
        default=True,
        description="Compare after Unicode NFKC, case folding, collapsing whitespace "
        "and stripping surrounding punctuation and quotes; false compares exactly.",
    )


@register_scorer("exact", args=ExactArgs)
class ExactScorer:
    """Passes when the output equals the case's reference (normalised by default)."""

    def __init__(self, args: ExactArgs | None = None) -> None:
        """Build the scorer.

        Args:
            args: Its arguments; the defaults when ``None``.
        """
        self.args = args or ExactArgs()
        self.spec = spec_of("exact", self.args)

    async def score(self, case: ScoreInput) -> Score:
        """Compare ``case.output`` with ``case.reference``.

        Raises:
            ScorerError: The case has no reference.
        """
        output = as_text(case.output)
        reference = as_text(_need_reference("exact", case))
        if self.args.normalize:
            output, reference = normalize_text(output), normalize_text(reference)
        if output == reference:
            return Score(1.0, True, "output equals the reference")
        return Score(
            0.0, False, f"output {quote(output)} differs from reference {quote(reference)}"
        )


class ContainsArgs(ScorerArgs):
    """Arguments of ``contains``."""

    value: Annotated[str, Field(min_length=1)] | None = Field(
        default=None, description="The text to look for (instead of the reference)."
    )
    values: list[Annotated[str, Field(min_length=1)]] | None = Field(
        default=None,
        min_length=1,
        description="Several texts to look for (instead of the reference).",
    )
    mode: Literal["any", "all"] = Field(
        default="all",
        description="`all`: every text must occur (value = share found); `any`: one is enough.",
    )
    normalize: bool = Field(
        default=True, description="Normalise both sides as `exact` does before searching."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ContainsArgs:
        if self.value is not None and self.values is not None:
            raise ValueError("give `value` or `values`, not both")
        return self


@register_scorer("contains", args=ContainsArgs)
class ContainsScorer:
    """Passes when the output contains the reference, or the given `value`/`values`."""

    def __init__(self, args: ContainsArgs | None = None) -> None:
        """Build the scorer.

        Args:
            args: Its arguments; the defaults (search for the reference) when ``None``.
        """
        self.args = args or ContainsArgs()
        self.spec = spec_of("contains", self.args)

    def _needles(self, case: ScoreInput) -> list[str]:
        if self.args.value is not None:
            return [self.args.value]
        if self.args.values is not None:
            return list(self.args.values)
        reference = _need_reference("contains", case)
        if isinstance(reference, list) and all(isinstance(item, str) for item in reference):
            if not reference:
                raise ScorerError("scorer 'contains': the case's reference is an empty list")
            return list(reference)
        return [as_text(reference)]

    async def score(self, case: ScoreInput) -> Score:
        """Look for the wanted texts in ``case.output``.

        Raises:
            ScorerError: No ``value``/``values`` were given and the case has no reference.
        """
        needles = self._needles(case)
        haystack = as_text(case.output)
        if self.args.normalize:
            haystack = normalize_text(haystack)
        found = [
            needle
            for needle in needles
            if (normalize_text(needle) if self.args.normalize else needle) in haystack
        ]
        missing = [needle for needle in needles if needle not in found]
        metadata: dict[str, Any] = {"found": found, "missing": missing}
        if self.args.mode == "any":
            if found:
                return Score(1.0, True, f"output contains {quote(found[0])}", metadata)
            wanted = ", ".join(quote(needle) for needle in needles)
            return Score(0.0, False, f"output contains none of {wanted}", metadata)
        if not missing:
            return Score(1.0, True, f"output contains all {len(needles)} texts", metadata)
        absent = ", ".join(quote(needle) for needle in missing)
        return Score(len(found) / len(needles), False, f"output lacks {absent}", metadata)


class RegexArgs(ScorerArgs):
    """Arguments of ``regex``."""

    pattern: str = Field(description="A Python regular expression.")
    flags: str = Field(
        default="",
        description="Letters of `re` flags: i (ignore case), m (multiline), "
        "s (dot matches newline), x (verbose), a (ASCII classes).",
    )
    fullmatch: bool = Field(
        default=False,
        description="The whole output must match; by default a match anywhere passes.",
    )

    @field_validator("flags")
    @classmethod
    def _known_flags(cls, flags: str) -> str:
        unknown = sorted(set(flags) - set(_REGEX_FLAGS))
        if unknown:
            raise ValueError(f"unknown flags {''.join(unknown)!r}; use letters of 'imsxa'")
        return "".join(sorted(set(flags)))

    @model_validator(mode="after")
    def _compiles(self) -> RegexArgs:
        try:
            self.compiled()
        except re.error as exc:
            raise ValueError(f"pattern {self.pattern!r} does not compile: {exc}") from None
        return self

    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern with its flags."""
        bits = 0
        for letter in self.flags:
            bits |= _REGEX_FLAGS[letter]
        return re.compile(self.pattern, bits)


@register_scorer("regex", args=RegexArgs)
class RegexScorer:
    """Passes when a regular expression matches the output."""

    def __init__(self, args: RegexArgs) -> None:
        """Build the scorer.

        Args:
            args: Its arguments (``pattern`` is required).
        """
        self.args = args
        self.spec = spec_of("regex", args)
        self._pattern = args.compiled()

    async def score(self, case: ScoreInput) -> Score:
        """Match the pattern against ``case.output`` as text."""
        text = as_text(case.output)
        shown = f"/{self.args.pattern}/{self.args.flags}"
        match = self._pattern.fullmatch if self.args.fullmatch else self._pattern.search
        try:
            found = match(text, timeout=REGEX_TIMEOUT_S, concurrent=True)
        except TimeoutError:
            raise ScorerError(
                f"{shown} took longer than {REGEX_TIMEOUT_S:g} s on this output "
                f"({len(text)} characters): the pattern backtracks; make it simpler"
            ) from None
        if found is None:
            how = "does not fully match" if self.args.fullmatch else "has no match for"
            return Score(0.0, False, f"output {how} {shown}")
        matched = found.group(0)
        return Score(
            1.0,
            True,
            f"{shown} matched {quote(matched)} at {found.start()}",
            {"match": matched[:_MATCH_CHARS], "start": found.start()},
        )
