"""The mutation score of ``assay cover``, and surviving mutants as targets (real sandbox runs,
the scripted model).

The fixture project is fully covered by its own tests, which check too little: coverage cannot
improve, mutants show what the tests would miss.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from agents.cover.mutants import all_mutants
from agents.cover.mutation import function_ranges, sample_mutants
from agents.cover.mutation_step import AFTER_SCORE_SECONDS
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest
from tests.kit.cli import tree_digest
from tests.kit.cover import cover

PRICING = '''\
def discount(total):
    """10 % off from 100 on."""
    if total >= 100:
        return total * 0.9
    return total


def kind(data):
    """What a file is, by its first bytes."""
    if data[:4] == b"\\x89PNG":
        return "png"
    return "other"


def shipping(weight):
    """Parcels over 10 kg cost more."""
    if weight > 10:
        return 15
    return 5
'''
# Covers every line, checks little: the boundary of discount and what kind returns go untested.
WEAK_TESTS = """\
from shop.pricing import discount, kind, shipping


def test_discount():
    assert discount(50) == 50
    assert discount(200) == 180


def test_kind_runs():
    kind(b"\\x89PNG\\r\\n")
    assert kind(b"GIF8") == "other"
"""
MODEL_TEST = """```python
import pytest
from shop.pricing import kind


def test_kind_png():
    assert kind(b"\\x89PNG\\r\\n\\x1a\\n") == "png"
```"""


def project(root: Path) -> Path:
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "pricing.py").write_text(PRICING)
    (root / "tests").mkdir()
    (root / "tests" / "test_pricing.py").write_text(WEAK_TESTS)
    return root


def answer(req: RecordedRequest) -> str:
    """The model writes the test of a surviving mutant of ``kind``; asked to rewrite a test of
    ``discount`` it checks a total far from the boundary instead (still an exact value, but
    the boundary's mutant goes unseen: refused), one of ``shipping`` it only renames, saying
    what the number is (kept)."""
    prompt = req.prompt
    if "bug that the existing tests do not catch" in prompt and "kind" in prompt:
        return MODEL_TEST
    found = re.search(r"A generated test of `\w+`:\s*```python\n(.*?)```", prompt, re.S)
    if found:
        test = found.group(1)
        name = re.search(r"def (\w+)\(", test).group(1)  # type: ignore[union-attr]
        if "discount(" in test:
            weak = "def test_discount_leaves_small_totals_alone():\n    assert discount(50) == 50\n"
            return f"```python\n{weak}```"
        better = name.replace("_returns_", "_costs_")  # says what the number is
        renamed = test.replace(f"def {name}(", f"def {better}(")
        return f"```python\n{renamed}```"
    return "I cannot help with that."


def test_survivors_become_targets_and_the_score_goes_up(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = project(tmp_path / "shop")
    fake_llm.on(answer)
    result, data = cover(repo, fake_llm, "--mutants", "raise", "--explore-seconds", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    mutation = data["mutation"]
    before, after = mutation["before"], mutation["after"]
    assert before["measured"] == after["measured"] == before["total"]  # no sample: all ran
    assert after["killed"] > before["killed"]
    # The boundary 100 (`>=` → `>`): random arguments rarely hit it; the explorer compares the
    # original with the mutant, and its test asserts what the original does at 100.
    written = (repo / "tests" / "test_pricing_assay.py").read_text()
    assert re.search(r"discount\(100\)", written), written
    kept = mutation["tests_for_mutants"]
    boundary = mutant_id("line 3: `>=` → `>`")
    assert any(boundary in ids.split(", ") for ids in kept.values()), kept
    # The png check: no value the explorer has starts with b"\x89PNG"; the model's test kills it.
    assert "def test_kind_png" in written
    model_tests = [test for test in kept if test.endswith("::test_kind_png")]
    assert model_tests, kept
    # The readable rewrite: a renaming that keeps every check is kept; a rewrite that checks
    # another value loses a mutant the original catches: refused, the original stays.
    rewrite = data["rewrite"]
    assert rewrite["kept"] >= 1 and "def test_shipping_costs_" in written
    assert (
        rewrite["refused"].get("mutant-survived", 0) + rewrite["refused"].get("lost-a-mutant", 0)
        >= 1
    ), rewrite
    assert "test_discount_is_never_negative" not in written
    # The summary says why the others stayed as they were.
    shown = " ".join(result.stdout.split())
    assert re.search(r"kept as written \(not kept: [^)]*(mutant-survived|lost-a-mutant) \d", shown)
    # The table and the JSON carry both measures; survivors are listed with their diff.
    assert "mutation %" in result.stdout and f"{after['score']:.1f}" in result.stdout
    for survivor in mutation["survivors"]:
        assert survivor["diff"].startswith("-") and "\n+" in survivor["diff"]


def mutant_id(description: str) -> str:
    """The id the run gives a mutant of PRICING (its line and its place among the file's)."""
    mutants = all_mutants(PRICING, function_ranges(PRICING))
    return next(f"shop/pricing.py:{m.line}:{n}" for n, m in enumerate(mutants)
                if m.description == description)  # fmt: skip


def test_the_hunt_goes_beyond_the_sample_where_the_suite_does_not_already_tell_apart(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """With --mutation-budget 6 the score measures 6 of the 26 mutants; the differential search
    also looks at the 20 others: those a call of the explored tests already tells apart (the
    suite catches them) are skipped, the boundary of discount (left out of the sample) gets a
    test of its own, and the report says so without counting it in the score."""
    repo = project(tmp_path / "shop")
    fake_llm.on(lambda req: "I cannot help with that.")
    result, data = cover(repo, fake_llm, "--mutants", "raise", "--mutation-budget", "6",
                         "--explore-seconds", "4", "--no-rewrite")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    mutation = data["mutation"]
    assert (mutation["before"]["measured"], mutation["before"]["total"]) == (6, 26)
    sample = {ref.id for ref, _ in sample_mutants(repo, ["shop/pricing.py"], 6).mutants}
    boundary = mutant_id("line 3: `>=` → `>`")
    assert boundary not in sample
    beyond = mutation["beyond_sample"]
    assert beyond["searched"] == 20, beyond
    # shipping: untested by the project, explored first; its calls tell its mutants apart.
    assert beyond["caught"] >= 2, beyond
    assert boundary in beyond["killed"] and not set(beyond["killed"]) & sample, beyond
    written = (repo / "tests" / "test_pricing_assay.py").read_text()
    assert re.search(r"discount\(100\)", written), written
    kept = mutation["tests_for_mutants"]
    assert any(boundary in ids.split(", ") for ids in kept.values()), kept
    assert "beyond the sample: 20 more mutant(s) searched" in result.stdout, result.stdout


def test_report_mode_measures_and_changes_nothing_else(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    fake_llm.on(lambda req: "I cannot help with that.")
    off_repo = project(tmp_path / "off" / "shop")
    report_repo = project(tmp_path / "report" / "shop")
    off, off_data = cover(off_repo, fake_llm, "--mutants", "off", "--dry-run")
    # --fail-under-mutation: the weak suite is far below 100 % (exit 1, the report written).
    measured, data = cover(report_repo, fake_llm, "--mutants", "report", "--dry-run",
                           "--fail-under-mutation", "100")  # fmt: skip
    assert off.returncode == 0, off.stderr
    assert measured.returncode == 1 and "mutation score" in measured.stdout, measured.stderr
    assert off_data["mutation"] == {} and "mutation %" not in off.stdout
    assert data["mutation"]["before"]["score"] == data["mutation"]["after"]["score"]
    assert data["mutation"]["tests_for_mutants"] == {}
    assert "mutation %" in measured.stdout
    assert off_data["coverage"] == data["coverage"] and off_data["tests"] == data["tests"]
    assert tree_digest(off_repo) == tree_digest(report_repo)  # a dry run writes nothing


def test_the_mutation_score_keeps_to_the_time_budget(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    """Mutants that hang (`x -= 2` → `x += 2` loops forever) each take their 10 s timeout:
    measured in full, the score would take minutes; the run keeps to --max-minutes (the score
    after gets a few seconds more)."""
    fake_llm.on(lambda req: "I cannot help with that.")
    root = tmp_path / "slow"
    (root / "slow").mkdir(parents=True)
    (root / "slow" / "__init__.py").write_text("")
    (root / "slow" / "calc.py").write_text("".join(
        f"def f{i}(x):\n    while x > {i}:\n        x -= 2\n    return x\n\n\n" for i in range(30)
    ))  # fmt: skip
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text("from slow import calc\n" + "".join(
        f"\n\ndef test_f{i}():\n    assert calc.f{i}({i} + 5) == {i} - 1\n" for i in range(30)
    ))  # fmt: skip
    started = time.monotonic()
    result, data = cover(root, fake_llm, "--mutants", "report", "--max-minutes", "0.5")
    wall = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    before = data["mutation"]["before"]
    assert before["measured"] < before["total"], before  # cut by the budget: not all ran
    # 30 s of budget, 20 s for the score after, startup; in full it takes minutes.
    assert wall < 30 + AFTER_SCORE_SECONDS + 30, wall
    assert data["mutation"]["after"]["measured"] == before["measured"]


GRADES = """\
def grade(score):
    if score >= 90:
        return "A"
    if score >= 50:
        return "B"
    return "C"
"""
GRADE_TESTS = """\
from grades import grade


def test_ninety_is_an_a():
    assert grade(90) == "A"


def test_fifty_is_a_b():
    assert grade(50) == "B"


def test_nothing_of_the_boundaries():
    assert grade(10) == "C"
"""


def test_the_named_mutant_gate_says_which_test_caught_a_mutant_it_was_not_written_for(
    tmp_path: Path,
) -> None:
    """A candidate written for one mutant may catch another: the gate finds that out in one
    run of the mutants against the tests kept, and names the test that caught it (the report's
    "which test for which mutant"); a test written for a mutant it does not catch goes."""
    from agents.cover.mutant_gate import MutantGate, NamedMutant
    from flows import Sandbox

    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "grades.py").write_text(GRADES)
    mutated = {n: GRADES.replace(f"score >= {n}", f"score > {n}") for n in (90, 50)}
    m90 = NamedMutant("grades.py:2:0", "grades.py", mutated[90], "line 2: `>=` → `>`")
    m50 = NamedMutant("grades.py:4:1", "grades.py", mutated[50], "line 4: `>=` → `>`")
    path = "tests/test_grades_assay_candidate.py"
    kills = {"test_ninety_is_an_a": m90.id, "test_nothing_of_the_boundaries": m50.id}
    with Sandbox(repo) as sandbox:
        gate = MutantGate(sandbox, {"PYTHONPATH": "."}, 30.0)
        result = gate.named(
            lambda p, c, **more: {p: c, **more}, path, GRADE_TESTS, [m90, m50], kills
        )
    assert sorted(result.killed) == sorted([m90.id, m50.id])
    assert result.extra == {"test_fifty_is_a_b": [m50.id]}
    assert "test_nothing_of_the_boundaries" not in result.code  # written for m50, caught none
    assert "test_fifty_is_a_b" in result.code and "test_ninety_is_an_a" in result.code


SLOW = """\
import time


def slow_double(x):
    time.sleep(0.05)
    return x * 2
"""


def test_the_differential_search_keeps_to_its_seconds_however_many_mutants_it_is_given(
    tmp_path: Path,
) -> None:
    """Two hundred mutants beyond the sample, each told apart by a slow known call: the search
    stops at its time and still says what it did (a driver cut by the sandbox's limit says
    nothing)."""
    from agents.cover.explore import explore_mutants
    from agents.cover.mutation_step import target_of
    from flows import Sandbox

    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "slow.py").write_text(SLOW)
    mutated = SLOW.replace("x * 2", "x * 3")
    beyond = [(f"slow.py:6:{n}", 6, mutated) for n in range(200)]
    with Sandbox(repo) as sandbox:
        found = explore_mutants(
            sandbox, repo, [target_of(repo, "slow.py", [6])], [], seconds=2.0, pythonpath=".",
            beyond=beyond, known=["slow_double(1)"],
        )  # fmt: skip
    assert found.error == "", found
    assert 1 <= found.caught < 200, found  # each caught one costs 0.2 s: not all within 2 s
    assert found.seconds < 2.0 + 1.0, found


def test_a_driver_cut_at_its_limit_still_says_what_it_did() -> None:
    """A call stuck in C code (the alarm cannot stop it) runs the driver into the sandbox's
    limit: its kept calls and its last progress line still count."""
    from agents.cover.explore import MARK, read_output

    call = {"target": "f", "expr": "f(1)", "kills": "m.py:3:0", "repr": "2"}
    output = "\n".join([
        MARK + '{"done": false, "tries": 40, "kept": 0, "seconds": 1.5, "caught": 2}',
        "noise the code under test printed",
        MARK + json.dumps(call),
        MARK + '{"done": false, "tries": 90, "kept": 1, "seconds": 3.0, "caught": 5}',
    ])  # fmt: skip
    found = read_output(output, "m.py")
    assert (found.done, found.tries, found.caught, found.seconds) == (False, 90, 5, 3.0)
    assert [c["expr"] for c in found.calls] == ["f(1)"]
    final = read_output(
        output + "\n" + MARK + '{"done": true, "tries": 95, "seconds": 3.2}', "m.py"
    )
    assert final.done and final.tries == 95
