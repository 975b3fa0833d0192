"""``.assay.toml``: what a repository asks of the PR bot and of ``assay review``.

```toml
[review]
enabled = true            # false: the bot leaves this repository's PRs alone
tests = true              # the tests section: diff coverage and generated tests
max_findings = 20
max_per_file = 5
min_severity = "low"      # high | medium | low
fail_on = "none"          # the check fails on findings this severe: high | medium | low | none
exclude = ["docs/*"]      # paths never reviewed
token_budget = 12000      # diff tokens read at most
best_practices = "docs/REVIEWING.md"   # markdown in the repository, shown to the model

[tests]
max_minutes = 10
attempts = 2
repeat = 3
mutation = true
test_command = "pytest"
```

A broken file does not stop a review: it runs with the defaults and says what was wrong.
"""

from __future__ import annotations

import tomllib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FILE = ".assay.toml"
Severity = Literal["high", "medium", "low"]


class ReviewConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    tests: bool = True
    max_findings: int = Field(20, ge=1, le=200)
    max_per_file: int = Field(5, ge=1, le=100)
    min_severity: Severity = "low"
    fail_on: Severity | Literal["none"] = "none"
    exclude: list[str] = Field(default_factory=list)
    token_budget: int | None = Field(None, ge=200)
    best_practices: str | None = None


class TestsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_minutes: float = Field(10.0, gt=0)
    attempts: int = Field(2, ge=1, le=10)
    repeat: int = Field(3, ge=1, le=20)
    mutation: bool = True
    test_command: str = "pytest"


class RepoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review: ReviewConfig = Field(default_factory=lambda: ReviewConfig.model_validate({}))
    tests: TestsConfig = Field(default_factory=lambda: TestsConfig.model_validate({}))


def parse_repo_config(text: str | None) -> tuple[RepoConfig, str]:
    """The repository's config (defaults when absent) and a problem to report, or ""."""
    if not text or not text.strip():
        return RepoConfig.model_validate({}), ""
    try:
        data = tomllib.loads(text)
        return RepoConfig.model_validate(data), ""
    except tomllib.TOMLDecodeError as exc:
        return RepoConfig.model_validate(
            {}
        ), f"{FILE} is not valid TOML ({exc}); the defaults were used"
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return RepoConfig.model_validate(
            {}
        ), f"{FILE}: {where}: {err['msg']}; the defaults were used"
