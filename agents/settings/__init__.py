"""Settings: one object, one precedence (see :mod:`.load`), ``ASSAY_HOME`` and its places."""

from agents.settings.fields import (
    EMBEDDED_MODEL_NAME,
    ENV_PREFIX,
    REPO_FILES,
    REPO_KEYS,
    TABLES,
    Settings,
    default_home,
)
from agents.settings.load import (
    SECRET_FIELDS,
    LoadedSettings,
    display_value,
    load_settings,
    read_repo_files,
    with_repo_files,
)

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "ENV_PREFIX",
    "REPO_FILES",
    "REPO_KEYS",
    "SECRET_FIELDS",
    "TABLES",
    "LoadedSettings",
    "Settings",
    "default_home",
    "display_value",
    "load_settings",
    "read_repo_files",
    "with_repo_files",
]
