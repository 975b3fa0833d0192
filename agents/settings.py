"""Settings: one object, one precedence.

    CLI flag  >  environment ``ASSAY_*``  >  ``assay.toml`` / ``[tool.assay]`` in the target
    repository  >  defaults

:func:`load_settings` merges the sources, validates the result with pydantic-settings, and
remembers where every value came from (``assay config show``).  Unknown keys and malformed files
are :class:`~agents.errors.ConfigError` with the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from agents.errors import ConfigError

ENV_PREFIX = "ASSAY_"
EMBEDDED_MODEL_NAME = "qwen2.5-coder-1.5b-instruct"


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("assay", appauthor=False))


class Settings(BaseSettings):
    """Every knob of assay. The field name is the key in assay.toml and, upper-cased with the
    ``ASSAY_`` prefix, the environment variable."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", validate_default=True, populate_by_name=True
    )

    home: Path = Field(default_factory=default_home, description="models, caches, stores")

    # The LLM.  No base URL: commands that need a model use the embedded one.
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. …/v1")
    llm_model: str = Field(EMBEDDED_MODEL_NAME, description="model name sent to the endpoint")
    llm_api_key: SecretStr | None = Field(None, description="API key for the endpoint")
    llm_stage_models: dict[str, str] = Field(
        default_factory=dict, description="per-stage model overrides, e.g. {reflect = 'small'}"
    )
    llm_timeout: float = Field(300.0, gt=0, description="seconds to wait for one answer")
    llm_max_retries: int = Field(4, ge=0, description="retries on 429/5xx")
    cache: bool = Field(True, description="reuse cached LLM answers (--no-cache to bypass)")

    # The embedded model.
    model_path: Path | None = Field(None, description="a pre-staged GGUF instead of the installed")
    model_ctx: int = Field(8192, ge=512, description="context window of the embedded server")
    model_threads: int | None = Field(None, ge=1, description="CPU threads (default: all cores)")
    model_start_timeout: float = Field(180.0, gt=0, description="seconds to wait for it to start")

    # Running the code under test.
    python: str | None = Field(None, description="interpreter of the project (default: assay's)")
    test_command: str = Field("pytest", description="the project's test command")
    sandbox_timeout: float = Field(600.0, gt=0, description="seconds one sandboxed run may take")
    sandbox_memory_mb: int | None = Field(4096, ge=64, description="address-space cap per run")
    sandbox_isolation: Literal["bwrap", "unshare", "process"] = Field(
        "bwrap", description="the strongest sandbox isolation to use (not from the repository)"
    )

    # assay cover.
    cover_repeat: int = Field(3, ge=1, description="a new test must pass this many runs in a row")
    cover_attempts: int = Field(2, ge=1, description="tries per test, the failure fed back")
    cover_mutation: bool = Field(True, description="a new test must kill a mutant of its target")
    cover_tests_per_target: int = Field(2, ge=1, description="new tests per function at most")
    cover_candidate_timeout: float = Field(60.0, gt=0, description="seconds one new test may run")
    cover_explore: bool = Field(
        True, description="call the code with generated arguments before asking the model"
    )
    cover_explore_seconds: float = Field(
        20.0, gt=0, description="seconds of exploration per file, at most"
    )
    cover_exclude: list[str] = Field(default_factory=list, description="source globs to skip")

    # The index.
    qdrant_url: str | None = Field(None, description="Qdrant server (default: embedded in home)")
    qdrant_api_key: SecretStr | None = Field(None, description="API key of the Qdrant server")
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model: a name, a local directory, or hash-<dim>",
    )
    embedding_batch_size: int = Field(32, ge=1, description="texts per model batch")
    index_chunk_max_chars: int = Field(1500, ge=200, description="largest chunk (characters)")
    index_chunk_min_chars: int = Field(200, ge=0, description="smaller neighbours are merged")
    index_max_file_kb: int = Field(1024, ge=1, description="larger files are skipped (KiB)")
    index_exclude: list[str] = Field(
        default_factory=list, description="gitignore-style globs never indexed"
    )

    # The service (assay serve / assay worker) and its jobs.
    service_host: str = Field("127.0.0.1", description="address 'assay serve' listens on")
    service_port: int = Field(8700, ge=0, le=65535, description="port of 'assay serve'")
    service_workers: int = Field(1, ge=0, description="job worker threads in the server process")
    redis_url: SecretStr | None = Field(
        None, description="Redis for the job queue (scale-out); none: SQLite in home"
    )
    job_lease_seconds: float = Field(
        60.0, gt=0, description="a running job whose worker is silent this long is run again"
    )
    job_max_attempts: int = Field(3, ge=1, description="runs of one job before it fails")
    job_result_days: float = Field(30.0, gt=0, description="days finished jobs are kept")
    sync_wait_seconds: float = Field(
        30.0, ge=0, description="how long a small ask waits for its answer before a job id"
    )
    rate_limit_per_minute: int = Field(120, ge=1, description="API requests per token and minute")
    max_body_bytes: int = Field(
        5 * 2**20, ge=1024, description="largest request or webhook body accepted"
    )
    delivery_ttl_seconds: float = Field(
        3 * 86400.0, gt=0, description="how long a webhook delivery id is remembered"
    )

    # The code hosts (the PR bot).
    github_api_url: str = Field("https://api.github.com", description="GitHub (Enterprise) API")
    github_app_id: int | None = Field(None, ge=1, description="the GitHub App's id")
    github_private_key_path: Path | None = Field(
        None, description="the GitHub App's private key (PEM)"
    )
    github_webhook_secret: SecretStr | None = Field(
        None, description="the GitHub App's webhook secret"
    )
    github_token: SecretStr | None = Field(
        None, description="a token for GitHub instead of the App (tests, single repositories)"
    )
    gitlab_url: str = Field("https://gitlab.com", description="the GitLab instance")
    gitlab_token: SecretStr | None = Field(
        None, description="GitLab project or group access token (api scope)"
    )
    gitlab_webhook_secret: SecretStr | None = Field(
        None, description="the secret token of the GitLab webhook"
    )

    # assay review.
    review_token_budget: int = Field(
        12000, ge=200, description="diff tokens one review reads at most (the rest is skipped)"
    )
    review_max_findings: int = Field(20, ge=1, description="findings one review reports at most")
    review_max_minutes: float = Field(
        15.0, gt=0, description="a review stops asking the model after this long"
    )

    @field_validator("github_api_url", "gitlab_url")
    @classmethod
    def _host_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("llm_base_url", "qdrant_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("home", "model_path", "github_private_key_path")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return None if value is None else Path(os.path.expanduser(str(value)))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings merges the sources itself so that it can say where each value came from.
        return (init_settings,)

    # Derived locations inside ASSAY_HOME.
    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache" / "llm"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def qdrant_path(self) -> Path:
        return self.home / "qdrant"

    @property
    def index_dir(self) -> Path:
        """The index's registry of repositories and its clones of git URLs."""
        return self.home / "index"

    @property
    def policy_path(self) -> Path:
        return self.home / "policy.yaml"

    @property
    def traces_dir(self) -> Path:
        return self.home / "traces"

    @property
    def service_dir(self) -> Path:
        return self.home / "service"


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
    if name in SECRET_FIELDS:
        return "(not set)" if value is None else "********"
    if value is None:
        return "(not set)"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "{}"
    return str(value)


def _unknown_key_error(key: str, where: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(Settings.model_fields), n=1)
    hint = f"did you mean '{close[0]}'?" if close else "see 'assay config show' for the keys"
    return ConfigError(f"Unknown setting '{key}' in {where}", f"remove or rename it ({hint})")


def read_repo_config(repo: Path) -> tuple[dict[str, Any], dict[str, str], list[Path]]:
    """Values from ``assay.toml`` and ``[tool.assay]`` of ``pyproject.toml`` in ``repo``.

    assay.toml wins over pyproject when both set a key.  Returns (values, origins, files read).
    """
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    files: list[Path] = []
    for path, table in ((repo / "pyproject.toml", ("tool", "assay")), (repo / "assay.toml", ())):
        if not path.is_file():
            continue
        try:
            with path.open("rb") as fh:
                data: Any = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Malformed {path}: {exc}", "fix the TOML syntax") from exc
        except OSError as exc:
            raise ConfigError(
                f"Cannot read {path}: {exc.strerror}", "check its permissions"
            ) from exc
        for part in table:
            data = data.get(part, {}) if isinstance(data, dict) else {}
        if not data:
            continue
        if not isinstance(data, dict):
            raise ConfigError(f"Malformed {path}: [tool.assay] is not a table", "make it a table")
        where = f"{path}" + (" [tool.assay]" if table else "")
        for key, value in data.items():
            if key not in Settings.model_fields:
                raise _unknown_key_error(key, where)
            if key == "sandbox_isolation":  # the code under test must not weaken its sandbox
                raise ConfigError(
                    f"{where} may not set 'sandbox_isolation'",
                    "set ASSAY_SANDBOX_ISOLATION or pass it on the command line",
                )
            values[key] = value
            origins[key] = where
        files.append(path)
    return values, origins, files


def load_settings(
    repo: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedSettings:
    """The effective settings for a command run on ``repo`` with CLI ``overrides``.

    ``overrides`` are CLI flags: ``None`` values mean "flag not given".
    """
    file_values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    files: list[Path] = []
    if repo is not None and repo.is_dir():
        file_values, origins, files = read_repo_config(repo)

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

    merged = {**file_values, **env_values, **cli_values}
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        source = origins.get(key, "defaults")
        raise ConfigError(
            f"Invalid value for '{key}' from {source}: {err['msg']}",
            f"fix '{key}' there",
        ) from exc
    return LoadedSettings(settings=settings, origins=origins, config_files=files)
