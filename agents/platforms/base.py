"""What the PR bot needs from a code host, and the HTTP plumbing both hosts share.

:class:`CodeHost` is the protocol :mod:`agents.platforms.github` and :mod:`agents.platforms.gitlab`
implement; :class:`HostHTTP` makes the calls and turns every failure into a
:class:`~agents.errors.PlatformError` (what failed, and whether trying later can help).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol, TypeVar

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from agents.errors import PlatformError
from flows import mask_url

_FINGERPRINT = re.compile(r"<!-- assay:finding:([0-9a-f]{6,40}) -->")
# A command: ``/assay WORD`` or, for the PR commands people know from other bots, ``/WORD``;
# what follows is its argument (``/ask QUESTION``, ``/assay wrong REASON``).
_COMMAND = re.compile(
    r"\A/(?:assay[ \t]+(review|tests|describe|improve|ask|wrong)"
    r"|(review|tests|describe|improve|ask))(?![\w-])[ \t]*(.*)",
    re.S,
)
MAX_ARGUMENT = 2000
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "assay-bot"


class BadPayload(ValueError):
    """A webhook payload without a field the event must have, or with one of the wrong shape."""


# -- webhook payloads: pydantic models of what the bot reads, strict (no "7" for 7) ---------------

M = TypeVar("M", bound=BaseModel)
SHA_RE = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256, as git prints them
_PLAIN = {
    "string_type": "should be a string",
    "int_type": "should be an integer",
    "bool_type": "should be true or false",
    "model_type": "should be an object",
    "dict_type": "should be an object",
}


class Payload(BaseModel):
    """A part of a delivery: strict types, unknown fields ignored (hosts send many)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


Id = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]  # a host's database id
Number = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]  # a PR number, an MR iid
Text = Annotated[str, Field(strict=True, max_length=1_000_000)]
Short = Annotated[str, Field(strict=True, max_length=200)]


def commit_sha(value: str) -> str:
    if not SHA_RE.fullmatch(value):
        raise ValueError("should be a commit SHA (40 or 64 lowercase hex digits)")
    return value


Sha = Annotated[str, Field(strict=True), AfterValidator(commit_sha)]


def shown(value: str, limit: int = 60) -> str:
    """A delivered value quoted for an error message, cut short."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _leaf(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The dotted path of a missing field, down to the first value it must hold: a missing
    ``repository`` is named ``repository.full_name``."""
    path, kind = [str(p) for p in loc], model
    for part in path:
        field = kind.model_fields.get(part) if isinstance(kind, type) else None
        kind = field.annotation if field is not None else None  # type: ignore[assignment]
    while isinstance(kind, type) and issubclass(kind, Payload):
        required = [n for n, f in kind.model_fields.items() if f.is_required()]
        if not required:
            break
        path.append(required[0])
        kind = kind.model_fields[required[0]].annotation  # type: ignore[assignment]
    return ".".join(path)


def parse_payload(model: type[M], payload: Any) -> M:
    """``payload`` as ``model``, or :class:`BadPayload` naming the first field that is missing
    or wrong (never echoing more than a little of what was sent)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"]) or "the payload"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        if first["type"] == "missing":
            raise BadPayload(f"the payload has no {_leaf(model, first['loc'])}{more}") from None
        msg = _PLAIN.get(first["type"]) or str(first["msg"]).removeprefix("Value error, ")
        raise BadPayload(f"{where}: {msg[:1].lower()}{msg[1:]}{more}") from None


def parse_command(text: str) -> tuple[str, str] | None:
    """(command, argument) of a comment that starts with a bot command, else None."""
    found = _COMMAND.match(text.strip())
    if found is None:
        return None
    return found.group(1) or found.group(2), found.group(3).strip()[:MAX_ARGUMENT]


@dataclass(frozen=True)
class PullRequest:
    platform: str  # "github" or "gitlab"
    repo: str  # "owner/name" on GitHub, the project id on GitLab
    number: int  # the PR number / the MR iid
    head_sha: str
    base_sha: str
    start_sha: str = ""  # GitLab's diff_refs.start_sha; GitHub: the base
    title: str = ""
    clone_url: str = ""
    fetch_ref: str = ""  # where the head can be fetched from the base repository
    state: str = "open"
    body: str = ""  # the description (GitHub's body, GitLab's description)


@dataclass
class InlineComment:
    """One of our inline comments on a PR (found by its fingerprint marker)."""

    id: str
    path: str
    line: int | None
    body: str
    thread: str = ""  # GitLab: the discussion id
    thumbs_down: int = 0  # GitHub: 👎 reactions on it (a dismissal)

    @property
    def fingerprint(self) -> str | None:
        found = _FINGERPRINT.search(self.body)
        return found.group(1) if found else None


@dataclass(frozen=True)
class NewComment:
    path: str
    line: int
    body: str
    old_line: int | None = None  # an unchanged line of the diff (a finding on deleted code)


@dataclass(frozen=True)
class Event:
    """A webhook delivery the bot acts on: review a PR or write tests for it."""

    platform: str
    action: str  # review, tests, describe, improve, ask, wrong
    repo: str
    number: int
    head_sha: str = ""
    installation_id: int | None = None
    clone_url: str = ""
    trigger: str = ""  # opened, synchronize, comment:<id>, …
    # A command's argument and where it was said: argument, thread (the review thread or
    # discussion to answer in), path, line, hunk (the lines a thread is about), by (who).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        return f"{self.platform}:{self.repo}:{self.number}:{self.head_sha}:{self.action}:" + (
            self.trigger if self.trigger.startswith("comment") else "push"
        )


class CodeHost(Protocol):
    name: str
    suggestion_fence: str

    def pull_request(self, repo: str, number: int) -> PullRequest: ...

    def diff(self, pr: PullRequest) -> str: ...

    def read_file(self, pr: PullRequest, path: str) -> str | None: ...

    def start_check(self, pr: PullRequest) -> str: ...

    def finish_check(
        self, pr: PullRequest, check_id: str, *, conclusion: str, title: str, summary: str
    ) -> None: ...

    def upsert_note(self, pr: PullRequest, marker: str, body: str) -> str: ...

    def inline_comments(self, pr: PullRequest) -> list[InlineComment]: ...

    def post_inline(self, pr: PullRequest, comments: list[NewComment], summary: str) -> None: ...

    def update_inline(self, pr: PullRequest, comment: InlineComment, body: str) -> None: ...

    def delete_inline(self, pr: PullRequest, comment: InlineComment) -> None: ...

    def set_description(self, pr: PullRequest, body: str, labels: list[str]) -> None:
        """Replace the PR's description with ``body`` and add ``labels``."""
        ...

    def reply(self, pr: PullRequest, thread: str, body: str) -> str:
        """Answer in a review thread (GitHub: a reply to its first comment; GitLab: a note in
        the discussion); returns the new comment's id."""
        ...

    def thread_comment(self, pr: PullRequest, thread: str) -> InlineComment | None:
        """The first comment of a review thread (one of ours carries a fingerprint)."""
        ...

    def git_auth(self, pr: PullRequest) -> tuple[str, str | None]:
        """(clone URL, HTTP header for git or None): credentials never go into the URL."""
        ...

    def close(self) -> None: ...


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        message = data.get("message") or data.get("error") or data.get("errors") or ""
        return str(message)[:200]
    return str(data)[:200]


def basic_auth(user: str, token: str) -> str:
    """An ``Authorization: Basic`` header line for git over HTTPS."""
    return "Authorization: Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


class HostHTTP:
    """An httpx client for one host whose errors are :class:`PlatformError`."""

    def __init__(self, host: str, base_url: str, headers: dict[str, str], fix_auth: str) -> None:
        self.host = host
        self.fix_auth = fix_auth
        self.client = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, **headers},
            timeout=TIMEOUT,
            follow_redirects=True,
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        where = f"{self.host} {method} {url.split('?')[0]}"
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise PlatformError(f"{where} timed out", "try again later", transient=True) from exc
        except httpx.HTTPError as exc:
            raise PlatformError(
                mask_url(f"{self.host} is unreachable at {self.client.base_url}: {exc}"),
                "check the URL setting and the network",
                transient=True,
            ) from exc
        status = response.status_code
        if status < 400:
            return response
        detail = _detail(response)
        limited = status == 429 or (
            status == 403 and response.headers.get("x-ratelimit-remaining") == "0"
        )
        if limited:
            raise PlatformError(
                f"{where}: rate limited", "wait and retry", status=status, transient=True
            )
        if status == 401:
            raise PlatformError(
                f"{where}: credentials rejected ({detail})", self.fix_auth, status=401
            )
        if status >= 500:
            raise PlatformError(
                f"{where}: server error {status} ({detail})", "retry later", status=status,
                transient=True,
            )  # fmt: skip
        raise PlatformError(f"{where}: HTTP {status} ({detail})", "", status=status)

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.request(method, url, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise PlatformError(
                f"{self.host} {method} {url}: the answer is not JSON", "", transient=True
            ) from exc

    def pages(self, url: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Items of a paginated list (``Link: rel=next`` or GitLab's ``X-Next-Page``)."""
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        next_url: str | None = url
        for _ in range(100):  # 10,000 items at most
            if next_url is None:
                return
            response = self.request("GET", next_url, params=query)
            items = response.json()
            yield from items if isinstance(items, list) else []
            link = _NEXT.search(response.headers.get("link", ""))
            next_page = response.headers.get("x-next-page")
            if link:
                next_url, query = link.group(1), None
            elif next_page:
                query = {**(query or {"per_page": 100}), "page": next_page}
            else:
                next_url = None

    def close(self) -> None:
        self.client.close()
