"""Explored tests that read like a person's: rule-made names, the model's rewrite and what
refuses a rewrite that checks less, says less or reaches out.

The model is the scripted fake server; the last two tests run ``assay cover`` end to end on a
fixture project (real sandbox, real pytest).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agents.cover.rewrite import (
    judge_rewrite,
    replace_test,
    rewrite_test,
    split_tests,
)
from agents.cover.rewrite_context import rewrite_context
from agents.cover.rewrite_rules import operator_form, rename_rules
from flows import FlowRunner, LLMClient, TraceWriter, read_trace
from tests.fakes.openai_server import FakeOpenAI


def test_rules_name_a_test_after_the_call_and_its_outcome() -> None:
    taken: set[str] = set()

    def name(expr: str, **call: object) -> str:
        return rename_rules({"expr": expr, "target": expr.split("(")[0], **call}, taken)

    assert name("grade(80)", stable=True, repr="'B'") == "test_grade_returns_b_for_80"
    assert name("grade(80)", stable=True, repr="'B'") == "test_grade_returns_b_for_80_2"
    assert (
        name("Counter(start=2).bump(by=-1)", stable=True, raises="ValueError")
        == "test_counter_bump_raises_value_error_for_minus_1"
    )
    assert name("is_even(3)", stable=True, repr="False") == "test_is_even_returns_false_for_3"
    assert name("parse('')", stable=True, repr="None") == "test_parse_returns_none_for_empty_string"
    assert name("split('a b')", stable=True, repr="['a', 'b']") == (
        "test_split_returns_a_list_of_2_for_a_b"
    )
    assert (
        name("roll(6)", stable=False, facts={"kind": "value", "type": "int", "sign": 1})
        == "test_roll_returns_a_positive_int_for_6"
    )
    assert name("list(walk(Tree()))", stable=True, repr="[]") == "test_walk_returns_an_empty_list"
    assert name("Box([1]).__len__()", stable=True, repr="1") == "test_box_len_returns_1"
    # A name says the value or leaves it out: no symbol dropped that changes it.
    assert (
        name("Version.parse('2.0.0').match('>=1.0.0')", stable=True, repr="True")
        == "test_version_match_returns_true_for_at_least_1_0_0"
    )  # was …_for_1_0_0: the range read as the version
    assert (
        name("metric(-1e+33, '')", stable=True, repr="'-1.00 x 10³³'")
        == "test_metric_returns_a_string_for_minus_1e_33_and_empty_string"
    )  # was test_metric_returns_1_00_x_10_…
    assert name("share('50%')", stable=True, repr="0.5") == "test_share_returns_0_5_for_50_percent"
    assert name("tag('<b>')", stable=True, repr="'b'") == "test_tag_returns_b"
    assert all(n.isidentifier() and len(n) <= 72 for n in taken)
    assert operator_form("Box(1).__eq__(Box(2))") == "Box(1) == Box(2)"
    assert operator_form("Box(1).__getitem__(0)") == "Box(1)[0]"
    assert operator_form("f.__call__(1, x=2)") == "f.__call__(1, x=2)"  # keywords: left alone
    assert operator_form("shout('hi')") == "shout('hi')"


def _runner(fake: FakeOpenAI, tmp_path: Path) -> FlowRunner:
    llm = LLMClient(fake.url, "fake-model", max_retries=0)
    return FlowRunner(llm, trace=TraceWriter(tmp_path / "t.jsonl"), flow="cover")


GRADES = '''\
PASS_MARK = 50


def grade(score, scale=100):
    """The letter for a score out of ``scale``: 'A' from 90 %, 'B' from 80 %, else 'C'."""
    percent = 100 * score / scale
    if percent >= 90:
        return "A"
    return "B" if percent >= 80 else "C"
'''
EXPLORED = (
    "def test_grade_returns_b_for_80_7():\n    result = grade(80.7)\n    assert result == 'B'\n"
)


def test_a_model_rewrite_that_keeps_the_call_and_the_checks_is_taken(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    better = (
        "def test_grade_gives_b_from_85_percent():\n    result = grade(85, scale=100)\n"
        "    assert result == 'B'\n"
    )
    fake_llm.queue(f"```python\nimport pytest\nfrom grades import grade\n\n\n{better}```\n")
    runner = _runner(fake_llm, tmp_path)
    context = rewrite_context(GRADES, "grade")
    assert context == (
        'PASS_MARK = 50\ndef grade(score, scale=100):\n    """The letter for a score out of '
        "``scale``: 'A' from 90 %, 'B' from 80 %, else 'C'.\"\"\"\n    ..."
    )  # the signature, the docstring and the module's constants: no body
    module = f"from grades import grade\n\n\n{EXPLORED}\n\ndef test_other():\n    pass\n"
    (name, source), _ = split_tests(module).items()
    assert (name, source) == ("test_grade_returns_b_for_80_7", EXPLORED)
    rewritten = rewrite_test(runner, source, context, max_tokens=120).source
    assert rewritten == better
    assert replace_test(module, name, rewritten) == module.replace(EXPLORED, better)

    # One short, bounded call.
    (request,) = fake_llm.chat_requests
    assert request.json["max_tokens"] == 120 and "\n```\n" in request.json["stop"]
    assert len(request.prompt) < 1400, len(request.prompt)
    assert "test_grade_" in request.prompt and "percent = 100" not in request.prompt
    steps = [r for r in read_trace(tmp_path / "t.jsonl") if r.get("kind") == "rewrite"]
    assert steps and steps[0]["verdict"] == "accepted"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("I would rename it.", "not one test function"),
        ("def test_a():\n    assert grade(80.7) == 'B'\n\ndef test_b():\n    pass\n",
         "not one test function"),
        # A value pinned before, only its truth or its type after: the rewrite checks less.
        ("def test_grade_of_80_7_is_a_letter():\n    result = grade(80.7)\n    assert result\n",
         "a weaker check"),
        ("def test_grade_of_80_7_is_a_string():\n    result = grade(80.7)\n"
         "    assert isinstance(result, str)\n", "a weaker check"),
        ("def test_grade_of_80_7_is_one_letter():\n    result = grade(80.7)\n"
         "    assert len(result) == 1\n", "a weaker check"),
        # ``is None`` says what ``== None`` says, as a person writes it
        ("def test_grade_of_80_7_is_b():\n    result = grade(80.7)\n    assert result == 'B'\n"
         "    assert result != None\n", "== None"),
        ("def test_grade_b():\n    result = grade(80.7)\n", "fewer checks"),
        ("def test_grade_b():\n    result = grade(80.7)\n    assert True\n", "fewer checks"),
        ("def test_grade_b():\n    result = str(80.7)\n    assert result == '80.7'\n",
         "does not call the same code"),
        ("def test_grade_b():\n    import os\n    os.system('rm -rf ~')\n"
         "    assert grade(80.7) == 'B'\n", "a statement a test does not need"),
        ("def test_grade_b():\n    open('/etc/passwd', 'w')\n    assert grade(80.7) == 'B'\n",
         "a name the test does not have"),
        ("def test_grade_b():\n    assert grade(80.7).__class__.__base__ is object\n"
         "    assert grade(80.7) == 'B'\n", "a dunder attribute"),
        ("def test_grade_b():\n    while True:\n        assert grade(80.7) == 'B'\n",
         "a statement a test does not need"),
        ("def test_grade_b(tmp_path):\n    assert grade(80.7) == 'B'\n", "other parameters"),
        ("def helper():\n    assert grade(80.7) == 'B'\n", "not one test function"),
        (EXPLORED, "unchanged"),
        # The same test under a name that drops what it checks ('b').
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_80_7"),
         "a name that says less"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_gives_a_b_for_80_7"),
         None),
        # A value run together is no new word; a value said twice is noise.
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_807"),
         "a name that says less"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_80_7_returns_b_for_80_7"),
         "a name that repeats itself"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_of_80_7_is_a_b_grade"),
         "a name that repeats itself"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_a_score_of_80_7_is_a_b"), None),
        # Another verb for "returns" is no new word.
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_uses_b_for_80_7"),
         "a rename that adds nothing"),
        # The test's machinery is no word of the behaviour (seen: `test_pytest_warns_…`).
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_pytest_function_call_grade"),
         "a name that says less"),
        # Seen on humanize (2026-12-04): ``test_deactivate_returns_none`` → ``…_no_args``.
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_with_args"),
         "a name that says less"),
        ("def test_grade_returns_b_for_80_7():\n    assert grade(80.7) == 'B'\n"
         "    assert grade(95) == 'A'\n    assert grade(10) == 'C'\n", "several behaviours"),
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_returns_correct_value"),
         "a name that says less"),
        # Another value checked under the old value's name.
        ("def test_grade_returns_b_for_80_7():\n    result = grade(95)\n"
         "    assert result == 'A'\n", "a name that says what it does not check"),
        # Seen on humanize (2026-12-05): keyword arguments added, the name and the checks as
        # they were (``naturaltime(d)`` → ``naturaltime(d, future=True, months=False)``).
        (EXPLORED.replace("grade(80.7)", "grade(80.7, strict=True, curve=False)"),
         "arguments the test does not check"),
        # with a name that says what they do, they are the test's
        (EXPLORED.replace("grade(80.7)", "grade(80.7, curve=False)").replace(
            "test_grade_returns_b_for_80_7", "test_grade_without_a_curve_returns_b_for_80_7"),
         None),
        # Only a filler word dropped, the body as it was: nothing gained, the original stays.
        (EXPLORED.replace("test_grade_returns_b_for_80_7", "test_grade_b_for_80_7"),
         "a rename that adds nothing"),
    ],
)  # fmt: skip
def test_a_rewrite_that_drops_a_check_or_reaches_out_is_refused(
    reply: str, reason: str | None
) -> None:
    verdict = judge_rewrite(EXPLORED, reply)
    if reason is None:
        # Nothing the rules refuse: the gates decide (the same mutants killed, or it goes).
        assert verdict.source is not None
        return
    assert (verdict.source, verdict.reason) == (None, reason)


def test_of_several_functions_in_a_reply_the_first_that_passes_is_taken() -> None:
    """Seen on humanize (2026-12-04): asked for one test, the model wrote three, the last cut
    off by the token bound; each was refused whole as "not one test function"."""
    # another value under another name: not a rewrite of this test
    split = "def test_grade_of_95_is_an_a():\n    assert grade(95) == 'A'\n\n\n"
    good = (
        "def test_grade_gives_a_b_for_80_7():\n    result = grade(80.7)\n    assert result == 'B'\n"
    )
    cut = "def test_grade_gives_a_c_below_80():\n    result = grade(7"
    verdict = judge_rewrite(EXPLORED, f"import pytest\n\n{split}{good}\n\n{cut}")
    assert (verdict.source, verdict.reason) == (good, "accepted")
    # None passes: refused as before, and a reply cut inside its only function is no test.
    assert judge_rewrite(EXPLORED, f"{split}{good.replace('80.7', '95')}").source is None
    assert judge_rewrite(EXPLORED, f"{split}{cut}").source is None
    assert judge_rewrite(EXPLORED, cut).reason == "not one test function"
    assert judge_rewrite(EXPLORED, f"{good}\n\n{cut}").source == good


def test_a_name_that_says_false_over_a_check_of_true_is_refused() -> None:
    """Seen on semver (2026-12-04): the rewrite of ``…_is_compatible_returns_false`` checked
    other versions, ``is True``, under the same name."""
    original = (
        "def test_version_is_compatible_returns_false():\n"
        "    assert Version(1, 1, 0).is_compatible(Version(1, 0, 0)) is False\n"
    )
    swapped = (
        "def test_version_is_compatible_returns_false():\n"
        "    assert Version(1, 0, 0).is_compatible(Version(1, 1, 0)) is True\n"
    )
    verdict = judge_rewrite(original, swapped)
    assert (verdict.source, verdict.reason) == (None, "a name that says what it does not check")
    other = swapped.replace("returns_false", "accepts_a_newer_minor")
    assert judge_rewrite(original, other).source == other
    # A number the body says only after a minus is another value.
    compared = (
        "def test_version_compare_returns_1():\n    assert Version(2).compare(Version(1)) == 1\n"
    )
    flipped = compared.replace(
        "Version(2).compare(Version(1)) == 1", "Version(0).compare(Version(2)) == -1"
    )
    verdict = judge_rewrite(compared, flipped)
    assert (verdict.source, verdict.reason) == (None, "a name that says what it does not check")


def test_a_raises_check_and_its_message_must_survive_a_rewrite() -> None:
    original = (
        "def test_counter_bump_raises_value_error():\n"
        "    with pytest.raises(ValueError, match=re.escape('negative step')):\n"
        "        Counter().bump(by=-1)\n"
    )
    no_match = original.replace(", match=re.escape('negative step')", "").replace(
        "test_counter_bump_raises_value_error", "test_bump_refuses_a_negative_step"
    )
    assert judge_rewrite(original, no_match).reason == "fewer checks"
    kept = original.replace("test_counter_bump_raises_value_error", "test_bump_refuses_negatives")
    assert judge_rewrite(original, kept).source == kept
    # A name that no longer says the call fails (seen on semver, 2026-12-04:
    # ``test_version_parse_raises_value_error`` → ``test_version_parse_abc``, kept then).
    hidden = original.replace(
        "test_counter_bump_raises_value_error", "test_counter_bump_by_minus_1"
    )
    assert judge_rewrite(original, hidden).reason == "a name that hides the error"
    stopped = original.replace(
        "test_counter_bump_raises_value_error", "test_bump_stops_at_a_negative"
    )
    assert judge_rewrite(original, stopped).reason == "a name that hides the error"
    said = original.replace(
        "test_counter_bump_raises_value_error", "test_bump_by_minus_1_is_a_value_error"
    )
    assert judge_rewrite(original, said).source == said


def test_garbage_from_the_model_leaves_the_original(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.queue(
        "Sure! The test is fine as it is.",
        "```python\ndef test_grade():\n    exec('import os')\n    assert grade(80.7) == 'B'\n```",
    )
    runner = _runner(fake_llm, tmp_path)
    context = rewrite_context(GRADES, "grade")
    assert rewrite_test(runner, EXPLORED, context).source is None
    assert rewrite_test(runner, EXPLORED, context).source is None
    trace = read_trace(tmp_path / "t.jsonl")
    verdicts = [r["verdict"] for r in trace if r.get("kind") == "rewrite"]
    assert verdicts == ["not one test function", "a name the test does not have"]
    assert len(fake_llm.chat_requests) == 2  # no repair round: one call per test
    assert json.loads(fake_llm.chat_requests[0].body)["max_tokens"] == 160


def test_a_rewrite_named_like_another_test_of_the_file_is_refused(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """The model gives every rewrite the same good name: the first is kept; the next, kept,
    would silently replace it (Python keeps the last ``def`` of a name)."""
    from tests.kit.cover import block, cover
    from tests.test_cover_explore import UNITS

    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "units.py").write_text(UNITS)
    written = repo / "tests" / "test_units_assay.py"
    name = "test_in_seconds_multiplies_by_the_unit"

    def answer(req):  # type: ignore[no-untyped-def]
        prompt = req.messages[-1]["content"]
        if "Rewrite this test" not in prompt:
            return "I cannot help with that."
        test = re.findall(r"```python\n(.*?)```", prompt, re.S)[-1]
        return block(re.sub(r"def test_\w+\(", f"def {name}(", test, count=1))

    fake_llm.on(answer)
    result, data = cover(repo, fake_llm, "--explore-seconds", "30", "--mutants", "off")
    assert result.returncode == 0, result.stdout + result.stderr
    names = re.findall(r"^def (test_\w+)", written.read_text(), re.M)
    assert len(names) >= 2 and len(names) == len(set(names)), names
    assert name in names and data["rewrite"]["kept"] == 1, data["rewrite"]
    assert data["rewrite"]["refused"].get("a name another test has", 0) >= 1, data["rewrite"]


def test_a_rewrite_the_gates_repair_back_into_the_original_is_not_taken(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """The model's rewrite differs only by a wrong expected value and that value in the name;
    the gates repair the value to what the code gives, and the name then says a value the test
    does not check (seen on semver, 2026-12-04: ``test_version_compare_returns_1`` kept over a
    repaired ``== -1``)."""
    from tests.kit.cover import block, cover
    from tests.test_cover_explore import UNITS

    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "units.py").write_text(UNITS)
    names: list[str] = []  # the rewrites' names

    def answer(req):  # type: ignore[no-untyped-def]
        prompt = req.messages[-1]["content"]
        if "Rewrite this test" not in prompt:
            return "I cannot help with that."
        test = re.findall(r"```python\n(.*?)```", prompt, re.S)[-1]
        wrong = re.sub(r"(assert result == )(\d+)", lambda m: m[1] + str(int(m[2]) + 1), test)
        value = re.search(r"assert result == (\d+)", wrong)
        suffix = value[1] if value else "9"  # the name says the (wrong) value it checks
        renamed = re.sub(r"def (test_\w+)\(", rf"def \1_{suffix}(", wrong, count=1)
        names.append(re.search(r"def (test_\w+)\(", renamed)[1])  # type: ignore[index]
        return block(renamed)

    fake_llm.on(answer)
    result, data = cover(repo, fake_llm, "--explore-seconds", "30", "--mutants", "off")
    assert result.returncode == 0, result.stdout + result.stderr
    written = (repo / "tests" / "test_units_assay.py").read_text()
    assert names and not any(f"def {n}(" in written for n in names), written
    assert data["rewrite"]["kept"] == 0, data["rewrite"]
    refused = data["rewrite"]["refused"]
    assert refused.get("a name that says what it does not check", 0) >= 1, data["rewrite"]
