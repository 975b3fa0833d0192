"""The quality policy tech leads keep: repository tiers, path weights, best practices.

Tiers: ``high`` (a good example), ``normal``, ``low`` (do not imitate), ``deprecated`` (never
returned as an example) and ``grow`` (wanted to improve: the cover agent's priorities).  A
search hit's score is its relevance × the weight of its repository's tier × the weights of the
path rules matching it (all of them, multiplied); a path weight of 0 hides the path.  Path
rules are gitignore-style globs (``legacy/**``, ``*_test.go``), for every repository or one.
Best practices are markdown: one text for the organisation, one per repository.

The policy is a YAML file (:func:`load_policy` / :func:`save_policy`); the edits below return
a new policy and never touch the file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pathspec import GitIgnoreSpec

from indexer.errors import PolicyError

TIERS = ("high", "normal", "low", "deprecated", "grow")
DEFAULT_TIER_WEIGHTS = {"high": 1.5, "normal": 1.0, "grow": 1.0, "low": 0.5, "deprecated": 0.0}
MAX_WEIGHT = 10.0


@dataclass(frozen=True)
class PathRule:
    glob: str
    weight: float
    repo: str | None = None  # None: every repository

    @cached_property
    def spec(self) -> GitIgnoreSpec:
        return GitIgnoreSpec.from_lines([self.glob])


@dataclass(frozen=True)
class Policy:
    tiers: dict[str, str] = field(default_factory=dict)
    path_rules: tuple[PathRule, ...] = ()
    tier_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIER_WEIGHTS))
    org_best_practices: str = ""
    repo_best_practices: dict[str, str] = field(default_factory=dict)

    def tier(self, repo: str) -> str:
        return self.tiers.get(repo, "normal")

    def tier_weight(self, repo: str) -> float:
        return float(self.tier_weights.get(self.tier(repo), 1.0))

    def repo_weights(self, repos: list[str] | None = None) -> dict[str, float]:
        """Tier weight per repository with a tier set (and of ``repos`` when given)."""
        names = set(self.tiers) | set(repos or ())
        return {repo: self.tier_weight(repo) for repo in sorted(names)}

    def path_weight(self, repo: str, path: str) -> float:
        weight = 1.0
        for rule in self.path_rules:
            if (rule.repo is None or rule.repo == repo) and rule.spec.match_file(path):
                weight *= rule.weight
        return weight

    def excluded_repos(self) -> list[str]:
        """Repositories never returned as examples: the deprecated ones."""
        return sorted(r for r, t in self.tiers.items() if t == "deprecated")

    def grow_repos(self) -> list[str]:
        return sorted(r for r, t in self.tiers.items() if t == "grow")

    def best_practices(self, repo: str | None = None) -> str:
        """The organisation's text, then the repository's, as one markdown document."""
        parts = []
        if self.org_best_practices.strip():
            parts.append(self.org_best_practices.strip())
        own = self.repo_best_practices.get(repo, "") if repo else ""
        if own.strip():
            parts.append(f"## {repo}\n\n{own.strip()}" if parts else own.strip())
        return "\n\n".join(parts) + ("\n" if parts else "")

    # Edits: each returns a new policy.
    def with_tier(self, repo: str, tier: str) -> Policy:
        if tier not in TIERS:
            raise PolicyError(f"Unknown tier {tier!r} for {repo}", f"use one of {', '.join(TIERS)}")
        tiers = {**self.tiers, repo: tier}
        if tier == "normal":
            del tiers[repo]
        return replace(self, tiers=tiers)

    def with_path_weight(self, glob: str, weight: float, repo: str | None = None) -> Policy:
        if not glob.strip():
            raise PolicyError("Empty path glob", "give a glob such as 'legacy/**'")
        if not 0.0 <= weight <= MAX_WEIGHT:
            raise PolicyError(
                f"Path weight {weight} for {glob!r} is out of range", f"use 0 to {MAX_WEIGHT:g}"
            )
        rules = [r for r in self.path_rules if (r.glob, r.repo) != (glob, repo)]
        if weight != 1.0:
            rules.append(PathRule(glob, weight, repo))
        return replace(self, path_rules=tuple(rules))

    def with_best_practices(self, text: str, repo: str | None = None) -> Policy:
        if repo is None:
            return replace(self, org_best_practices=text)
        texts = {**self.repo_best_practices, repo: text}
        if not text.strip():
            del texts[repo]
        return replace(self, repo_best_practices=texts)

    def without_repo(self, repo: str) -> Policy:
        tiers = {r: t for r, t in self.tiers.items() if r != repo}
        texts = {r: t for r, t in self.repo_best_practices.items() if r != repo}
        rules = tuple(r for r in self.path_rules if r.repo != repo)
        return replace(self, tiers=tiers, repo_best_practices=texts, path_rules=rules)

    def to_data(self) -> dict[str, Any]:
        return {
            "tiers": dict(sorted(self.tiers.items())),
            "tier_weights": dict(self.tier_weights),
            "path_weights": [
                {"glob": r.glob, "weight": r.weight, **({"repo": r.repo} if r.repo else {})}
                for r in self.path_rules
            ],
            "best_practices": {
                "org": self.org_best_practices,
                "repos": dict(sorted(self.repo_best_practices.items())),
            },
        }


def policy_from_data(data: Any, where: str = "policy") -> Policy:
    """A :class:`Policy` from its YAML data, validated (errors name the key)."""
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise PolicyError(f"Malformed {where}: not a mapping", "fix or delete the file")
    try:
        tiers = {str(k): str(v) for k, v in (data.get("tiers") or {}).items()}
        for repo, tier in tiers.items():
            if tier not in TIERS:
                raise PolicyError(
                    f"Unknown tier {tier!r} for {repo} in {where}", f"use one of {', '.join(TIERS)}"
                )
        weights = {**DEFAULT_TIER_WEIGHTS}
        for tier, value in (data.get("tier_weights") or {}).items():
            if tier not in TIERS:
                raise PolicyError(f"Unknown tier {tier!r} in tier_weights of {where}")
            weights[tier] = float(value)
        weights["deprecated"] = 0.0  # never an example, whatever the file says
        rules = tuple(
            PathRule(str(r["glob"]), float(r["weight"]), r.get("repo"))
            for r in data.get("path_weights") or []
        )
        practices = data.get("best_practices") or {}
        return Policy(
            tiers=tiers,
            path_rules=rules,
            tier_weights=weights,
            org_best_practices=str(practices.get("org") or ""),
            repo_best_practices={str(k): str(v) for k, v in (practices.get("repos") or {}).items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PolicyError(f"Malformed {where}: {exc}", "fix or delete the file") from exc


def load_policy(path: Path) -> Policy:
    """The policy at ``path`` (an empty policy when there is no file yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Policy()
    except OSError as exc:
        raise PolicyError(
            f"Cannot read the policy {path}: {exc.strerror}", "check its permissions"
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(
            f"Malformed policy {path}: {str(exc).splitlines()[0]}", "fix the YAML"
        ) from exc
    return policy_from_data(data, str(path))


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def save_policy(path: Path, policy: Policy) -> None:
    """Write the policy atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# assay quality policy: edit with 'assay policy …' or by hand.\n" + yaml.dump(
        policy.to_data(), Dumper=_Dumper, sort_keys=False, allow_unicode=True
    )
    fd, tmp = tempfile.mkstemp(prefix=".policy-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
