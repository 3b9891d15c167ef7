"""User accounts: people who sign in to the web UI (admins, adjudicators, annotators)
and the API keys that let automation act as one of them."""

from assay.accounts.keys import (
    USER_KEY_PREFIX,
    NewUserKey,
    UserKeyView,
    create_user_key,
    is_user_key,
    list_user_keys,
    resolve_user_key,
    revoke_user_key,
)
from assay.accounts.users import (
    ROLES,
    UserView,
    authenticate,
    count_users,
    create_user,
    get_user,
    list_users,
    set_password,
    set_role,
)

__all__ = [
    "ROLES",
    "USER_KEY_PREFIX",
    "NewUserKey",
    "UserKeyView",
    "UserView",
    "authenticate",
    "count_users",
    "create_user",
    "create_user_key",
    "get_user",
    "is_user_key",
    "list_user_keys",
    "list_users",
    "resolve_user_key",
    "revoke_user_key",
    "set_password",
    "set_role",
]
