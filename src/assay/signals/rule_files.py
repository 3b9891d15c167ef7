"""Routing rules from a file: TOML, YAML or JSON, a list of rules.

::

    [[rules]]
    name = "negative-feedback"
    queue = "triage"
    conditions = ["feedback.thumbs <= 0"]

    [[rules]]
    name = "calibration"
    queue = "calibration"
    sample_rate = 0.02

YAML and JSON take a list of rule objects, or ``{"rules": [...]}``. Files are read
strictly by :mod:`assay.documents` (duplicate keys and ``NaN`` refused, YAML 1.2
scalars). Conditions are
given in either form (see :mod:`assay.signals.conditions`). A rule of a name the
project has is updated; the others are created; rules not in the file stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.documents import read_document
from assay.errors import InvalidInput, NotFound
from assay.signals.conditions import Condition, parse_conditions
from assay.signals.rules import (
    RuleView,
    check_rule_name,
    create_rule,
    find_queue,
    update_rule,
)
from assay.signals.sampling import check_rate
from assay.store.models import RoutingRule

_RULE_KEYS = frozenset({"name", "queue", "conditions", "sample_rate", "enabled", "description"})


@dataclass(frozen=True)
class RuleSpec:
    """One rule as a file gives it (checked, not yet stored)."""

    name: str
    queue: str | int
    conditions: list[Condition]
    sample_rate: float
    enabled: bool
    description: str


def parse_rules(data: Any, *, source: str = "rules") -> list[RuleSpec]:
    """Rules from parsed file content: a list of rule objects, or ``{"rules": [...]}``.

    Raises:
        InvalidInput: The content is not a list of rules, or a rule is malformed; the
            message names the rule (by position and name) and the field.
    """
    if isinstance(data, Mapping) and set(data) == {"rules"}:
        data = data["rules"]
    if not isinstance(data, list):
        raise InvalidInput(f"{source}: expected a list of rules (or a 'rules' list)")
    specs: list[RuleSpec] = []
    names: set[str] = set()
    for index, item in enumerate(data):
        where = f"{source}: rule {index + 1}"
        if not isinstance(item, Mapping):
            raise InvalidInput(f"{where}: expected an object; got {type(item).__name__}")
        unknown = set(item) - _RULE_KEYS
        if unknown:
            raise InvalidInput(
                f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}; "
                f"known: {', '.join(sorted(_RULE_KEYS))}"
            )
        for key in ("name", "queue"):
            if key not in item:
                raise InvalidInput(f"{where}: {key!r} is missing")
        try:
            name = check_rule_name(item["name"])
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        where = f"{source}: rule {name!r}"
        if name in names:
            raise InvalidInput(f"{where}: the name is given twice")
        names.add(name)
        queue = item["queue"]
        if isinstance(queue, bool) or not isinstance(queue, str | int):
            raise InvalidInput(f"{where}: 'queue' must be a queue name or id")
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            raise InvalidInput(f"{where}: 'enabled' must be true or false")
        description = item.get("description", "")
        if not isinstance(description, str):
            raise InvalidInput(f"{where}: 'description' must be text")
        specs.append(
            RuleSpec(
                name=name,
                queue=queue,
                conditions=parse_conditions(item.get("conditions"), where=f"{where} conditions"),
                sample_rate=check_rate(item.get("sample_rate", 1.0), field=f"{where} sample_rate"),
                enabled=enabled,
                description=description,
            )
        )
    return specs


def load_rules_file(session: Session, project_id: int, path: str | Path) -> list[RuleView]:
    """Create or update a project's rules from a file; rules not in the file stay.

    A rule is matched by name: an existing one takes the file's queue, conditions,
    rate, state and description. Every rule is checked before any is written.

    Args:
        session: The caller's session (the caller commits).
        project_id: The project.
        path: A ``.toml``, ``.yaml``/``.yml`` or ``.json`` file.

    Returns:
        The file's rules as stored, in file order.

    Raises:
        ConfigError: The file cannot be read.
        InvalidInput: It does not parse, or a rule is malformed.
        NotFound: A rule names a queue the project does not have.
    """
    file = Path(path)
    specs = parse_rules(read_document(file, "rules file"), source=str(file))
    for spec in specs:
        try:
            find_queue(session, project_id, spec.queue)
        except NotFound as exc:
            raise NotFound(f"{file}: rule {spec.name!r}: {exc}") from None
    views: list[RuleView] = []
    for spec in specs:
        existing = session.scalar(
            select(RoutingRule.id).where(
                RoutingRule.project_id == project_id, RoutingRule.name == spec.name
            )
        )
        conditions = [c.to_dict() for c in spec.conditions]
        if existing is None:
            views.append(
                create_rule(
                    session,
                    project_id,
                    spec.name,
                    spec.queue,
                    conditions=conditions,
                    sample_rate=spec.sample_rate,
                    enabled=spec.enabled,
                    description=spec.description,
                )
            )
        else:
            views.append(
                update_rule(
                    session,
                    project_id,
                    existing,
                    queue=spec.queue,
                    conditions=conditions,
                    sample_rate=spec.sample_rate,
                    enabled=spec.enabled,
                    description=spec.description,
                )
            )
    return views
