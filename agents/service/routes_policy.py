"""The quality policy (tech leads: repository tiers, path weights, best practices), the index,
and the findings people marked wrong per repository (suppressions).

Both are the index's (:mod:`agents.indexing`, a YAML policy in ``ASSAY_HOME``): what is set here
is what ``assay policy`` shows and what retrieval and reviews use.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from agents.errors import InputError
from agents.indexing import IndexService, shared_service
from agents.review.suppressions import Suppressions
from agents.service.auth import Caller, Problem, require
from indexer import IndexerError

router = APIRouter(prefix="/v1", tags=["policy"])
READ, WRITE, ADMIN = Depends(require("read")), Depends(require("write")), Depends(require("admin"))


Glob = Annotated[str, Field(min_length=1, max_length=500)]


class OrgPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    best_practices: str | None = Field(None, max_length=100_000, description="markdown")
    path_weights: dict[Glob, float] = Field(
        default_factory=dict,
        max_length=500,
        description="glob → weight for every repository (0 hides a path)",
    )


class RepoPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str | None = Field(
        None, max_length=50, description="high | normal | low | deprecated | grow"
    )
    best_practices: str | None = Field(None, max_length=100_000, description="markdown")
    path_weights: dict[Glob, float] = Field(
        default_factory=dict, max_length=500, description="glob → weight"
    )


def _service(request: Request) -> IndexService:
    return shared_service(request.app.state.settings)


def _repo_view(policy: Any, name: str) -> dict[str, Any]:
    data = policy.to_data()
    return {
        "repo": name,
        "tier": policy.tier(name),
        "path_weights": [r for r in data["path_weights"] if r.get("repo") == name],
        "best_practices": data["best_practices"]["repos"].get(name, ""),
    }


def _apply(svc: Any, body: OrgPolicyIn | RepoPolicyIn, repo: str | None) -> None:
    try:
        if isinstance(body, RepoPolicyIn) and body.tier is not None and repo is not None:
            svc.set_tier(repo, body.tier)
        for glob, weight in body.path_weights.items():
            svc.set_path_weight(glob, weight, repo)
        if body.best_practices is not None:
            svc.set_best_practices(body.best_practices, repo)
    except IndexerError as exc:
        raise Problem(400, "bad_policy", str(exc)) from exc


@router.get("/policy")
def get_policy(request: Request, caller: Caller = READ) -> dict[str, Any]:
    """The whole quality policy."""
    data: dict[str, Any] = _service(request).policy().to_data()
    return data


@router.put("/policy")
def put_policy(body: OrgPolicyIn, request: Request, caller: Caller = ADMIN) -> dict[str, Any]:
    """The organisation's best practices and path weights."""
    svc = _service(request)
    _apply(svc, body, None)
    data: dict[str, Any] = svc.policy().to_data()
    return data


@router.get("/repos/{name:path}/policy")
def get_repo_policy(name: str, request: Request, caller: Caller = READ) -> dict[str, Any]:
    return _repo_view(_service(request).policy(), name)


@router.put("/repos/{name:path}/policy")
def put_repo_policy(
    name: str, body: RepoPolicyIn, request: Request, caller: Caller = ADMIN
) -> dict[str, Any]:
    """A repository's tier, path weights and best practices (retrieval and reviews use them)."""
    svc = _service(request)
    _apply(svc, body, name)
    return _repo_view(svc.policy(), name)


@router.get("/index", tags=["index"])
def index_status(request: Request, caller: Caller = READ) -> dict[str, Any]:
    """The indexed repositories: where from, which commit, files, chunks, when."""
    try:
        records = _service(request).status()
    except Problem as problem:
        return {"available": False, "detail": problem.detail}
    except Exception as exc:  # the index is optional
        return {"available": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    repos = [asdict(r) if is_dataclass(r) and not isinstance(r, type) else vars(r) for r in records]
    return {"available": True, "repos": repos}


class SuppressionIn(BaseModel):
    fingerprint: str = Field(description="the finding's fingerprint (12 hexadecimal characters)")
    reason: str = Field("", max_length=500, description="why the finding is wrong")
    path: str = Field("", max_length=500, description="where the finding was (for the list)")
    message: str = Field("", max_length=2000, description="what it said (for the list)")


def _suppressions(request: Request) -> Suppressions:
    return Suppressions.for_settings(request.app.state.settings)


@router.get("/repos/{name:path}/suppressions", tags=["suppressions"])
def list_suppressions(name: str, request: Request, caller: Caller = READ) -> dict[str, Any]:
    """Findings people marked wrong in this repository: reviews do not post them again."""
    items = _suppressions(request).list(name)
    return {"repo": name, "suppressions": [s.as_dict() for s in items]}


@router.post("/repos/{name:path}/suppressions", tags=["suppressions"], status_code=201)
def add_suppression(
    name: str, body: SuppressionIn, request: Request, caller: Caller = WRITE
) -> dict[str, Any]:
    """Mark a finding wrong: it is not posted again in this repository."""
    try:
        item = _suppressions(request).add(
            name, body.fingerprint, path=body.path, message=body.message, reason=body.reason,
            by=f"api:{caller.token.name}",
        )  # fmt: skip
    except InputError as exc:
        raise Problem(400, "bad_fingerprint", str(exc)) from exc
    return item.as_dict()


@router.delete("/repos/{name:path}/suppressions/{fingerprint}", tags=["suppressions"])
def remove_suppression(
    name: str, fingerprint: str, request: Request, caller: Caller = WRITE
) -> dict[str, Any]:
    """Post the finding again when a review finds it."""
    try:
        removed = _suppressions(request).remove(name, fingerprint)
    except InputError as exc:
        raise Problem(400, "bad_fingerprint", str(exc)) from exc
    if not removed:
        raise Problem(404, "not_found", f"no suppressed finding {fingerprint} in {name}")
    return {"repo": name, "fingerprint": fingerprint, "removed": True}
