"""The sandbox's small parts: credential screening, guarantees, the sweep, broken runs, traces."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flows.credentials import CredentialScreen, looks_like_credential, redact, secret_values
from flows.sandbox import Isolation, Sandbox, available_isolation
from flows.sandbox_cgroup import CgroupHost, cgroup_host
from flows.sandbox_guarantees import ASPECTS, guarantees
from flows.sandbox_procs import owner_tag
from flows.sandbox_sweep import mark_owner, stale_dirs
from flows.trace import TraceWriter, read_trace

PY = sys.executable
LEVELS = available_isolation()

# --- credentials ----------------------------------------------------------------------------

KEYS = [
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_" + "a1B2" * 9,
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "glpat-abcdefghij0123456789",
    "xoxb-123456789012-abcdefghijkl",
    "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    "sk-proj-abcdefghijklmnopqrstuvwx",
    "sk_live_0123456789abcdefABCD",
    "AIzaSyA-1234567890abcdefghijklmnopqrstu",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE...",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "postgres://user:hunter2@db:5432/app",
    "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1",
    "db?user=app&password=hunter22",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # high entropy, no known format
]
PLAIN = [
    "hello world",
    "/usr/lib/python3.11/site-packages/pytest/__init__.py",
    "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",  # a sha256 digest
    "550e8400-e29b-41d4-a716-446655440000",
    "test_function_with_a_rather_long_descriptive_name",
    "ValueError: invalid literal for int() with base 10: 'abc'",
    "3.141592653589793",
    "{'a': 1, 'b': [1, 2, 3]}",
    # keyword arguments in code (an explored call such as bump_build(token=None) is kept as is)
    "Version(3).bump_build(token=None)",
    "Client(password=getpass(), token=Version(1))",
]


@pytest.mark.parametrize("value", KEYS)
def test_credential_formats_and_random_keys_are_recognised(value: str) -> None:
    assert looks_like_credential(value)
    assert looks_like_credential(f"prefix {value} suffix")
    assert value not in redact(f"x = {value!r}")


@pytest.mark.parametrize("value", PLAIN)
def test_ordinary_values_are_not_taken_for_credentials(value: str) -> None:
    assert not looks_like_credential(value)
    assert redact(value) == value


def test_the_parents_secret_variables_are_known_values() -> None:
    env = {
        "TOKEN": "plain-token-value",
        "MY_API_KEY": "k3y-value",
        "DATABASE_URL": "postgres://app@db/app?password=db-pass-1",
        "PROXY": "http://u:proxy-pass@proxy:3128",
        "WEIRD": "ghp_" + "x" * 36,
        "HOME": "/root",
        "PWD": "/work/project",
        "SHORT_TOKEN": "1",
    }
    known = secret_values(env)
    assert {"plain-token-value", "k3y-value", env["DATABASE_URL"], "db-pass-1"} <= known
    assert {"proxy-pass", env["WEIRD"]} <= known
    assert not {"/root", "/work/project", "1"} & known
    screen = CredentialScreen.from_env(env)
    assert screen.looks_like("the value is plain-token-value!")
    assert not screen.looks_like("/work/project/calc.py")
    text = screen.redact("got db-pass-1 and plain-token-value")
    assert "db-pass-1" not in text and "plain-token-value" not in text and "[redacted]" in text


# --- guarantees ---------------------------------------------------------------------------------

FULL = CgroupHost(Path("/cg"), Path("/cg"), True, Path("/cg"), True)


@pytest.mark.parametrize("level", list(Isolation), ids=lambda level: level.label)
@pytest.mark.parametrize("root", [True, False], ids=["root", "user"])
@pytest.mark.parametrize("cgroups", [FULL, None], ids=["cgroup", "no-cgroup"])
def test_every_level_states_every_aspect(
    level: Isolation, root: bool, cgroups: CgroupHost | None
) -> None:
    found = guarantees(level, cgroups=cgroups, memory_limit=1 << 30, max_processes=99, root=root)
    assert [g.aspect for g in found] == list(ASPECTS)
    holding = {g.aspect for g in found if g.holds}
    assert "secrets.env" in holding and "memory.process" in holding
    assert ("filesystem.write" in holding) is (level is Isolation.BWRAP)
    assert ("network" in holding) is (level > Isolation.PROCESS)
    assert ("memory.run" in holding) is (cgroups is not None)
    assert ("processes.cap" in holding) is (cgroups is not None)
    if level is Isolation.PROCESS:
        assert ("privileges" in holding) is not root
        assert ("processes.cleanup" in holding) is (cgroups is not None)
    allowed = guarantees(level, cgroups=cgroups, network=True, root=root)
    assert not next(g for g in allowed if g.aspect == "network").holds
    assert all(g.text for g in found)


def test_a_sandbox_states_what_holds_here(tmp_path: Path) -> None:
    with Sandbox(tmp_path, max_isolation="process") as sandbox:
        found = {g.aspect: g for g in sandbox.guarantees()}
    write = found["filesystem.write"]
    assert not write.holds and "write and delete" in write.text
    assert found["memory.run"].holds is bool(cgroup_host().memory_dir)


# --- the sweep of dead runs -----------------------------------------------------------------


def _dead_owner(root: Path) -> None:
    child = subprocess.run([PY, "-c", "import os; print(os.getpid())"], capture_output=True)
    namespace = owner_tag().split("-")[0]
    (root / "owner").write_text(f"{namespace}-{int(child.stdout)}-1\n")


def test_only_directories_of_dead_owners_are_swept(tmp_path: Path) -> None:
    dead, live, foreign, unmarked = (tmp_path / f"assay-sandbox-{n}" for n in "abcd")
    for path in (dead, live, foreign, unmarked):
        path.mkdir()
    _dead_owner(dead)
    mark_owner(live)
    (foreign / "owner").write_text("1-1-1\n")  # another PID namespace: cannot tell
    assert stale_dirs(tmp_path) == [dead]
    with Sandbox(tmp_path / "assay-sandbox-d", work_dir=tmp_path) as sandbox:
        assert sandbox.run(["true"]).ok
    assert not dead.exists() and live.exists() and foreign.exists() and unmarked.exists()


# --- runs the sandbox could not carry out ---------------------------------------------------


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.label)
def test_a_command_that_cannot_start_is_a_broken_result_not_an_error(
    tmp_path: Path, level: Isolation
) -> None:
    (tmp_path / "bad.sh").write_text("#!/no/such/interpreter\n")
    (tmp_path / "bad.sh").chmod(0o755)
    with Sandbox(tmp_path, max_isolation=level) as sandbox:
        result = sandbox.run(["./bad.sh"])
        after = sandbox.run([PY, "-c", "print('next')"])
    assert not result.ok and "could not start './bad.sh'" in result.broken
    assert after.ok and after.output == "next\n"


DESTROY = """\
import os, shutil


def test_destroys_its_copy():
    shutil.rmtree(os.getcwd())
"""


def test_tests_that_delete_the_copy_give_a_broken_run(tmp_path: Path) -> None:
    """Issue 16's 'coverage json could not start in the vanished copy' (any level: the
    hostile tests delete the copy under each)."""
    repo = tmp_path / "proj"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_kill.py").write_text(DESTROY)
    with Sandbox(repo, timeout=60) as sandbox:
        run = sandbox.run_tests()
        again = sandbox.run([PY, "-c", "import os; print(sorted(os.listdir('tests')))"])
    assert "deleted its copy" in run.broken and not run.passed and run.coverage is None
    assert run.coverage_error.startswith("the sandbox broke")
    assert again.ok and again.output == "['test_kill.py']\n"


# --- traces -----------------------------------------------------------------------------------


def test_traces_are_private_and_redacted(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "run.jsonl"
    screen = CredentialScreen.from_env({"TOKEN": "tok-12345678"})
    trace = TraceWriter(path, include_content=True, redact=screen.redact, run="r1")
    trace.write({"prompt": "assert secret == 'tok-12345678'", "nested": ["AKIAIOSFODNN7EXAMPLE"]})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert "tok-12345678" not in text and "AKIAIOSFODNN7EXAMPLE" not in text
    (record,) = read_trace(path)
    assert record["run"] == "r1" and "[redacted]" in record["prompt"]
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({"a": 1}) + "\n")
    old.chmod(0o644)
    TraceWriter(old).write({"b": 2})
    assert stat.S_IMODE(old.stat().st_mode) == 0o600 and len(read_trace(old)) == 2


def test_the_supervisor_names_what_a_run_left_running(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import subprocess
        subprocess.Popen(["sleep", "1000"], env={}, start_new_session=True)
        subprocess.run(["true"])  # a child that finished is no side effect
        """
    )
    with Sandbox(tmp_path, max_isolation="process") as sandbox:
        result = sandbox.run([PY, "-c", code])
        clean = sandbox.run([PY, "-c", "import subprocess; subprocess.run(['true'])"])
    assert result.ok and result.left_behind == ("sleep",)
    assert result.side_effects == ("left 1 process(es) running: sleep",)
    assert clean.side_effects == () and clean.left_behind == ()
    assert os.environ.get("ASSAY_SANDBOX_RUN") is None
