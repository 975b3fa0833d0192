"""``assay cover`` end to end through the CLI, with the scripted fake LLM and the real sandbox.

Fixture projects are real directories (and git repositories where it matters); the tests run the
real console entry point in a subprocess and read its JSON report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply
from tests.kit.cli import ASSAY, ctrl_c_works, run_assay, tree_digest
from tests.kit.cover import (
    HEAD,
    OPS,
    TARGET,
    block,
    cover,
    git,
    make_flat,
    scripted,
)

# What the scripted model answers, per target: one good test and one bad test of each kind.
SCRIPT = {
    "clamp": HEAD.format(name="clamp")
    + "def test_clamp_bounds():\n    assert clamp(-5, 0, 10) == 0\n"
    + "    assert clamp(50, 0, 10) == 10\n",
    "sign": "def test_sign(:\n    assert sign(1) == 1\n",
    "parity": "from calc.ops import parity\n\n\ndef parity(n):\n    return 'even'\n\n\n"
    "def test_parity():\n    assert parity(2) == 'even'\n",
    "double": "from ops import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
    "negate": HEAD.format(name="negate")
    + "def test_negate():\n    negate(1)\n    raise AssertionError('always')\n",
    "halve": HEAD.format(name="halve") + "import os\n\n\ndef test_halve():\n"
    "    assert halve(4) == 2\n    if os.path.exists('flaky-marker'):\n"
    "        raise AssertionError('second run')\n    open('flaky-marker', 'w').close()\n",
    "spin": HEAD.format(name="spin") + "import subprocess\n\n\ndef test_spin():\n"
    "    subprocess.run(['sleep', '1000'])\n    assert spin(1) == 2\n",
    "triple": HEAD.format(name="triple") + "from calc.ops import add\n\n\n"
    "def test_triple_is_not_called():\n    assert add(2, 2) == 4\n",
    "square": HEAD.format(name="square")
    + "def test_square_runs():\n    square(-3)\n    square(3)\n",
}
EXPECTED_REASON = {
    "sign": "syntax",
    "parity": "redefines",
    "double": "import-error",
    "negate": "fails",
    "halve": "flaky",
    "spin": "timeout",
    "triple": "no-coverage",
    "square": "no-mutant-killed",
}


def reasons(data: dict) -> dict[str, list[str]]:
    return {t["target"].split("::")[1]: t["rejected"] for t in data["targets"]}


def test_a_test_that_fails_in_one_repeated_run_goes_and_the_others_stay(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """The repeated runs (each a new process) catch a test that fails now and then: that test
    goes; the candidate's other tests are kept, not thrown away with it."""
    repo = make_flat(tmp_path / "flat")
    answer = HEAD.format(name="halve") + (
        "import os\n\n\ndef test_halve_even():\n    assert halve(4) == 2\n\n\n"
        "def test_halve_once():\n    assert halve(2) == 1\n"
        "    if os.path.exists('flaky-marker'):\n        raise AssertionError('second run')\n"
        "    open('flaky-marker', 'w').close()\n"
    )
    fake_llm.on(scripted({"halve": answer}))
    result, data = cover(repo, fake_llm)
    assert result.returncode == 0, result.stdout + result.stderr
    halve = next(t for t in data["targets"] if t["target"].endswith("::halve"))
    assert halve["accepted"] == 1, halve
    text = (repo / "tests" / "test_ops_assay.py").read_text()
    assert "def test_halve_even" in text and "test_halve_once" not in text, text
    assert "dropped 1 flaky test(s)" in result.stderr, result.stderr[-2000:]


def test_good_tests_accepted_bad_ones_rejected_for_the_right_reason(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_flat(tmp_path / "flat")
    fake_llm.on(scripted(SCRIPT))
    result, data = cover(repo, fake_llm)
    assert result.returncode == 0, result.stdout + result.stderr

    got = reasons(data)
    for name, reason in EXPECTED_REASON.items():
        assert got[name] == [reason], (name, got[name], result.stderr[-3000:])
    clamp = next(t for t in data["targets"] if t["target"].endswith("::clamp"))
    assert clamp["accepted"] == 1
    lines = OPS.splitlines()
    return_low = lines.index("        return low") + 1
    return_high = lines.index("        return high") + 1
    assert clamp["gained_lines"] == [return_low, return_high]
    assert [return_low - 1, return_low] in clamp["gained_branches"]
    assert [return_high - 1, return_high] in clamp["gained_branches"]

    written = repo / "tests" / "test_ops_assay.py"
    assert data["written"] == ["tests/test_ops_assay.py"]
    text = written.read_text()
    assert "def test_clamp_bounds" in text and "from calc.ops import clamp" in text
    before = data["coverage"]["files"]["calc/ops.py"]["before"]
    after = data["coverage"]["files"]["calc/ops.py"]["after"]
    assert after["line"] > before["line"] and after["branch"] > before["branch"]
    assert (repo / "calc" / "ops.py").read_text() == OPS  # the code under test is untouched
    assert data["tests"]["accepted"] == 1
    assert sum(data["tests"]["rejected"].values()) == len(EXPECTED_REASON)
    # The forked `sleep 1000` of the hanging test was killed with its group.
    leftovers = subprocess.run(["pgrep", "-f", "sleep 1000"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
    # The written file passes with the project's suite outside assay too.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert done.returncode == 0, done.stdout
    assert "total" in result.stdout and "tests accepted: 1" in result.stdout


def test_rejection_goes_back_to_the_model_with_the_reason(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_flat(tmp_path / "flat")
    (repo / "calc" / "ops.py").write_text(OPS.split("\n\n\ndef sign")[0] + "\n")
    fake_llm.queue(block(SCRIPT["sign"].replace("sign", "clamp")), block(SCRIPT["clamp"]))
    result, data = cover(repo, fake_llm, "--attempts", "2")
    assert result.returncode == 0, result.stderr
    assert reasons(data)["clamp"] == ["syntax"]
    assert data["tests"]["accepted"] == 1
    retry = fake_llm.chat_requests[1].messages
    assert retry[-1]["role"] == "user" and "does not parse" in retry[-1]["content"]
    assert retry[-2]["role"] == "assistant"


def test_a_fixture_the_model_made_up_is_named_back_to_it(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_flat(tmp_path / "flat")
    (repo / "calc" / "ops.py").write_text(OPS.split("\n\n\ndef sign")[0] + "\n")
    made_up = HEAD.format(name="clamp") + "def test_clamp(clamped):\n    assert clamped == 0\n"
    fake_llm.queue(block(made_up), block(SCRIPT["clamp"]))
    result, data = cover(repo, fake_llm, "--attempts", "2")
    assert result.returncode == 0, result.stderr
    assert reasons(data)["clamp"] == ["no-fixture"]
    assert data["tests"]["accepted"] == 1
    feedback = fake_llm.chat_requests[1].messages[-1]["content"]
    assert "no pytest fixture named `clamped`" in feedback
    assert "available fixtures" not in feedback  # pytest's noise stays out of the prompt


def test_grow_covers_the_repositories_the_tech_leads_marked_grow(
    tmp_path: Path, fake_llm: FakeOpenAI, assay_home: Path
) -> None:
    from tests.test_settings_cli import assay

    fast = {"ASSAY_EMBEDDING_MODEL": "hash-64"}
    wanted = make_flat(tmp_path / "wanted")
    (wanted / "calc" / "ops.py").write_text(OPS.split("\n\n\ndef sign")[0] + "\n")
    fine = make_flat(tmp_path / "fine")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for repo, tier in ((wanted, "grow"), (fine, "normal")):
        done = assay("index", "add", str(repo), "--tier", tier, env=fast)
        assert done.returncode == 0, done.stderr

    fake_llm.on(scripted({"clamp": SCRIPT["clamp"]}))
    result, data = cover(elsewhere, fake_llm, "--grow", env=fast)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(data) == ["wanted"]  # only the grow repository, not PATH, not the normal one
    assert data["wanted"]["tests"]["accepted"] == 1
    assert (wanted / "tests" / "test_ops_assay.py").is_file()
    assert not (fine / "tests" / "test_ops_assay.py").exists()
    assert "wanted: " in result.stdout

    (fine / "assay.toml").write_text("llm_modle = 'x'\n")  # a broken repository is skipped
    for repo in (wanted, fine):
        assert assay("policy", "set-tier", repo.name, "grow", env=fast).returncode == 0
    result, data = cover(elsewhere, fake_llm, "--grow", env=fast)
    assert result.returncode == 2
    assert "error fine: Unknown setting 'llm_modle'" in result.stderr
    assert "assay cover failed for fine" in result.stderr
    assert list(data) == ["wanted"]  # the other repository's report is still written

    done = assay("policy", "set-tier", "fine", "normal", env=fast)
    assert done.returncode == 0, done.stderr
    done = assay("policy", "set-tier", "wanted", "normal", env=fast)
    assert done.returncode == 0, done.stderr
    result, _ = cover(elsewhere, fake_llm, "--grow", env=fast)
    assert result.returncode == 2
    assert "No repository is marked grow" in result.stderr
    assert "assay policy set-tier NAME grow" in result.stderr


def test_a_test_whose_only_check_fails_keeps_its_calls_checked_by_observation(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_flat(tmp_path / "flat")
    (repo / "calc" / "ops.py").write_text(OPS.split("\n\n\ndef sign")[0] + "\n")
    guess = HEAD.format(name="clamp") + (
        "def test_clamp_low():\n    low = clamp(-5, 0, 10)\n    high = clamp(50, 0, 10)\n"
        "    assert low.value == 0  # a wrong guess: ints have no .value\n"
    )
    fake_llm.queue(block(guess))
    result, data = cover(repo, fake_llm)
    assert result.returncode == 0, result.stdout + result.stderr
    assert data["tests"]["accepted"] == 1, data
    written = (repo / "tests" / "test_ops_assay.py").read_text()
    assert "low.value" not in written
    assert "    assert low == 0\n" in written and "    assert high == 10\n" in written
    assert len(fake_llm.chat_requests) == 1  # rescued without another model call


SHAPES = '''\
def area(w, h):
    """Area of a rectangle."""
    if w < 0 or h < 0:
        raise ValueError("negative side")
    return w * h
'''


def test_src_layout_without_tests_and_a_plain_directory_module(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = tmp_path / "srcproj"
    (repo / "src" / "geom").mkdir(parents=True)
    (repo / "src" / "geom" / "__init__.py").write_text("")
    (repo / "src" / "geom" / "shapes.py").write_text(SHAPES)
    (repo / "tools").mkdir()
    (repo / "tools" / "convert.py").write_text("def to_cm(inches):\n    return inches * 2.54\n")
    fake_llm.on(
        scripted(
            {
                # A wrong expected value: repaired from the observed result, then gated.
                "area": "import pytest\nfrom geom.shapes import area\n\n\ndef test_area():\n"
                "    assert area(2, 3) == 5\n    with pytest.raises(ValueError):\n"
                "        area(-1, 2)\n",
                "to_cm": "from convert import to_cm\n\n\ndef test_to_cm():\n"
                "    assert to_cm(10) == 25.4\n",
            }
        )
    )
    result, data = cover(repo, fake_llm)
    assert result.returncode == 0, result.stdout + result.stderr
    assert data["coverage"]["total"]["before"]["line"] == 0.0
    assert data["coverage"]["total"]["after"]["line"] == 100.0
    assert sorted(data["written"]) == ["tests/test_convert_assay.py", "tests/test_shapes_assay.py"]
    shapes_test = (repo / "tests" / "test_shapes_assay.py").read_text()
    assert "assert area(2, 3) == 6" in shapes_test
    assert data["observed_oracles"][0]["changes"] == [{"model": "5", "observed": "6"}]
    assert "model expected 5, code gave 6" in result.stdout


def test_dry_run_leaves_the_tree_byte_identical(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    repo = make_flat(tmp_path / "flat")
    fake_llm.on(scripted({"clamp": SCRIPT["clamp"]}))
    before = tree_digest(repo)
    result, data = cover(repo, fake_llm, "--dry-run", "--files", "calc/ops.py")
    assert result.returncode == 0, result.stderr
    assert tree_digest(repo) == before
    assert "+++ b/tests/test_ops_assay.py" in result.stdout
    assert "+def test_clamp_bounds():" in result.stdout
    assert data["written"] == []
    assert (
        data["coverage"]["total"]["after"]["branch"] > data["coverage"]["total"]["before"]["branch"]
    )


def test_diff_targets_only_changed_lines(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    repo = make_flat(tmp_path / "flat")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    changed = OPS.replace("    return 3 * x", "    return x * 3")
    (repo / "calc" / "ops.py").write_text(changed)
    fake_llm.on(
        scripted(
            {"triple": HEAD.format(name="triple") + "def test_t():\n    assert triple(2) == 6\n"}
        )
    )
    result, data = cover(repo, fake_llm, "--diff", "HEAD")
    assert result.returncode == 0, result.stderr
    asked = {TARGET.search(r.messages[1]["content"]).group(1) for r in fake_llm.chat_requests}
    assert asked == {"triple"}
    assert [t["target"] for t in data["targets"]] == ["calc/ops.py::triple"]


def test_bad_input_each_one_line_exit_2(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no code here")
    result, _ = cover(empty, fake_llm)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: No Python source files to cover in")
    result, _ = cover(tmp_path / "missing", fake_llm)
    assert result.returncode == 2 and "does not exist" in result.stderr

    failing = make_flat(tmp_path / "failing")
    (failing / "tests" / "test_bad.py").write_text("def test_broken():\n    assert 1 == 2\n")
    before = tree_digest(failing)
    result, _ = cover(failing, fake_llm)
    assert result.returncode == 2
    # Progress goes to stderr too; the error is its last line, and a single one.
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]]
    assert "tests/test_bad.py::test_broken" in lines[-1] and "--allow-failing" in lines[-1]
    assert "Traceback" not in result.stderr
    assert tree_digest(failing) == before
    assert fake_llm.chat_requests == []

    fake_llm.on(scripted({"clamp": SCRIPT["clamp"]}))
    result, data = cover(failing, fake_llm, "--allow-failing", "--files", "calc/ops.py")
    assert result.returncode == 0, result.stderr
    assert data["tests"]["accepted"] == 1


def test_syntax_error_source_is_skipped_and_garbage_replies_are_rejections(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_flat(tmp_path / "flat")
    (repo / "calc" / "broken.py").write_text("def oops(:\n    pass\n")
    fake_llm.on(lambda req: Reply("\x00\x01 utter garbage, no code at all"))
    result, data = cover(repo, fake_llm, "--files", "calc/*")
    assert result.returncode == 0, result.stderr
    assert data["skipped"][0]["path"] == "calc/broken.py"
    assert "syntax error" in data["skipped"][0]["why"]
    assert "skipped calc/broken.py" in result.stdout
    assert data["tests"]["accepted"] == 0
    assert set(data["tests"]["rejected"]) <= {"no-code", "syntax", "no-test"}
    assert sum(data["tests"]["rejected"].values()) == len(data["targets"])


def test_unreachable_model_is_one_line(tmp_path: Path) -> None:
    repo = make_flat(tmp_path / "flat")
    result = run_assay("cover", str(repo), "--llm-base-url", "http://127.0.0.1:9/v1", timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: No LLM endpoint reachable at http://127.0.0.1:9/v1: check that the server runs, "
        "or fix ASSAY_LLM_BASE_URL / --llm-base-url"
    )


def test_fail_under_exits_1_and_junit_says_why(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    repo = make_flat(tmp_path / "flat")
    fake_llm.on(lambda req: "no code")
    junit = tmp_path / "cover.xml"
    result, data = cover(repo, fake_llm, "--fail-under", "99", "--files", "calc/ops.py",
                         "--junit", str(junit))  # fmt: skip
    assert result.returncode == 1
    assert "below 99 %" in result.stdout
    assert data["coverage"]["total"]["after"]["combined"] < 99
    # JUnit for CI views: a skipped case per target no test passed for, a failed coverage case.
    [suite] = ET.parse(junit).getroot()
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {t["target"].split("::")[1] for t in data["targets"]} | {"coverage"}
    assert int(suite.get("tests", "0")) == len(cases)
    missed = {t["target"].split("::")[1] for t in data["targets"] if not t["accepted"]}
    assert {n for n, c in cases.items() if c.find("skipped") is not None} == missed
    assert int(suite.get("skipped", "0")) == len(missed) and suite.get("failures") == "1"
    failure = cases["coverage"].find("failure")
    assert failure is not None and "below 99 %" in failure.get("message", "")


def test_ctrl_c_keeps_what_was_written_and_nothing_half_written(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_flat(tmp_path / "flat")
    # clamp (4 lines and branches to gain) comes first, then triple (1 line).
    ops = OPS.split("\n\n\ndef sign")[0] + "\n\n\ndef triple(x):\n    return 3 * x\n"
    (repo / "calc" / "ops.py").write_text(ops)
    second_call = threading.Event()
    release = threading.Event()
    calls = []

    def answer(req: RecordedRequest) -> str:
        calls.append(req)
        if len(calls) == 1:
            return block(SCRIPT["clamp"])
        second_call.set()
        release.wait(30)
        return "too late"

    fake_llm.on(answer)
    report = tmp_path / "report.json"
    proc = subprocess.Popen(
        [*ASSAY, "cover", str(repo), "--llm-base-url", fake_llm.url,
         "--attempts", "1", "--tests-per-target", "1", "--files", "calc/ops.py",
         "--no-explore", "--mutants", "off", "--report", str(report)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_works,
    )  # fmt: skip
    try:
        assert second_call.wait(120), "the second model call never came"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout + stderr
    written = repo / "tests" / "test_ops_assay.py"
    assert "def test_clamp_bounds" in written.read_text()
    assert sorted(p.name for p in (repo / "tests").iterdir()) == [
        "test_ops.py",
        "test_ops_assay.py",
    ]
    data = json.loads(report.read_text())
    assert data["stopped"] == "interrupted"
    assert data["written"] == ["tests/test_ops_assay.py"]


def test_a_later_round_retries_what_is_still_missed(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    repo = make_flat(tmp_path / "flat")
    ops = OPS.split("\n\n\ndef sign")[0] + "\n\n\ndef triple(x):\n    return 3 * x\n"
    (repo / "calc" / "ops.py").write_text(ops)
    asked: list[str] = []

    def answer(req: RecordedRequest) -> str:
        name = TARGET.search(req.messages[1]["content"]).group(1)  # type: ignore[union-attr]
        asked.append(name)
        if name == "triple" and asked.count("triple") == 1:
            return "no code this time"
        good = {"clamp": SCRIPT["clamp"], "triple": HEAD.format(name="triple")
                + "def test_t():\n    assert triple(2) == 6\n"}  # fmt: skip
        return block(good[name])

    fake_llm.on(answer)
    result, data = cover(repo, fake_llm, "--rounds", "3")
    assert result.returncode == 0, result.stderr
    assert asked == ["clamp", "triple", "triple"]
    assert reasons(data)["triple"] == ["no-code"]
    assert data["tests"]["accepted"] == 2
    assert "round 2: 1 function(s) still missed" in result.stderr


def test_flow_strategy_reflects_proposes_and_writes_through_the_gates(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_flat(tmp_path / "flat")
    (repo / "calc" / "ops.py").write_text(OPS.split("\n\n\ndef sign")[0] + "\n")
    stages: list[str] = []

    def answer(req: RecordedRequest) -> str:
        prompt = req.messages[1]["content"]
        if "Describe what" in prompt:
            stages.append("reflect")
            return "```yaml\ninputs: x, low, high\noutputs: x limited to [low, high]\n```"
        if "worth a test" in prompt:
            stages.append("propose")
            return (
                "```yaml\nitems:\n  - kind: edge\n    description: below low returns low\n"
                "    call: clamp(-5, 0, 10)\n    expected: 0\n```"
            )
        stages.append("write")
        return block(SCRIPT["clamp"])

    fake_llm.on(answer)
    result, data = cover(repo, fake_llm, "--strategy", "flow")
    assert result.returncode == 0, result.stderr
    assert stages == ["reflect", "propose", "write"]
    assert data["tests"]["accepted"] == 1
    assert data["llm"]["stages"].keys() >= {"test_reflect", "test_propose", "test_write"}


@pytest.mark.parametrize("flag", ["--into", "--repeat", "--strategy"])
def test_invalid_option_values(tmp_path: Path, fake_llm: FakeOpenAI, flag: str) -> None:
    repo = make_flat(tmp_path / "flat")
    value = {"--into": "sideways", "--repeat": "zero", "--strategy": "magic"}[flag]
    result, _ = cover(repo, fake_llm, flag, value)
    assert result.returncode == 2
    assert flag in result.stderr
