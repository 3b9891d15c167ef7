"""What changed between two versions of a dataset, case by case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assay.datasets.cases import canonical, content_of
from assay.datasets.registry import CaseView


@dataclass(frozen=True, slots=True)
class CaseChange:
    """A case present in both versions with different content.

    Attributes:
        id: The case id.
        fields: The fields that differ (``input``, ``reference``, ``tags``, ...).
    """

    id: str
    fields: list[str]


@dataclass(frozen=True, slots=True)
class DatasetDiff:
    """The difference from an old version to a new one.

    Attributes:
        added: Case ids only in the new version, in its order.
        removed: Case ids only in the old version, in its order.
        changed: Cases in both whose content differs, in the new version's order.
        unchanged: How many cases are the same in both.
    """

    added: list[str]
    removed: list[str]
    changed: list[CaseChange]
    unchanged: int

    @property
    def empty(self) -> bool:
        """Whether the two versions hold the same cases."""
        return not (self.added or self.removed or self.changed)


def diff_cases(old: Sequence[CaseView], new: Sequence[CaseView]) -> DatasetDiff:
    """Compare two versions' cases by id."""
    old_by_id = {c.id: c for c in old}
    new_ids = {c.id for c in new}
    added: list[str] = []
    changed: list[CaseChange] = []
    unchanged = 0
    for case in new:
        before = old_by_id.get(case.id)
        if before is None:
            added.append(case.id)
        elif before.hash == case.hash:
            unchanged += 1
        else:
            a = content_of(before.case, before.id)
            b = content_of(case.case, case.id)
            fields = [k for k in b if canonical(a[k]) != canonical(b[k])]
            changed.append(CaseChange(id=case.id, fields=fields))
    removed = [c.id for c in old if c.id not in new_ids]
    return DatasetDiff(added=added, removed=removed, changed=changed, unchanged=unchanged)
