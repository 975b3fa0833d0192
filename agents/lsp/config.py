"""The editor's settings for assay and how they become assay's :class:`~agents.settings.Settings`.

The client sends them as ``initializationOptions`` and, when it supports it, as the ``assay``
section of ``workspace/configuration`` (read at start and on every change; it wins over the
initialization options).  The shape (VS Code's ``assay.*`` settings, nested)::

    {"mode": "auto" | "local" | "service",
     "llm": {"baseUrl": "...", "model": "...", "apiKey": "..."},
     "service": {"url": "...", "token": "...", "repo": "..."},
     "projectPython": "...", "review": {"base": "main"},
     "tests": {"behaviours": 3, "pickBehaviours": true},
     "settings": {"cover_repeat": 2, ...}}

Editor settings are assay's highest precedence (like command-line flags): over ``ASSAY_*``
environment variables, over ``assay.toml`` in the project, over the defaults.  Empty strings
mean "not set", so an editor's empty defaults never hide the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agents.errors import ConfigError
from agents.settings import LoadedSettings, load_settings
from flows import mask_url

Mode = Literal["auto", "local", "service"]
SECTION = "assay"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        elif value is not None:
            out[key] = value
    return out


@dataclass(frozen=True)
class LspConfig:
    mode: Mode = "auto"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    service_url: str | None = None
    service_token: str | None = None
    service_repo: str | None = None
    project_python: str | None = None
    review_base: str = "main"
    behaviours: int = 3
    pick_behaviours: bool = False  # the client answers assay/pickBehaviours
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None) -> LspConfig:
        """From the editor's nested settings (an ``assay`` key around them is fine too)."""
        data = dict(data or {})
        if isinstance(data.get(SECTION), Mapping):
            data = deep_merge(data, data[SECTION])
        llm, service = _table(data, "llm"), _table(data, "service")
        review, tests = _table(data, "review"), _table(data, "tests")
        mode = _text(data.get("mode")) or "auto"
        if mode not in ("auto", "local", "service"):
            raise ConfigError(f"Unknown assay.mode '{mode}'", "use auto, local or service")
        try:
            behaviours = int(tests.get("behaviours") or 3)
        except (TypeError, ValueError) as exc:
            raise ConfigError("assay.tests.behaviours is not a number", "set 1 to 10") from exc
        extra = data.get("settings")
        return cls(
            mode=mode,  # type: ignore[arg-type]
            llm_base_url=_text(llm.get("baseUrl")),
            llm_model=_text(llm.get("model")),
            llm_api_key=_text(llm.get("apiKey")),
            service_url=(_text(service.get("url")) or "").rstrip("/") or None,
            service_token=_text(service.get("token")),
            service_repo=_text(service.get("repo")),
            project_python=_text(data.get("projectPython")),
            review_base=_text(review.get("base")) or "main",
            behaviours=min(max(behaviours, 1), 10),
            pick_behaviours=bool(tests.get("pickBehaviours", False)),
            extra=dict(extra) if isinstance(extra, Mapping) else {},
        )

    @property
    def uses_service(self) -> bool:
        if self.mode == "service" and not self.service_url:
            raise ConfigError(
                "assay.mode is 'service' but assay.service.url is empty",
                "set the service's URL (and a token), or use the local mode",
            )
        return self.mode == "service" or (self.mode == "auto" and bool(self.service_url))

    def overrides(self) -> dict[str, Any]:
        """The settings the editor sets, as ``load_settings`` overrides (None: not set)."""
        values: dict[str, Any] = {k: v for k, v in self.extra.items() if v not in (None, "")}
        values.update(
            llm_base_url=self.llm_base_url or values.get("llm_base_url"),
            llm_model=self.llm_model or values.get("llm_model"),
            llm_api_key=self.llm_api_key or values.get("llm_api_key"),
            python=self.project_python or values.get("python"),
        )
        return values

    def settings(self, root: Path) -> LoadedSettings:
        """The effective settings for work in the project at ``root``."""
        return load_settings(root, self.overrides())

    def describe(self) -> str:
        """One line for the log and the status bar: where the work runs."""
        if self.mode != "local" and self.service_url:
            repo = f", repository '{self.service_repo}'" if self.service_repo else ", snippets"
            return mask_url(f"service {self.service_url}{repo}")
        model = self.llm_base_url or "embedded (or ASSAY_LLM_BASE_URL)"
        return mask_url(f"local engine, model {model}")
