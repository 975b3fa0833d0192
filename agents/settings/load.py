"""Settings: one object, one precedence.

    CLI flag  >  environment ``ASSAY_*``  >  the repository's files  >  defaults

The repository's files, lowest first: ``[tool.assay]`` of ``pyproject.toml``, ``.assay.toml``
(what a repository asks of reviews: its ``[review]`` and ``[tests]`` tables, see
:data:`TABLES`), ``assay.toml``.  Each may hold plain keys and the two tables.
:func:`load_settings` merges the sources, validates the result with pydantic-settings, and
remembers where every value came from (``assay config show``); :func:`with_repo_files` adds the
files' layer to settings loaded elsewhere (the PR bot reads them at the PR's head).  Unknown keys
and malformed files are :class:`~agents.errors.ConfigError` with the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import EnvSettingsSource

from agents.errors import ConfigError
from agents.settings.fields import ENV_PREFIX, REPO_FILES, REPO_KEYS, TABLES, Settings
from flows import mask_url

# Settings the repository's own files may not set: they say what confines its code.
HOST_ONLY = ("sandbox_isolation", "sandbox_pass_env")
SECRET_FIELDS = frozenset(
    name for name, f in Settings.model_fields.items() if "SecretStr" in repr(f.annotation)
)


@dataclass
class LoadedSettings:
    """The effective settings plus, per key, where the value came from."""

    settings: Settings
    origins: dict[str, str] = field(default_factory=dict)
    config_files: list[Path] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str, str]]:
        """(key, value for display with secrets masked, origin) for every setting."""
        out = []
        for name in Settings.model_fields:
            value = getattr(self.settings, name)
            out.append((name, display_value(name, value), self.origins.get(name, "default")))
        return out


def display_value(name: str, value: Any) -> str:
    """A setting as people may see it: secrets hidden, URL passwords masked."""
    if name in SECRET_FIELDS:
        return "(not set)" if value is None else "********"
    if value is None:
        return "(not set)"
    if isinstance(value, dict):
        return mask_url(", ".join(f"{k}={v}" for k, v in value.items()) or "{}")
    return mask_url(str(value))


def _unknown_key_error(key: str, where: str, known: list[str] | None = None) -> ConfigError:
    close = difflib.get_close_matches(key, known or list(Settings.model_fields), n=1)
    hint = f"did you mean '{close[0]}'?" if close else "see 'assay config show' for the keys"
    return ConfigError(f"Unknown setting '{key}' in {where}", f"remove or rename it ({hint})")


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Malformed {where}: {exc}", "fix the TOML syntax") from exc


def _file_values(name: str, data: Any, where: str) -> dict[str, Any]:
    """The settings one repository file sets: plain keys and the :data:`TABLES`."""
    if name == "pyproject.toml":
        data = data.get("tool", {}) if isinstance(data, dict) else {}
        data = data.get("assay", {}) if isinstance(data, dict) else {}
    if not isinstance(data, dict):
        raise ConfigError(f"Malformed {where}: it is not a table", "make it a table")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"Malformed {where}: [{key}] is not a table", "make it one")
            for sub, item in value.items():
                setting = TABLES[key].get(sub)
                if setting is None:
                    raise _unknown_key_error(f"{key}.{sub}", where, list(TABLES[key]))
                values[setting] = item
        elif key in Settings.model_fields:
            values[key] = value
        else:
            raise _unknown_key_error(key, where)
    return values


def read_repo_files(
    repo: Path | None = None, texts: Mapping[str, str | None] | None = None
) -> tuple[dict[str, Any], dict[str, str], list[Path]]:
    """Values of the repository's files (:data:`REPO_FILES`), read from ``repo`` or given as
    ``texts`` (file name → content, None when absent).  Returns (values, origins, files read)."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    files: list[Path] = []
    for name in REPO_FILES:
        path = (repo / name) if repo is not None else Path(name)
        if texts is not None:
            text = texts.get(name)
        elif path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"Cannot read {path}: {exc}", "check the file") from exc
        else:
            text = None
        if not text or not text.strip():
            continue
        where = str(path) + (" [tool.assay]" if name == "pyproject.toml" else "")
        found = _file_values(name, _parse_toml(text, str(path)), where)
        for key in HOST_ONLY:  # the code under test must not weaken its own sandbox
            if key in found:
                raise ConfigError(
                    f"{where} may not set '{key}'",
                    f"set ASSAY_{key.upper()} or pass it on the command line",
                )
        if not found:
            continue
        values.update(found)
        origins.update(dict.fromkeys(found, where))
        files.append(path)
    return values, origins, files


def with_repo_files(
    settings: Settings, texts: Mapping[str, str | None]
) -> tuple[Settings, list[Path]]:
    """``settings`` with the repository files' layer below what was set explicitly (flags,
    environment, the service's own files): for the PR bot, which reads them at the PR's head.
    Raises :class:`ConfigError` for a file that is malformed, has an unknown key, or sets what
    a repository may not (:data:`REPO_KEYS`)."""
    values, origins, files = read_repo_files(texts=texts)
    for key in values:
        if key not in REPO_KEYS:
            raise ConfigError(
                f"'{key}' in {origins[key]} is a setting of the service, not of a repository",
                "remove it from the repository's file",
            )
    layer = {k: v for k, v in values.items() if k not in settings.model_fields_set}
    if not layer:
        return settings, files
    merged = {k: getattr(settings, k) for k in settings.model_fields_set}
    return _validated({**layer, **merged}, dict.fromkeys(layer, "the repository's files")), files


def _validated(values: Mapping[str, Any], origins: Mapping[str, str]) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        source = origins.get(key, "defaults")
        msg = mask_url(str(err["msg"]).removeprefix("Value error, "))
        if source.startswith("--"):  # a flag: name it as the user typed it
            what = f"Invalid value for {source}: {msg}"
            raise ConfigError(what, f"pass another {source}") from exc
        raise ConfigError(
            f"Invalid value for '{key}' from {source}: {msg}",
            f"fix '{key}' there",
        ) from exc


def load_settings(
    repo: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    flags: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """The effective settings for a command run on ``repo`` with CLI ``overrides``.

    ``overrides`` are CLI flags: ``None`` values mean "flag not given"; ``flags`` names the
    flag of each key (``cover_repeat`` → ``--repeat``) so that errors say what the user typed.
    """
    file_values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    files: list[Path] = []
    if repo is not None and repo.is_dir():
        file_values, origins, files = read_repo_files(repo)

    env_source = EnvSettingsSource(Settings, env_prefix=ENV_PREFIX, case_sensitive=False)
    try:
        env_values = env_source()
    except Exception as exc:  # a JSON-valued setting that is not JSON
        raise ConfigError(f"Invalid {ENV_PREFIX}* environment variable: {exc}", "fix it") from exc
    for key in env_values:
        origins[key] = f"env {ENV_PREFIX}{key.upper()}"

    cli_values = {k: v for k, v in (overrides or {}).items() if v is not None}
    for key in cli_values:
        if key not in Settings.model_fields:
            raise _unknown_key_error(key, "command-line flags")
        origins[key] = "command line"

    settings = _validated(
        {**file_values, **env_values, **cli_values},
        {**origins, **{k: f for k, f in (flags or {}).items() if k in cli_values}},
    )
    return LoadedSettings(settings=settings, origins=origins, config_files=files)

    settings = _validated({**file_values, **env_values, **cli_values}, origins)
    return LoadedSettings(settings=settings, origins=origins, config_files=files)
