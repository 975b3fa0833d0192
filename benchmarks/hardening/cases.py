"""The bad inputs of ``bad_inputs.py``: the throwaway projects and files they point at, and the
cases themselves (arguments, environment, what should come back)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class Case:
    group: str
    what: str  # the bad input, in words
    args: list[str]
    expect: str  # "error", "continue" or "model-failed"
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 60.0


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )


def make_workspace(w: Path) -> dict[str, Path]:
    """The projects and files the cases point at."""
    shop = w / "shop"
    shutil.copytree(ROOT / "examples" / "shop", shop)
    git(shop, "init", "-q", "-b", "main")
    git(shop, "add", ".")
    git(shop, "commit", "-qm", "shop")
    places = {"shop": shop}

    def variant(name: str, change: Callable[[Path], None]) -> None:
        copy = w / name
        shutil.copytree(shop, copy, symlinks=True)
        change(copy)
        places[name] = copy

    variant("dangling", lambda p: (p / "shop" / "gone.py").symlink_to("/nonexistent/gone.py"))
    variant("dir_py", lambda p: (p / "shop" / "weird.py").mkdir())
    variant("latin1", lambda p: (p / "shop" / "latin.py").write_bytes(b"X = '\xe9t\xe9'\n"))
    variant("syntax", lambda p: (p / "shop" / "broken.py").write_text("def f(:\n    pass\n"))
    variant("nul", lambda p: (p / "shop" / "nul.py").write_bytes(b"X = 1\x00\n"))
    variant("toml_bad", lambda p: (p / "assay.toml").write_text("llm_timeout = [\n"))
    variant("toml_key", lambda p: (p / "assay.toml").write_text("llm_timout = 3\n"))
    variant("toml_value", lambda p: (p / "assay.toml").write_text('cover_repeat = "many"\n'))
    variant("no_tests", lambda p: shutil.rmtree(p / "tests"))
    (w / "empty").mkdir()
    places["empty"] = w / "empty"
    (w / "file.txt").write_text("just a file\n")
    (w / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (w / "numbers.jsonl").write_text("1\n2\n3\n")
    (w / "problem.md").write_text("Write `add(a, b)` that returns the sum.\n")
    (w / "solve_tests.py").write_text(
        "from solution import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )
    (w / "no_tests.py").write_text("x = 1\n")
    (w / "practices.md").write_bytes(b"\xff\xfe binary")
    for name in (
        "file.txt",
        "binary.bin",
        "numbers.jsonl",
        "problem.md",
        "solve_tests.py",
        "no_tests.py",
        "practices.md",
    ):
        places[name] = w / name
    return places


def cases(p: dict[str, Path], llm: dict[str, str]) -> list[Case]:
    s, w = str(p["shop"]), p["shop"].parent
    ok = ["--llm-base-url", llm["useless"]]
    quick = ["--no-explore", "--mutants", "off", "--max-minutes", "1", "--dry-run"]
    cover = ["cover", s, *ok]
    out: list[Case] = []

    def add(group: str, what: str, args: list[str], expect: str = "error", **kw: object) -> None:
        out.append(Case(group, what, args, expect, **kw))  # type: ignore[arg-type]

    # assay cover: paths, numbers, commands, URLs
    add("cover", "PATH does not exist", ["cover", str(w / "nope"), *ok])
    add("cover", "PATH is a file", ["cover", str(p["file.txt"]), *ok])
    add("cover", "PATH holds no Python", ["cover", str(p["empty"]), *ok])
    add("cover", "--fail-under 200", [*cover, "--fail-under", "200"])
    add("cover", "--fail-under -1", [*cover, "--fail-under", "-1"])
    add("cover", "--max-tokens -5", [*cover, "--max-tokens", "-5"])
    add("cover", "--max-tokens 0", [*cover, "--max-tokens", "0"])
    add("cover", "--max-tokens abc", [*cover, "--max-tokens", "abc"])
    add("cover", "--max-minutes 0", [*cover, "--max-minutes", "0"])
    add("cover", "--max-minutes -3", [*cover, "--max-minutes", "-3"])
    add("cover", "--max-minutes nan", [*cover, "--max-minutes", "nan"])
    add("cover", "--target-coverage 150", [*cover, "--target-coverage", "150"])
    add("cover", "--target-coverage 0", [*cover, "--target-coverage", "0"])
    add("cover", "--repeat 0", [*cover, "--repeat", "0"])
    add("cover", "--attempts -1", [*cover, "--attempts", "-1"])
    add("cover", "--rounds 0", [*cover, "--rounds", "0"])
    add("cover", "--tests-per-target 0", [*cover, "--tests-per-target", "0"])
    add("cover", "--candidate-timeout 0", [*cover, "--candidate-timeout", "0"])
    add("cover", "--sandbox-timeout -1", [*cover, "--sandbox-timeout", "-1"])
    add("cover", "--explore-seconds 0", [*cover, "--explore-seconds", "0"])
    add("cover", "--strategy bogus", [*cover, "--strategy", "bogus"])
    add("cover", "--into bogus", [*cover, "--into", "bogus"])
    add("cover", "unknown option --bogus", [*cover, "--bogus"])
    add("cover", "--report /proc/x/y.json", [*cover, "--report", "/proc/x/y.json"])
    add("cover", "--report is a directory", [*cover, "--report", str(w)])
    add("cover", "--report in a missing directory", [*cover, "--report", str(w / "no/r.json")])
    add("cover", "--report under /proc/self", [*cover, "--report", "/proc/self/r.json"])
    add("cover", '--test-command "pytest \'x"', [*cover, "--test-command", "pytest 'x"])
    add("cover", "--test-command ''", [*cover, "--test-command", ""])
    add("cover", "--test-command 'make test'", [*cover, "--test-command", "make test", *quick])
    add("cover", "--python /nonexistent/python", [*cover, "--python", "/nonexistent/python"])
    add("cover", "--python /etc/passwd", [*cover, "--python", "/etc/passwd"])
    add("cover", "--llm-base-url 'http://[::1'", ["cover", s, "--llm-base-url", "http://[::1"])
    add("cover", "--llm-base-url ftp://x", ["cover", s, "--llm-base-url", "ftp://x"])
    add("cover", "--llm-base-url 'not a url'", ["cover", s, "--llm-base-url", "not a url"])
    add("cover", "--llm-base-url http://h:99999", ["cover", s, "--llm-base-url", "http://h:99999"])
    add(
        "cover",
        "ASSAY_LLM_BASE_URL='http://[::1'",
        ["cover", s],
        env={"ASSAY_LLM_BASE_URL": "http://[::1"},
    )
    add("cover", "endpoint not listening", ["cover", s, "--llm-base-url", "http://127.0.0.1:9/v1"])
    add("cover", "--diff no-such-ref", [*cover, "--diff", "no-such-ref"])
    add("cover", "ASSAY_COVER_REPEAT=abc", cover, env={"ASSAY_COVER_REPEAT": "abc"})
    add("cover", "ASSAY_SANDBOX_TIMEOUT=-1", cover, env={"ASSAY_SANDBOX_TIMEOUT": "-1"})
    add("cover", "ASSAY_LLM_STAGE_MODELS=notjson", cover, env={"ASSAY_LLM_STAGE_MODELS": "{x"})
    add("cover", "assay.toml malformed", ["cover", str(p["toml_bad"]), *ok])
    add("cover", "assay.toml unknown key", ["cover", str(p["toml_key"]), *ok])
    add("cover", "assay.toml wrong type", ["cover", str(p["toml_value"]), *ok])
    for name, what in (
        ("dangling", "a dangling .py symlink"),
        ("dir_py", "a directory x.py"),
        ("latin1", "a Latin-1 .py"),
        ("syntax", "a .py with a syntax error"),
        ("nul", "a .py with a NUL byte"),
    ):
        add(
            "cover",
            f"project with {what}",
            ["cover", str(p[name]), *ok, *quick],
            "continue",
            timeout=240,
        )
    add(
        "cover",
        "project without tests",
        ["cover", str(p["no_tests"]), *ok, *quick],
        "continue",
        timeout=240,
    )
    for kind in ("500", "429", "garbage", "hang"):
        add(
            "cover",
            f"model fails every call ({kind})",
            ["cover", s, "--llm-base-url", llm[kind], *quick],
            "model-failed",
            timeout=240,
            env={"ASSAY_LLM_MAX_RETRIES": "1", "ASSAY_LLM_TIMEOUT": "3"},
        )

    # assay trace show
    add("trace", "trace show /etc/passwd", ["trace", "show", "/etc/passwd"])
    add("trace", "trace show DIR", ["trace", "show", str(w)])
    add("trace", "trace show binary file", ["trace", "show", str(p["binary.bin"])])
    add("trace", "trace show JSON that is no trace", ["trace", "show", str(p["numbers.jsonl"])])
    add("trace", "trace show missing file", ["trace", "show", str(w / "none.jsonl")])
    add("trace", "trace show (no FILE)", ["trace", "show"])

    # assay review
    add("review", "PATH does not exist", ["review", str(w / "nope"), *ok])
    add("review", "not a git repository", ["review", str(p["empty"]), *ok])
    add("review", "--base no-such-ref", ["review", s, "--base", "no-such-ref", *ok])
    add("review", "--fail-on bogus", ["review", s, "--fail-on", "bogus", *ok])
    add("review", "--json /proc/x/y.json", ["review", s, "--json", "/proc/x/y.json", *ok])
    add("review", "--patch is a directory", ["review", s, "--patch", str(w), *ok])

    # assay tests
    add("tests", "no ::SYMBOL", ["tests", f"{s}/shop/pricing.py", *ok])
    add("tests", "file does not exist", ["tests", f"{s}/shop/nope.py::f", *ok])
    add("tests", "symbol does not exist", ["tests", f"{s}/shop/pricing.py::nope", *ok])
    add(
        "tests",
        "--behaviours 0",
        ["tests", f"{s}/shop/pricing.py::apply_discount", "--behaviours", "0", *ok],
    )
    add(
        "tests", "--pick 99", ["tests", f"{s}/shop/pricing.py::apply_discount", "--pick", "99", *ok]
    )

    # assay solve
    sp, st = str(p["problem.md"]), str(p["solve_tests.py"])
    add("solve", "problem file missing", ["solve", str(w / "nope.md"), "--tests", st, *ok])
    add("solve", "tests file is binary", ["solve", sp, "--tests", str(p["binary.bin"]), *ok])
    add("solve", "tests without tests", ["solve", sp, "--tests", str(p["no_tests.py"]), *ok])
    add("solve", "--max-calls 0", ["solve", sp, "--tests", st, "--max-calls", "0", *ok])
    add("solve", "--candidates -3", ["solve", sp, "--tests", st, "--candidates", "-3", *ok])
    add("solve", "--out /proc/x/y.py", ["solve", sp, "--tests", st, "--out", "/proc/x/y.py", *ok])
    add(
        "solve",
        "--trace in a missing dir",
        ["solve", sp, "--tests", st, "--trace", str(w / "no/t.jsonl"), *ok],
    )

    # index, search, policy
    add("index", "index add missing path", ["index", "add", str(w / "nope")])
    add("index", "index add a file", ["index", "add", str(p["file.txt"])])
    add("index", "index add 'http://[::1'", ["index", "add", "http://[::1"])
    add("index", "index remove unknown", ["index", "remove", "nope"])
    add("index", "search -k 0", ["search", "x", "-k", "0"])
    add("index", "search --mode bogus", ["search", "x", "--mode", "bogus"])
    add("index", "policy set-tier bogus", ["policy", "set-tier", "shop", "golden"])
    add("index", "policy set-path-weight -1", ["policy", "set-path-weight", "*.py", "-1"])
    add("index", "policy set-path-weight nan", ["policy", "set-path-weight", "*.py", "nan"])
    add(
        "index",
        "policy best-practices --set binary",
        ["policy", "best-practices", "--set", str(p["practices.md"])],
    )
    add(
        "index",
        "ASSAY_QDRANT_URL with a password, down",
        ["index", "status", "--json"],
        "continue",
        env={"ASSAY_QDRANT_URL": "http://bob:hunter2@127.0.0.1:9"},
    )

    # service and the rest
    add("service", "serve --port 70000", ["serve", "--port", "70000"])
    add("service", "serve --port -1", ["serve", "--port", "-1"])
    add("service", "serve --workers -1", ["serve", "--workers", "-1"])
    add("service", "serve --log-level loud", ["serve", "--log-level", "loud"])
    add(
        "service", "serve --host 'no such host'", ["serve", "--host", "no such host", "--port", "0"]
    )
    add(
        "service",
        "serve --require-webhook github, no secret",
        ["serve", "--require-webhook", "github"],
    )
    add("service", "worker -c 0", ["worker", "-c", "0"])
    add("service", "ASSAY_REDIS_URL=bogus worker", ["worker"], env={"ASSAY_REDIS_URL": "bogus"})
    add("service", "token create --scope bogus", ["token", "create", "x", "--scope", "bogus"])
    add("service", "token revoke unknown", ["token", "revoke", "nope"])
    add("config", "config show --repo missing", ["config", "show", "--repo", str(w / "nope")])
    add("config", "ASSAY_LLM_TIMEOUT=soon", ["config", "show"], env={"ASSAY_LLM_TIMEOUT": "soon"})
    add(
        "config",
        "ASSAY_SERVICE_PORT=99999",
        ["config", "show"],
        env={"ASSAY_SERVICE_PORT": "99999"},
    )
    add(
        "config",
        "password in ASSAY_LLM_BASE_URL (shown masked)",
        ["config", "show"],
        "continue",
        env={"ASSAY_LLM_BASE_URL": "http://al:s3cr3t@127.0.0.1:9/v1"},
    )
    add("model", "model install --from missing", ["model", "install", "--from", str(w / "no")])
    add("model", "doctor --python missing", ["doctor", "--python", "/nonexistent/python"])
    add("model", "bundle create in /proc", ["bundle", "create", "/proc/x/bundle"])
    return out
