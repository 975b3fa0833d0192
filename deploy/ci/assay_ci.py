#!/usr/bin/env python3
"""The CI side of ``assay cover --diff``: the GitHub Action (action.yml) and the GitLab template
(deploy/ci/gitlab/assay-cover.gitlab-ci.yml) call this; standard library only, any Python 3.8+.

    assay_ci.py written REPORT                  the test files the run wrote, one per line
    assay_ci.py junit REPORT --out F [--repo D] [--python PY]
                                                JUnit XML of the accepted tests (run once more with
                                                the project's pytest); an empty suite when none;
                                                JS/TS tests: the file assay cover --junit wrote
    assay_ci.py comment REPORT [--patch F] --out F
                                                the PR/MR comment (markdown, with a hidden marker)
    assay_ci.py summary REPORT                  the same without the patch, to stdout
    assay_ci.py outputs REPORT                  accepted=N and coverage-after=P, for $GITHUB_OUTPUT
    assay_ci.py post-github BODY                update-or-create the comment on a pull request
                                                (GITHUB_API_URL, GITHUB_REPOSITORY, PR_NUMBER,
                                                GITHUB_TOKEN)
    assay_ci.py post-gitlab BODY                the same on a merge request (CI_API_V4_URL,
                                                CI_PROJECT_ID, CI_MERGE_REQUEST_IID,
                                                ASSAY_GITLAB_TOKEN)

A comment is found again by its marker and edited, never posted twice.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

MARKER = "<!-- assay-cover -->"
MAX_PATCH = 50_000  # characters of the patch shown in a comment (GitHub's limit is 65,536)


def load(report: str) -> dict[str, Any]:
    try:
        return json.loads(Path(report).read_text())
    except (OSError, ValueError):
        return {}


def written(data: dict[str, Any]) -> list[str]:
    return [p for p in data.get("written", []) if p not in data.get("rolled_back", [])]


def pct(cov: dict[str, Any] | None) -> str:
    return "-" if not cov else f"{cov['combined']:.1f} %"


def summary_markdown(data: dict[str, Any]) -> str:
    if not data:
        return "**assay cover** did not finish: no report (see the job log)."
    total = data.get("coverage", {}).get("total", {})
    tests = data.get("tests", {})
    rejected = ", ".join(f"{k} {v}" for k, v in sorted(tests.get("rejected", {}).items()))
    lines = [
        "### assay cover: the changed lines",
        "",
        *(
            [
                "**The model failed on every call** (exit 3): nothing it was asked for came back; "
                "check the endpoint (`assay doctor`) and its settings.",
                "",
            ]
            if data.get("model_failed")
            else []
        ),
        "| | before | after |",
        "|---|---|---|",
        f"| line+branch coverage | {pct(total.get('before'))} | {pct(total.get('after'))} |",
        "",
        f"**{tests.get('accepted', 0)}** new test(s) accepted (each passed repeatedly, added "
        f"coverage and killed a mutant); candidates rejected: {rejected or 'none'}.",
    ]
    files = data.get("coverage", {}).get("files", {})
    if files:
        lines += ["", "<details><summary>per file</summary>", "", "| file | before | after |"]
        lines += ["|---|---|---|"]
        for path, cov in sorted(files.items()):
            lines.append(f"| `{path}` | {pct(cov.get('before'))} | {pct(cov.get('after'))} |")
        lines += ["", "</details>"]
    oracles = data.get("observed_oracles") or []
    if oracles:
        lines += ["", f"{len(oracles)} expected value(s) were taken from what the code did, not "
                  "from the model: review them, a disagreement can be a bug."]  # fmt: skip
    if data.get("stopped") not in (None, "done"):
        lines += ["", f"Stopped early: {data['stopped']}."]
    return "\n".join(lines) + "\n"


def comment_markdown(data: dict[str, Any], patch: str) -> str:
    body = [MARKER, summary_markdown(data)]
    if patch.strip():
        shown = (
            patch
            if len(patch) <= MAX_PATCH
            else patch[:MAX_PATCH] + "\n… (cut; see the artifact)\n"
        )
        body += ["<details><summary>the tests (apply with <code>git apply</code>)</summary>", "",
                 "```diff", shown.rstrip("\n"), "```", "", "</details>"]  # fmt: skip
    return "\n".join(body) + "\n"


def junit(data: dict[str, Any], out: Path, repo: Path, python: str) -> int:
    files = [f for f in written(data) if (repo / f).is_file()]
    if files and not any(f.endswith(".py") for f in files) and out.is_file():
        return 0  # JavaScript/TypeScript tests: the JUnit assay cover wrote from its gate runs
    if not files:
        accepted = data.get("tests", {}).get("accepted", 0)
        out.write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="assay cover" tests="0">'
            f'<testsuite name="assay cover" tests="0" errors="0" failures="0" skipped="0">'
            f'<properties><property name="accepted" value={quoteattr(str(accepted))}/>'
            "</properties></testsuite></testsuites>\n"
        )
        return 0
    argv = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={out.resolve()}"]
    done = subprocess.run([*argv, "--", *files], cwd=repo, capture_output=True, text=True)
    if not out.is_file():
        sys.stderr.write(done.stdout + done.stderr)
        out.write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="assay cover" '
            'tests="1" errors="1"><testcase name="run"><error message="pytest did not run">'
            f"{escape((done.stdout + done.stderr)[-4000:])}</error></testcase></testsuite>"
            "</testsuites>\n"
        )
    return done.returncode


# -- posting the comment ------------------------------------------------------------------------


def _request(method: str, url: str, headers: dict[str, str], body: Any = None) -> tuple[Any, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode() or "null"
            return json.loads(text), resp.headers
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise SystemExit(f"error: {method} {url} answered {exc.code}: {detail}") from None
    except urllib.error.URLError as exc:
        raise SystemExit(f"error: {method} {url}: {exc.reason}") from None


def _next_page(url: str, headers: Any) -> str | None:
    """GitHub's (and GitLab's) Link rel="next", or GitLab's X-Next-Page."""
    found = re.search(r'<([^>]+)>;\s*rel="next"', headers.get("Link") or "")
    if found:
        return found.group(1)
    page = headers.get("X-Next-Page")
    if page:
        base = re.sub(r"([?&])page=\d+&?", r"\1", url).rstrip("?&")
        return f"{base}{'&' if '?' in base else '?'}page={page}"
    return None


def upsert(list_url: str, edit_url: str, create_url: str, headers: dict[str, str],
           body: str, method: str) -> str:  # fmt: skip
    url: str | None = list_url
    while url:
        items, answer = _request("GET", url, headers)
        for item in items or []:
            if MARKER in (item.get("body") or ""):
                _request(method, edit_url.format(id=item["id"]), headers, {"body": body})
                return f"updated comment {item['id']}"
        url = _next_page(url, answer)
    created, _ = _request("POST", create_url, headers, {"body": body})
    return f"created comment {created.get('id')}"


def post_github(body: str) -> str:
    env = os.environ
    api, repo, number = (
        env["GITHUB_API_URL"].rstrip("/"),
        env["GITHUB_REPOSITORY"],
        env["PR_NUMBER"],
    )
    headers = {"Authorization": f"Bearer {env['GITHUB_TOKEN']}",
               "Accept": "application/vnd.github+json"}  # fmt: skip
    issue = f"{api}/repos/{repo}/issues"
    return upsert(f"{issue}/{number}/comments?per_page=100", f"{issue}/comments/{{id}}",
                  f"{issue}/{number}/comments", headers, body, "PATCH")  # fmt: skip


def post_gitlab(body: str) -> str:
    env = os.environ
    api = env["CI_API_V4_URL"].rstrip("/")
    notes = (
        f"{api}/projects/{env['CI_PROJECT_ID']}/merge_requests/{env['CI_MERGE_REQUEST_IID']}/notes"
    )
    headers = {"PRIVATE-TOKEN": env["ASSAY_GITLAB_TOKEN"]}
    return upsert(f"{notes}?per_page=100", f"{notes}/{{id}}", notes, headers, body, "PUT")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assay_ci.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("written").add_argument("report")
    j = sub.add_parser("junit")
    j.add_argument("report")
    j.add_argument("--out", required=True)
    j.add_argument("--repo", default=".")
    j.add_argument("--python", default=sys.executable)
    c = sub.add_parser("comment")
    c.add_argument("report")
    c.add_argument("--patch")
    c.add_argument("--out", required=True)
    sub.add_parser("summary").add_argument("report")
    sub.add_parser("outputs").add_argument("report")
    sub.add_parser("post-github").add_argument("body")
    sub.add_parser("post-gitlab").add_argument("body")
    args = parser.parse_args(argv)
    if args.command in ("post-github", "post-gitlab"):
        body = Path(args.body).read_text()
        print((post_github if args.command == "post-github" else post_gitlab)(body))
        return 0
    data = load(args.report)
    if args.command == "written":
        for path in written(data):
            print(path)
    elif args.command == "junit":
        return junit(data, Path(args.out), Path(args.repo), args.python)
    elif args.command == "comment":
        patch = Path(args.patch).read_text() if args.patch and Path(args.patch).is_file() else ""
        Path(args.out).write_text(comment_markdown(data, patch))
    elif args.command == "outputs":
        after = (data.get("coverage", {}).get("total", {}).get("after") or {}).get("combined", "")
        print(f"accepted={data.get('tests', {}).get('accepted', 0)}\ncoverage-after={after}")
    else:
        sys.stdout.write(summary_markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
