"""User accounts for the web UI (and, later, annotators and adjudicators)."""

from assay.accounts.users import (
    ROLES,
    UserView,
    authenticate,
    count_users,
    create_user,
    get_user,
    list_users,
    set_password,
)

__all__ = [
    "ROLES",
    "UserView",
    "authenticate",
    "count_users",
    "create_user",
    "get_user",
    "list_users",
    "set_password",
]
