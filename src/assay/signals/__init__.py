"""Signals: implicit session signals, online scorers run by a background worker, and
routing rules that send traces to review queues.

The pieces, in the order data flows through them:

- :mod:`~assay.signals.conditions`: the condition language (``feedback.thumbs <= 0``)
  shared by routing rules and online-scorer filters, evaluated against
  :class:`~assay.signals.facts.TraceFacts` loaded in batches;
- :mod:`~assay.signals.implicit`: ``retried``, ``abandoned`` and ``edit_distance``;
- :mod:`~assay.signals.online`: online scorers on sampled live traffic;
- :mod:`~assay.signals.rules`: routing rules that enqueue traces for review (from
  files: :mod:`~assay.signals.rule_files`; their hit counts: :mod:`~assay.signals.hits`);
- :mod:`~assay.signals.jobs` and :mod:`~assay.signals.worker`: the job queue and
  the worker that runs it (in ``assay serve`` or as ``assay worker``).
"""

from assay.signals.conditions import Condition, parse_condition, parse_conditions
from assay.signals.facts import TraceFacts, load_facts
from assay.signals.hits import DayCount, RuleHits, rule_hits
from assay.signals.implicit import ImplicitConfig, ImplicitSignal
from assay.signals.online import (
    OnlineScorerView,
    backfill,
    create_online_scorer,
    delete_online_scorer,
    get_online_scorer,
    list_online_scorers,
    trace_scores,
    update_online_scorer,
)
from assay.signals.rule_files import load_rules_file, parse_rules
from assay.signals.rules import (
    RouteReport,
    RuleView,
    create_rule,
    delete_rule,
    get_rule,
    list_rules,
    route,
    update_rule,
)
from assay.signals.worker import BackgroundWorker, Worker, WorkerReport

__all__ = [
    "BackgroundWorker",
    "Condition",
    "DayCount",
    "ImplicitConfig",
    "ImplicitSignal",
    "OnlineScorerView",
    "RouteReport",
    "RuleHits",
    "RuleView",
    "TraceFacts",
    "Worker",
    "WorkerReport",
    "backfill",
    "create_online_scorer",
    "create_rule",
    "delete_online_scorer",
    "delete_rule",
    "get_online_scorer",
    "get_rule",
    "list_online_scorers",
    "list_rules",
    "load_facts",
    "load_rules_file",
    "parse_condition",
    "parse_conditions",
    "parse_rules",
    "route",
    "rule_hits",
    "trace_scores",
    "update_online_scorer",
    "update_rule",
]
