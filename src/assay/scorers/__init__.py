"""Scorers: how good is one output? A Protocol, a registry, and the built-ins.

A scorer turns a :class:`ScoreInput` (a case and the target's output) into a
:class:`Score` (a value in [0, 1], an optional pass/fail, a reason, metadata).
Every scorer carries the :class:`ScorerSpec` (name + arguments) that rebuilds it,
stored next to each result so a run can be re-scored later::

    from assay.scorers import ScoreInput, create_scorer

    scorer = create_scorer("numeric:abs_tol=0.01")
    score = await scorer.score(ScoreInput(input="2/3?", output="0.667", reference=0.6667))
    scorer.spec.fingerprint  # keys cached scores

Built-ins: ``exact``, ``contains``, ``regex``, ``json``, ``numeric``,
``embedding``, ``judge`` and ``python``; :func:`judge_pairwise` compares two
outputs. Third-party scorers come from the ``assay.scorers`` entry-point group.
See docs/concepts/scorers.md and docs/guides/writing-scorers.md.
"""

from assay.scorers.args import ArgInfo, ScorerArgs, spec_of, validate_args
from assay.scorers.base import Score, ScoreInput, Scorer, ScorerError
from assay.scorers.chat import ChatEndpoint, ChatReply, JudgeHTTPError, JudgeResponseError
from assay.scorers.embedding import EmbeddingArgs, EmbeddingScorer
from assay.scorers.function import PythonArgs, PythonScorer, load_function
from assay.scorers.judge import DEFAULT_TEMPLATE, JudgeArgs, JudgeScorer, Verdict, parse_verdict
from assay.scorers.match import (
    ContainsArgs,
    ContainsScorer,
    ExactArgs,
    ExactScorer,
    RegexArgs,
    RegexScorer,
)
from assay.scorers.numeric import NumericArgs, NumericScorer, parse_number
from assay.scorers.pairwise import PAIRWISE_TEMPLATE, PairwiseResult, judge_pairwise
from assay.scorers.registry import (
    ENTRY_POINT_GROUP,
    ScorerInfo,
    create_scorer,
    list_scorers,
    register_scorer,
)
from assay.scorers.spec import ScorerSpec, canonical_json
from assay.scorers.structure import JsonArgs, JsonScorer
from assay.scorers.text import normalize_text

__all__ = [
    "DEFAULT_TEMPLATE",
    "ENTRY_POINT_GROUP",
    "PAIRWISE_TEMPLATE",
    "ArgInfo",
    "ChatEndpoint",
    "ChatReply",
    "ContainsArgs",
    "ContainsScorer",
    "EmbeddingArgs",
    "EmbeddingScorer",
    "ExactArgs",
    "ExactScorer",
    "JsonArgs",
    "JsonScorer",
    "JudgeArgs",
    "JudgeHTTPError",
    "JudgeResponseError",
    "JudgeScorer",
    "NumericArgs",
    "NumericScorer",
    "PairwiseResult",
    "PythonArgs",
    "PythonScorer",
    "RegexArgs",
    "RegexScorer",
    "Score",
    "ScoreInput",
    "Scorer",
    "ScorerArgs",
    "ScorerError",
    "ScorerInfo",
    "ScorerSpec",
    "Verdict",
    "canonical_json",
    "create_scorer",
    "judge_pairwise",
    "list_scorers",
    "load_function",
    "normalize_text",
    "parse_number",
    "parse_verdict",
    "register_scorer",
    "spec_of",
    "validate_args",
]
