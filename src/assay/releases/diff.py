"""What changed between two releases, field by field.

The diff compares exactly what the fingerprint covers (the canonical behaviour, see
:func:`assay.releases.fingerprint.behaviour`), so two manifests have an empty diff
if and only if they have the same fingerprint. The release name is not compared.

Paths read like ``generation.temperature``, ``prompts.system``,
``tools[search].function.parameters`` or ``prompts[2]``:

- objects are walked key by key; keys that are not identifiers are quoted,
  ``extra["my key"]``;
- lists whose items are all objects with distinct names (tool schemas, in the plain
  or OpenAI ``function`` shape; named prompts) are matched by name, ``tools[search]``.
  If the shared items changed order, the list itself is reported ``changed`` with
  the old and new order of names as ``old`` and ``new``: the order is part of what
  the model is sent;
- other lists are aligned with :class:`difflib.SequenceMatcher`, so inserting one
  message does not report every later one as changed. An index refers to the new
  list for ``added`` and ``changed`` and to the old list for ``removed``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from assay.releases.canonical import canonical_dumps, join_key
from assay.releases.fingerprint import behaviour
from assay.releases.manifest import ManifestLike, tool_name

ChangeKind: TypeAlias = Literal["added", "removed", "changed"]

# Values longer than this are cut in one-line summaries; full values stay in
# ``old``/``new`` and long text is better read through ``unified_diff()``.
_SUMMARY_VALUE_CHARS = 60


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One difference between two manifests.

    Attributes:
        path: Where, e.g. ``generation.temperature`` or ``tools[search]``.
        kind: ``added`` (only in the new manifest), ``removed`` (only in the old)
            or ``changed``.
        old: The old value (None when added).
        new: The new value (None when removed).
    """

    path: str
    kind: ChangeKind
    old: Any = None
    new: Any = None

    def unified_diff(self, context: int = 3) -> str | None:
        """A unified diff of the old and new text, when both are text.

        Args:
            context: Lines of context around each change.

        Returns:
            The diff, or None when either side is not a string.
        """
        if isinstance(self.old, str) and isinstance(self.new, str):
            return unified_text_diff(self.old, self.new, label=self.path, context=context)
        return None

    def summary(self) -> str:
        """One line for a terminal or a PR comment.

        Returns:
            E.g. ``~ generation.temperature: 0.2 -> 0.7``, ``+ tools[search]: {...}``.
        """
        if self.kind == "added":
            return f"+ {self.path}: {_short(self.new)}"
        if self.kind == "removed":
            return f"- {self.path}: {_short(self.old)}"
        return f"~ {self.path}: {_short(self.old)} -> {_short(self.new)}"


def diff_manifests(old: ManifestLike, new: ManifestLike) -> list[FieldChange]:
    """List the behaviour differences from ``old`` to ``new``.

    Args:
        old: The baseline manifest (or its data).
        new: The candidate manifest (or its data).

    Returns:
        The changes in path order; empty when the fingerprints are equal.

    Raises:
        InvalidInput: A mapping given is not a valid manifest.
    """
    changes: list[FieldChange] = []
    _walk(behaviour(old), behaviour(new), "", changes)
    return changes


def unified_text_diff(old: str, new: str, *, label: str = "text", context: int = 3) -> str:
    """A unified diff of two texts (prompt templates), for display.

    Args:
        old: The old text.
        new: The new text.
        label: Names the text in the ``---``/``+++`` header (``a/LABEL``, ``b/LABEL``).
        context: Lines of context around each change.

    Returns:
        The diff, lines joined by ``\\n``; empty when the texts are equal.
    """
    lines = difflib.unified_diff(
        old.splitlines(),
        new.splitlines(),
        fromfile=f"a/{label}",
        tofile=f"b/{label}",
        n=context,
        lineterm="",
    )
    return "\n".join(lines)


def _walk(old: Any, new: Any, path: str, out: list[FieldChange]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(old.keys() | new.keys()):
            child = join_key(path, key)
            if key not in new:
                out.append(FieldChange(child, "removed", old=old[key]))
            elif key not in old:
                out.append(FieldChange(child, "added", new=new[key]))
            else:
                _walk(old[key], new[key], child, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        old_names, new_names = _names(old), _names(new)
        if old_names is not None and new_names is not None:
            _walk_named(old, new, old_names, new_names, path, out)
        else:
            _walk_aligned(old, new, path, out)
        return
    # type() as well as ==: 1 == True in Python, but not in JSON or the fingerprint.
    if type(old) is not type(new) or old != new:
        out.append(FieldChange(path or "manifest", "changed", old=old, new=new))


def _names(items: Sequence[Any]) -> list[str] | None:
    """The items' names, if every item is an object with a distinct name."""
    names: list[str] = []
    for item in items:
        name = tool_name(item) if isinstance(item, Mapping) else None
        if name is None:
            return None
        names.append(name)
    return names if len(set(names)) == len(names) else None


def _item_path(path: str, name: str) -> str:
    plain = name.replace("_", "a").replace("-", "a").replace(".", "a")
    if plain.isascii() and plain.isalnum() and not name.isdigit():
        return f"{path}[{name}]"
    return f"{path}[{json.dumps(name, ensure_ascii=False)}]"


def _walk_named(
    old: list[Any],
    new: list[Any],
    old_names: list[str],
    new_names: list[str],
    path: str,
    out: list[FieldChange],
) -> None:
    old_by_name = dict(zip(old_names, old, strict=True))
    new_by_name = dict(zip(new_names, new, strict=True))
    shared_old_order = [n for n in old_names if n in new_by_name]
    shared_new_order = [n for n in new_names if n in old_by_name]
    if shared_old_order != shared_new_order:
        out.append(FieldChange(path, "changed", old=old_names, new=new_names))
    for name in old_names:
        if name not in new_by_name:
            out.append(FieldChange(_item_path(path, name), "removed", old=old_by_name[name]))
    for name in new_names:
        item_path = _item_path(path, name)
        if name not in old_by_name:
            out.append(FieldChange(item_path, "added", new=new_by_name[name]))
        else:
            _walk(old_by_name[name], new_by_name[name], item_path, out)


def _walk_aligned(old: list[Any], new: list[Any], path: str, out: list[FieldChange]) -> None:
    # Items are compared by their canonical JSON so that 1 and True stay apart.
    matcher = difflib.SequenceMatcher(
        a=[canonical_dumps(x) for x in old],
        b=[canonical_dumps(x) for x in new],
        autojunk=False,
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        paired = min(i2 - i1, j2 - j1)
        for k in range(paired):
            _walk(old[i1 + k], new[j1 + k], f"{path}[{j1 + k}]", out)
        for i in range(i1 + paired, i2):
            out.append(FieldChange(f"{path}[{i}]", "removed", old=old[i]))
        for j in range(j1 + paired, j2):
            out.append(FieldChange(f"{path}[{j}]", "added", new=new[j]))


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) <= _SUMMARY_VALUE_CHARS:
        return text
    return text[: _SUMMARY_VALUE_CHARS - 1] + "…"
