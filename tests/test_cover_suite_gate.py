"""The suite gate: a candidate's test that passes alone but fails beside the project's suite
(global state another test left behind) goes; its other tests stay.  A real ``assay cover`` run
with the scripted model."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
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
