"""Every knob of assay: the :class:`Settings` object (pydantic-settings), its defaults, and
the tables of the repository's files that map onto it.  Loading is :mod:`.load`."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, urlsplit

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "ASSAY_"
EMBEDDED_MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
REPO_FILES = ("pyproject.toml", ".assay.toml", "assay.toml")  # lowest precedence first
# The tables of the repository's files: table → key → setting.
TABLES: dict[str, dict[str, str]] = {
    "review": {
        **{k: f"review_{k}" for k in ("enabled", "tests", "max_findings", "max_per_file")},
        **{k: f"review_{k}" for k in ("min_severity", "fail_on", "exclude", "token_budget")},
        **{k: f"review_{k}" for k in ("behaviour", "behaviour_seconds", "behaviour_functions")},
        "behaviour_tries": "review_behaviour_tries",
        **{k: f"review_{k}" for k in ("check_findings", "min_score", "verify_suggestions")},
        "fix_attempts": "review_fix_attempts",
        "best_practices": "review_best_practices",
        "auto": "review_auto",
    },
    "tests": {
        "max_minutes": "review_tests_minutes",
        "attempts": "cover_attempts",
        "repeat": "cover_repeat",
        "mutation": "cover_mutation",
        "test_command": "test_command",
    },
}
Severity = Literal["high", "medium", "low"]
BotCommand = Literal["describe", "review", "improve", "tests"]  # what the PR bot may run itself
# What a repository's files may set when the service reads them at a PR's head: its review and
# tests, never where the service's model, stores or credentials are.
REPO_KEYS = frozenset(
    {key for table in TABLES.values() for key in table.values()}
    | {"cover_exclude", "cover_explore", "cover_explore_seconds", "cover_tests_per_target"}
    | {"cover_candidate_timeout", "review_token_budget", "review_max_minutes"}
    | {"cover_mutants", "cover_mutation_budget"}
)


def url_parts(value: str, schemes: tuple[str, ...]) -> SplitResult:
    """``value`` split into its parts, or ValueError saying what is wrong with it (never the
    URL itself: it may hold a password)."""
    example = f"{schemes[0]}://host:port"
    if any(c.isspace() for c in value):
        raise ValueError(f"a URL has no spaces; write it like {example}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"it is not a URL ({exc}); write it like {example}") from None
    if parts.scheme not in schemes:
        raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname and parts.scheme != "unix":
        raise ValueError(f"it names no host; write it like {example}")
    return parts


def http_url(value: str) -> str:
    """An http(s) URL with a host (and a valid port, if any), without the trailing '/'."""
    url_parts(value, ("http", "https"))
    return value.rstrip("/")


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
    sandbox_pass_env: list[str] = Field(
        default_factory=list,
        description="environment variables (names or globs) sandboxed runs get from assay's own "
        "environment, e.g. DJANGO_SETTINGS_MODULE (not from the repository)",
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
    cover_mutants: Literal["off", "report", "raise"] = Field(
        "raise", description="mutation score before → after (report), survivors as targets (raise)"
    )
    cover_mutation_budget: int = Field(
        150, ge=0, description="mutants measured at most, a seeded sample beyond (0: all)"
    )

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
    review_enabled: bool = Field(True, description="false: the PR bot leaves the repository alone")
    review_tests: bool = Field(True, description="a review's tests section (diff coverage, tests)")
    review_max_per_file: int = Field(5, ge=1, le=100, description="findings per file at most")
    review_min_severity: Severity = Field("low", description="findings below this are dropped")
    review_fail_on: Severity | Literal["none"] = Field(
        "none", description="the PR's check fails on findings this severe"
    )
    review_exclude: list[str] = Field(default_factory=list, description="paths never reviewed")
    review_best_practices: str | None = Field(
        None, description="a markdown file of the repository shown to the model"
    )
    review_auto: list[BotCommand] = Field(
        default_factory=lambda: list[BotCommand](["review"]),
        description="what the PR bot runs by itself on open and push (the rest on command)",
    )
    review_tests_minutes: float = Field(
        10.0, gt=0, description="minutes a review's tests section may write tests"
    )
    review_behaviour: bool = Field(
        True, description="run the changed functions on the base and the head, report what differs"
    )
    review_behaviour_seconds: float = Field(
        4.0, gt=0, description="seconds of generated calls per changed function and side"
    )
    review_behaviour_tries: int = Field(
        2000,
        ge=1,
        description="generated calls tried per changed function and side (same seed, "
        "same calls: a run that seconds do not cut is the same on every machine)",
    )
    review_behaviour_functions: int = Field(
        20, ge=1, description="changed functions one behaviour diff calls at most"
    )
    review_check_findings: bool = Field(
        True, description="a second short model call scores each finding; claimed inputs are run"
    )
    review_min_score: int = Field(
        5, ge=0, le=10, description="findings the second look scores lower (0-10) are dropped"
    )
    review_no_change_calls: int = Field(
        10,
        ge=0,
        description="a model finding inside a changed function whose calls (at least "
        "this many) behaved the same on base and head is dropped unless confirmed (0: off)",
    )
    review_slowdown_factor: float = Field(
        1.5,
        ge=0,
        description="a model finding that claims a slowdown is posted only when the changed "
        "function's calls took this many times the base's time on the head (0: not measured)",
    )
    review_verify_suggestions: bool = Field(
        True, description="offer only suggested changes the repository's tests pass with"
    )
    review_fix_attempts: int = Field(
        2, ge=0, description="solve-flow rounds on a suggestion that fails the tests (0: none)"
    )

    @field_validator("github_api_url", "gitlab_url")
    @classmethod
    def _host_url(cls, value: str) -> str:
        return http_url(value)

    @field_validator("llm_base_url", "qdrant_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value in (None, "") else http_url(str(value))

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url_parts(value.get_secret_value(), ("redis", "rediss", "unix"))
        return value

    @field_validator("test_command")
    @classmethod
    def _command(cls, value: str) -> str:
        try:
            words = shlex.split(value)
        except ValueError as exc:  # an unclosed quote
            raise ValueError(f"{value!r} cannot be split into words ({exc})") from None
        if not words:
            raise ValueError("it is empty; give a pytest command such as 'pytest tests'")
        return value

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
