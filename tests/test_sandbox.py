"""The sandbox (flows/sandbox.py) with real subprocesses: confinement, cleanup, pytest + coverage.

Process checks look for a unique token in the argv of every process on the host
(/proc/*/cmdline): that works whatever PID namespace the sandboxed processes live in.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from flows.coverage_data import RunResult, load_coverage_json, parse_junit
from flows.errors import SandboxError
from flows.sandbox import (
    Isolation,
    Sandbox,
    available_isolation,
    isolation_level,
    parse_test_command,
)
from flows.sandbox_env import run_env

PY = sys.executable
LEVELS = available_isolation()
NAMESPACED = [level for level in LEVELS if level > Isolation.PROCESS]
by_level = pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.label)


def processes_with(token: str) -> list[int]:
    """Live processes on the host whose command line contains ``token``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in cmdline:
                found.append(int(entry))
    return found


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def git(repo: Path, *args: str) -> None:
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *ident, *args], cwd=repo, check=True, capture_output=True)


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under ``root`` (``.git`` included): mode, size, mtime and content or target."""
    state: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = path.lstat()
            if path.is_symlink():
                body: object = os.readlink(path)
            elif path.is_file():
                body = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                body = None
            state[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, body)
    return state


LIST_TREE = """
import os
for dirpath, dirnames, filenames in os.walk("."):
    for name in sorted(dirnames + filenames):
        path = os.path.join(dirpath, name)[2:]
        if os.path.islink(path):
            print("LINK", path, os.readlink(path))
        elif os.path.isfile(path):
            print("FILE", path, open(path).read().strip())
"""


def listing(output: str) -> dict[str, str]:
    entries = {}
    for line in output.splitlines():
        kind, _, rest = line.partition(" ")
        if kind in ("FILE", "LINK"):
            path, _, value = rest.partition(" ")
            entries[path] = f"{kind} {value}"
    return entries


# --- isolation and process cleanup ---------------------------------------------------------


def test_the_probe_reports_the_strongest_level_with_a_description(tmp_path: Path) -> None:
    level = isolation_level()
    assert level == max(LEVELS) and Isolation.PROCESS in LEVELS
    assert level.describe() and level.label in ("bwrap", "unshare", "process")
    sandbox = Sandbox(tmp_path, max_isolation="process")
    assert sandbox.isolation is Isolation.PROCESS
    assert "NOT confined" in sandbox.describe() and "GiB" in sandbox.describe()


# Sleeping forever, escaping with setsid/double forks/nohup and the rest of what hostile code
# does: tests/test_sandbox_hostile.py, under every isolation.


def test_cleaning_up_one_run_leaves_a_concurrent_run_alone(tmp_path: Path) -> None:
    token = f"neighbour-{uuid.uuid4().hex}"
    code = "import time; print('ready', flush=True); time.sleep(3600)"
    with Sandbox(tmp_path, max_isolation="process") as sandbox:
        results: dict[str, RunResult] = {}
        thread = threading.Thread(
            target=lambda: results.update(slow=sandbox.run([PY, "-c", code, token], timeout=2))
        )
        thread.start()
        quick = [sandbox.run([PY, "-c", "print('hi')"]) for _ in range(3)]
        thread.join(timeout=30)
    assert all(r.ok and r.output.strip() == "hi" for r in quick)
    assert results["slow"].timed_out and "ready" in results["slow"].output
    assert processes_with(token) == []


# --- environment ---------------------------------------------------------------------------


def test_the_environment_is_built_from_an_allow_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = {
        "MY_API_TOKEN": "t0k-value",
        "TOKEN": "plain-token-value",
        "SENTRY_DSN": "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1",
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXX",
        "DATABASE_URL": "postgres://app@db/app?password=hunter2hunter2",
        "ORDINARY_VAR": "hello",
        "PYTHONPATH": "/somewhere/of/ours",
        "SSH_AUTH_SOCK": "/run/agent",
    }
    for name, value in {**unknown, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}.items():
        monkeypatch.setenv(name, value)
    dump = "import json, os; print(json.dumps(dict(os.environ)))"
    with Sandbox(tmp_path, pass_env=["ORDINARY_*"]) as sandbox:
        result = sandbox.run([PY, "-c", dump], env={"CALLER_VAR": "added"})
    seen = json.loads(result.output)
    assert not (set(unknown) - {"ORDINARY_VAR"}) & set(seen)
    assert seen["ORDINARY_VAR"] == "hello" and seen["CALLER_VAR"] == "added"
    assert seen["LANG"] == seen["LC_ALL"] == "C.UTF-8"
    assert seen["PYTHONDONTWRITEBYTECODE"] == "1"
    assert seen["HOME"] != os.environ.get("HOME") and seen["HOME"].endswith("/home")
    assert Path(seen["TMPDIR"]).parent == Path(seen["HOME"]).parent


def test_run_env_keeps_only_allowed_names(tmp_path: Path) -> None:
    base = {
        "PATH": "/bin",
        "LANG": "C.UTF-8",
        "LC_TIME": "C",
        "TZ": "UTC",
        "NPM_TOKEN": "x",
        "OPENAI_BASE_URL": "x",
        "SOMETHING_NEW": "x",
        "PROXY": "http://u:p@proxy:3128",
    }
    env = run_env(base, area=tmp_path, python=Path(PY))
    assert {"LANG", "LC_TIME", "TZ"} <= set(env)
    assert not {"NPM_TOKEN", "OPENAI_BASE_URL", "SOMETHING_NEW", "PROXY"} & set(env)
    assert env["HOME"] == str(tmp_path / "home") and env["TMPDIR"] == str(tmp_path / "tmp")


# --- the throwaway copy ----------------------------------------------------------------------

MUTATE = """
import os, shutil
os.remove("calc.py")
with open("data/keep.txt", "w") as f:
    f.write("changed")
with open("created.txt", "w") as f:
    f.write("new")
shutil.rmtree("pkg")
"""


def make_tree(root: Path, outside: Path) -> Path:
    write(
        root,
        {
            ".gitignore": "build/\n*.env\npkg/_version.py\n*.so\n",
            "calc.py": "x = 1\n",
            ".github/ci.yml": "on: push\n",
            "data/keep.txt": "keep\n",
            "pkg/__init__.py": "",
            "pkg/_version.py": "version = '1.0'\n",  # generated by a build, ignored
            "pkg/_speedups.so": "ELF\n",
            "pkg/local.env": "TOKEN=1\n",
            "pkg/sub/.gitignore": "*.log\n!keep.log\n",
            "pkg/sub/debug.log": "noise\n",
            "pkg/sub/keep.log": "kept\n",
            "build/out.txt": "artefact\n",
            "secret.env": "KEY=1\n",
            ".venv/lib/site.py": "venv\n",
            "node_modules/x/index.js": "js\n",
            "pkg/__pycache__/m.cpython-311.pyc": "pyc\n",
        },
    )
    (root / "link_in").symlink_to("calc.py")
    (root / "link_abs").symlink_to(root / "data")
    (root / "link_out").symlink_to(outside)
    return root


def assert_first_copy(entries: dict[str, str]) -> None:
    assert entries["calc.py"] == "FILE x = 1"
    assert entries[".github/ci.yml"] == "FILE on: push"
    assert entries["data/keep.txt"] == "FILE keep"
    assert entries["pkg/sub/keep.log"] == "FILE kept"
    # Ignored, but what a build generated inside a package, which its code imports, is copied.
    assert entries["pkg/_version.py"] == "FILE version = '1.0'"
    assert entries["pkg/_speedups.so"] == "FILE ELF"
    assert entries["link_in"] == "LINK calc.py"
    assert entries["link_abs"] == "LINK data"  # rewritten to stay inside the copy
    ignored = ("build/out.txt", "secret.env", "pkg/local.env", "pkg/sub/debug.log",
               ".venv/lib/site.py")  # fmt: skip
    assert not set(ignored) & set(entries)
    assert not any(p.startswith(("node_modules", ".git/", "pkg/__pycache__")) for p in entries)
    assert "link_out" not in entries


@pytest.mark.parametrize("with_git", [True, False], ids=["git", "walk"])
def test_runs_use_fresh_copies_and_never_touch_the_users_tree(
    tmp_path: Path, with_git: bool
) -> None:
    outside = write(tmp_path / "outside", {"victim.txt": "mine\n"})
    repo = make_tree(tmp_path / "repo", outside)
    if with_git:
        write(repo, {"gone.py": "deleted in the work tree\n", "untracked.py": "u = 1\n"})
        git(repo, "init", "-q")
        git(
            repo,
            "add",
            ".gitignore",
            ".github",
            "calc.py",
            "data",
            "pkg",
            "link_in",
            "link_abs",
            "gone.py",
        )
        git(repo, "commit", "-q", "-m", "init")
        (repo / "gone.py").unlink()
    before, before_outside = snapshot(repo), snapshot(outside)
    with Sandbox(repo) as sandbox:
        first = sandbox.run([PY, "-c", LIST_TREE + MUTATE], timeout=30)
        second = sandbox.run([PY, "-c", LIST_TREE], timeout=30)
        dropped = sandbox.dropped_symlinks
    assert first.ok, first.output
    assert_first_copy(listing(first.output))
    assert listing(second.output) == listing(first.output)  # the first run's changes are gone
    assert dropped == ["link_out"]
    if with_git:
        assert "gone.py" not in listing(first.output)
        assert listing(first.output)["untracked.py"] == "FILE u = 1"
    assert snapshot(repo) == before and snapshot(outside) == before_outside


@pytest.mark.skipif(Isolation.BWRAP not in LEVELS, reason="bubblewrap is not usable on this host")
def test_with_bwrap_the_filesystem_outside_the_copy_is_read_only(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir="/var/tmp") as elsewhere:
        target = Path(elsewhere, "pwned.txt")
        code = f"open({str(target)!r}, 'w').write('x')"
        system = "open('/usr/pwned.txt', 'w')"
        with Sandbox(tmp_path, max_isolation="bwrap") as sandbox:
            hidden = sandbox.run([PY, "-c", code])  # /var/tmp is an empty tmpfs inside
            read_only = sandbox.run([PY, "-c", system])
        assert not hidden.ok and "No such file or directory" in hidden.output
        assert not read_only.ok and "Read-only file system" in read_only.output
        assert not target.exists() and not Path("/usr/pwned.txt").exists()


def test_extra_files_must_stay_inside_the_copy(tmp_path: Path) -> None:
    with Sandbox(tmp_path) as sandbox:
        for bad in ("../escape.py", "/etc/evil.py"):
            with pytest.raises(SandboxError, match="outside the repository"):
                sandbox.run(["true"], extra_files={bad: "x"})


@by_level
def test_a_program_that_does_not_exist_is_an_error_not_a_result(
    tmp_path: Path, level: Isolation
) -> None:
    (tmp_path / "ok.sh").write_text("#!/bin/sh\necho fine; exit 3\n")
    (tmp_path / "ok.sh").chmod(0o755)
    with Sandbox(tmp_path, max_isolation=level) as sandbox:
        with pytest.raises(SandboxError, match="program not found: 'no-such-program-x'"):
            sandbox.run(["no-such-program-x"])
        with pytest.raises(SandboxError, match="program not found"):
            sandbox.run(["./missing.sh"])
        result = sandbox.run(["./ok.sh"])
    assert result.returncode == 3 and result.output == "fine\n"


def test_output_keeps_head_and_tail_with_a_marker(tmp_path: Path) -> None:
    code = "for i in range(20000): print(f'line {i}')"
    with Sandbox(tmp_path, max_output=4000) as sandbox:
        result = sandbox.run([PY, "-c", code])
    assert result.output_trimmed and len(result.output) < 4200
    assert result.output.startswith("line 0\n") and result.output.endswith("line 19999\n")
    assert "lines trimmed …]" in result.output


# --- network and memory --------------------------------------------------------------------


@pytest.mark.skipif(not NAMESPACED, reason="no namespace isolation on this host: network is open")
@pytest.mark.parametrize("level", NAMESPACED, ids=lambda level: level.label)
def test_no_network_not_even_the_hosts_loopback(tmp_path: Path, level: Isolation) -> None:
    code = textwrap.dedent(
        """
        import socket, sys
        try:
            socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
            print("connected")
        except OSError as exc:
            print("blocked", exc)
        """
    )
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = str(server.getsockname()[1])
        with Sandbox(tmp_path, max_isolation=level) as sandbox:
            confined = sandbox.run([PY, "-c", code, port])
        with Sandbox(tmp_path, max_isolation=level, network=True) as sandbox:
            allowed = sandbox.run([PY, "-c", code, port])
    assert confined.output.startswith("blocked"), confined.output
    assert allowed.output.startswith("connected"), allowed.output


@by_level
def test_the_address_space_limit_is_enforced(tmp_path: Path, level: Isolation) -> None:
    code = "import sys; b = bytearray(int(sys.argv[1]) << 20); print('allocated')"
    with Sandbox(tmp_path, memory_limit=256 << 20, max_isolation=level) as sandbox:
        small = sandbox.run([PY, "-c", code, "16"])
        big = sandbox.run([PY, "-c", code, "1024"])
    assert small.ok and "allocated" in small.output
    assert not big.ok and "MemoryError" in big.output


# --- pytest under coverage -----------------------------------------------------------------

CALC = """\
def classify(n):
    if n < 0:
        return "negative"
    return "non-negative"


def double(x):
    return x * 2


def unused():
    return 42
"""

CALC_TESTS = """\
import pytest

from calc import classify, double


def test_negative():
    assert classify(-1) == "negative"


def test_double_is_wrong():
    assert double(2) == 5


class TestMore:
    def test_later(self):
        pytest.skip("not now")
"""


def test_run_tests_reports_each_test_and_branch_coverage(tmp_path: Path) -> None:
    repo = write(tmp_path / "proj", {"calc.py": CALC, "tests/test_calc.py": CALC_TESTS})
    with Sandbox(repo, timeout=60) as sandbox:
        run = sandbox.run_tests()
    assert run.result.returncode == 1 and not run.no_tests and not run.passed
    outcomes = {case.nodeid: case.outcome for case in run.tests}
    assert outcomes == {
        "tests/test_calc.py::test_negative": "passed",
        "tests/test_calc.py::test_double_is_wrong": "failed",
        "tests/test_calc.py::TestMore::test_later": "skipped",
    }
    (failed,) = run.with_outcome("failed")
    assert "assert 4 == 5" in failed.message and "test_double_is_wrong" in failed.text
    assert run.coverage is not None, run.coverage_error
    calc = run.coverage.get("calc.py")
    assert calc is not None
    assert calc.missing_lines == (4, 12)
    assert calc.executed_lines == (1, 2, 3, 7, 8, 11)
    assert calc.missing_branches == ((2, 4),)
    assert calc.line_percent == 75.0 and calc.branch_percent == 50.0
    assert "tests/test_calc.py" in run.coverage.files


def test_run_tests_with_extra_files_and_python_m_pytest(tmp_path: Path) -> None:
    repo = write(tmp_path / "proj", {"calc.py": CALC, "tests/test_calc.py": CALC_TESTS})
    extra = "from calc import classify\n\ndef test_positive():\n    assert classify(3)\n"
    with Sandbox(repo, timeout=60) as sandbox:
        run = sandbox.run_tests(
            ["-k", "positive or negative"],
            test_command="python -m pytest -q tests",
            extra_files={"tests/test_new.py": extra},
        )
    assert run.passed, run.result.output
    assert sorted(case.nodeid for case in run.tests) == [
        "tests/test_calc.py::test_negative",
        "tests/test_new.py::test_positive",
    ]
    assert run.coverage is not None and run.coverage.files["calc.py"].missing_branches == ()


def test_a_project_without_tests_reports_no_tests(tmp_path: Path) -> None:
    repo = write(tmp_path / "proj", {"calc.py": CALC})
    with Sandbox(repo, timeout=60) as sandbox:
        run = sandbox.run_tests()
    assert run.no_tests and run.result.returncode == 5 and run.tests == ()


def test_a_src_layout_imports_the_copy(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "proj",
        {
            "src/pkg/__init__.py": "",
            "src/pkg/mod.py": "def f(x):\n    if x:\n        return 1\n    return 0\n",
            "tests/test_mod.py": "import pkg.mod\n\ndef test_f():\n"
            "    assert pkg.mod.f(1) == 1\n    assert '/runs/' in pkg.mod.__file__\n",
        },
    )
    with Sandbox(repo, timeout=60) as sandbox:
        run = sandbox.run_tests()
    assert run.passed, run.result.output
    assert run.coverage is not None
    mod = run.coverage.files["src/pkg/mod.py"]
    assert mod.missing_lines == (4,) and mod.missing_branches == ((2, 4),)


@pytest.mark.parametrize(
    ("command", "args", "env"),
    [
        ("pytest", [], {}),
        ("pytest -x tests", ["-x", "tests"], {}),
        (".venv/bin/pytest -q", ["-q"], {}),
        ("python -m pytest tests -k 'a and b'", ["tests", "-k", "a and b"], {}),
        ("python3.11 -m pytest", [], {}),
        ("DJANGO_SETTINGS_MODULE=s.test py.test", [], {"DJANGO_SETTINGS_MODULE": "s.test"}),
        (["python", "-m", "pytest", "t"], ["t"], {}),
    ],
)
def test_test_commands_are_translated(command: str, args: list[str], env: dict[str, str]) -> None:
    assert parse_test_command(command) == (args, env)


@pytest.mark.parametrize("command", ["make test", "tox -e py311", "python -m unittest", ""])
def test_other_test_commands_are_refused(command: str) -> None:
    with pytest.raises(SandboxError, match="assay needs a pytest command"):
        parse_test_command(command)


# --- errors that mean the sandbox cannot run at all ----------------------------------------


def test_a_python_that_does_not_exist_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "python"
    with pytest.raises(SandboxError, match="not found") as info:
        Sandbox(tmp_path, python=missing)
    assert str(missing) in str(info.value) and "--python" in str(info.value)
    assert "\n" not in str(info.value)
    not_executable = write(tmp_path, {"python": "#!/bin/sh\n"}) / "python"
    with pytest.raises(SandboxError, match="not an executable") as info:
        Sandbox(tmp_path, python=not_executable)
    assert str(not_executable) in str(info.value)


def test_a_missing_repository_is_named(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="repository not found") as info:
        Sandbox(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(info.value)


def test_a_python_without_pytest_and_coverage_is_refused_with_the_fix(tmp_path: Path) -> None:
    venv = tmp_path / "bare-venv"
    subprocess.run([PY, "-m", "venv", "--without-pip", str(venv)], check=True)
    repo = write(tmp_path / "proj", {"calc.py": CALC})
    with Sandbox(repo, python=venv / "bin" / "python") as sandbox:
        assert sandbox.run(["python", "-c", "print('runs')"]).output.strip() == "runs"
        with pytest.raises(SandboxError, match="pytest and coverage not installed") as info:
            sandbox.run_tests()
    assert "pip install pytest coverage" in str(info.value)


# --- the readers ---------------------------------------------------------------------------


def test_junit_records_rebuild_node_ids(tmp_path: Path) -> None:
    write(tmp_path, {"tests/test_a.py": "", "tests/sub/test_b.py": ""})
    report = write(
        tmp_path,
        {
            "junit.xml": """\
            <testsuites><testsuite name="pytest">
              <testcase classname="tests.test_a" name="test_x[1-2]" time="0.5"/>
              <testcase classname="tests.sub.test_b.TestK.TestInner" name="test_y">
                <error message="fixture failed">E   boom</error></testcase>
              <testcase classname="" name="tests.test_broken">
                <error message="collection failure">SyntaxError</error></testcase>
            </testsuite></testsuites>
            """
        },
    )
    cases = parse_junit(report / "junit.xml", tmp_path)
    assert [(c.nodeid, c.outcome) for c in cases] == [
        ("tests/test_a.py::test_x[1-2]", "passed"),
        ("tests/sub/test_b.py::TestK::TestInner::test_y", "error"),
        ("tests/test_broken.py", "error"),
    ]
    assert cases[0].duration == 0.5 and cases[1].message == "fixture failed"
    assert parse_junit(tmp_path / "missing.xml", tmp_path) == ()


def test_coverage_json_paths_are_relative_to_the_copy(tmp_path: Path) -> None:
    entry = {
        "executed_lines": [1],
        "missing_lines": [2],
        "excluded_lines": [],
        "executed_branches": [],
        "missing_branches": [],
        "summary": {"num_statements": 2, "num_branches": 0, "percent_covered": 50.0},
    }
    data = {
        "meta": {"version": "7.0"},
        "files": {"a.py": entry, str(tmp_path / "b" / "c.py"): entry, "/elsewhere/d.py": entry},
    }
    (tmp_path / "cov.json").write_text(json.dumps(data))
    report = load_coverage_json(tmp_path / "cov.json", tmp_path)
    assert list(report.files) == ["a.py", "b/c.py"]
    assert report.line_percent == 50.0 and report.branch_percent == 100.0
