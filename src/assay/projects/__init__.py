"""Projects and their API keys: the scope of everything else."""

from assay.projects.keys import (
    ApiKeyView,
    KeyCache,
    NewApiKey,
    create_api_key,
    hash_key,
    list_api_keys,
    resolve_api_key,
    revoke_api_key,
)
from assay.projects.service import (
    DEFAULT_SLICE_KEYS,
    ProjectConfig,
    ProjectView,
    create_project,
    get_project,
    list_projects,
    project_config,
    update_project_settings,
)

__all__ = [
    "DEFAULT_SLICE_KEYS",
    "ApiKeyView",
    "KeyCache",
    "NewApiKey",
    "ProjectConfig",
    "ProjectView",
    "create_api_key",
    "create_project",
    "get_project",
    "hash_key",
    "list_api_keys",
    "list_projects",
    "project_config",
    "resolve_api_key",
    "revoke_api_key",
    "update_project_settings",
]
