"""Where a run's candidates and time go, through real ``assay cover`` runs with the scripted
model: the suite gate (a candidate's test that passes alone but fails beside the project's
suite goes, its other tests stay) and the time held for the readable rewrite."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply
from tests.kit.cover import cover

LOCALE = """\
_ACTIVE = ["en"]


def activate(name):
    _ACTIVE[0] = name


def separator():
    return "," if _ACTIVE[0] == "fr" else "."


def shout(text):
    if not text:
        raise ValueError("nothing to shout")
    return text.upper() + "!"
"""
# Leaves French active for every test after it: the project's own habit, not assay's to fix.
EXISTING = """\
from words.locale import activate, separator


def test_french_separator():
    activate("fr")
    assert separator() == ","
"""
MODEL = """```python
from words.locale import separator, shout


def test_shout_adds_an_exclamation_mark():
    assert shout("hi") == "HI!"


def test_shout_in_the_default_locale():
    assert separator() == "."
    assert shout("a") == "A!"
```"""


def test_a_test_that_fails_only_beside_the_suite_goes_and_the_rest_stays(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    root = tmp_path / "words"
    (root / "words").mkdir(parents=True)
    (root / "words" / "__init__.py").write_text("")
    (root / "words" / "locale.py").write_text(LOCALE)
    (root / "tests").mkdir()
    (root / "tests" / "test_locale.py").write_text(EXISTING)
    fake_llm.on(lambda req: MODEL)
    result, data = cover(root, fake_llm)
    assert result.returncode == 0, result.stdout + result.stderr
    out = root / "tests" / "test_locale_assay.py"
    assert out.exists(), result.stdout + result.stderr
    written = out.read_text()
    assert "def test_shout_adds_an_exclamation_mark" in written, written
    assert "test_shout_in_the_default_locale" not in written, written
    # Nothing rolled back at the end: the gate ran the candidate where the final suite runs it.
    assert data["rolled_back"] == [] and "rolled back" not in result.stdout
    assert "accepted test_shout_adds_an_exclamation_mark for" in result.stderr


GRADES = '''\
def grade(score):
    """Letter grade for a score out of 100.

    >>> grade(95)
    'A'
    """
    if score >= 90:
        return "A"
    if score >= 80:
        return "B"
    return "C"


def unlock(code):
    if code == "open " * 3:
        return "opened"
    return "locked"
'''


def test_the_readable_rewrite_keeps_its_share_of_a_slow_models_time(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """The model takes 25 s a test it is asked to write (for ``unlock``'s code, which no
    generated call guesses); --max-minutes 0.75 would go to those calls, but the last 22 s
    (half of it, below 30 s) are held for rewriting the explored tests, whose calls are quick.
    The test of the docstring's own call is not among them."""
    root = tmp_path / "grades"
    root.mkdir()
    (root / "grades.py").write_text(GRADES)

    def answer(req: RecordedRequest) -> Reply:
        found = re.search(r"A generated test of `\w+`:\s*```python\n(.*?)```", req.prompt, re.S)
        if not found:
            return Reply(content="I cannot help with that.", delay=25)
        test = found.group(1)
        name = re.search(r"def (\w+)\(", test).group(1)  # type: ignore[union-attr]
        return Reply(content=f"```python\n{test.replace(name, name + '_as_graded')}```")

    fake_llm.on(answer)
    started = time.monotonic()
    result, data = cover(root, fake_llm, "--explore-seconds", "5", "--mutants", "off",
                         "--max-minutes", "0.75", "--repeat", "1", "--no-mutation")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert data["rewrite"]["kept"] >= 1, (data["rewrite"], result.stderr)
    written = (root / "tests" / "test_grades_assay.py").read_text()
    assert "_as_graded" in written
    # The docstring's own call reads as its author wrote it: not sent to the model.
    assert data["rewrite"]["as_documented"] == 1, data["rewrite"]
    [documented] = re.findall(r"def (\w+)\(\):\n(?:    .*\n)*?.*grade\(95\)", written)
    assert not documented.endswith("_as_graded"), written
    assert time.monotonic() - started < 45 + 40
