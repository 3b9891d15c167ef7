"""What the ``assay queue`` commands share: the queue argument, item statuses, and
lookups by name (a project's queue, a user)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import typer

from assay.accounts import UserView, list_users
from assay.errors import NotFound
from assay.projects import get_project

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from assay.review import QueueView

QueueArg = Annotated[str, typer.Argument(metavar="NAME", help="The queue's name.")]
"""The queue argument of every ``assay queue`` command but ``create`` and ``ls``."""
ItemStatus = Literal["open", "disputed", "resolved"]
"""Item statuses (:data:`assay.review.ITEM_STATUSES`) as a type Typer turns into choices."""


def project_queue(session: Session, project: str, name: str) -> tuple[int, QueueView]:
    """The project's id and its queue called ``name``.

    Raises:
        NotFound: No such project, or no such queue in it.
    """
    from assay.review import get_queue

    project_id = get_project(session, project).id
    return project_id, get_queue(session, project_id, name)


def user_named(session: Session, username: str) -> UserView:
    """The account called ``username``.

    Raises:
        NotFound: There is none.
    """
    # Accounts are people, a few dozen at most: reading them all is one small query.
    for user in list_users(session):
        if user.username == username:
            return user
    raise NotFound(f"user {username!r} does not exist; create it with: assay user create")
