"""A calc project for assay tests and its scripted model (behaviours, then drafts per behaviour);
``calc/text.py`` has a docstring whose example the code contradicts."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fakes.openai_server import RecordedRequest

OPS = """\
def clamp(x, low, high):
    \"\"\"``x`` limited to ``low``..``high``.\"\"\"
    if x < low:
        return low
    if x > high:
        return high
    return x


class Counter:
    def __init__(self, start=0):
        self.value = start

    def bump(self, by=1):
        if by < 0:
            raise ValueError("negative step")
        self.value += by
        return self.value
"""


EXISTING = """\
from calc.ops import clamp


def test_clamp():
    assert clamp(-1, 0, 5) == 0
    assert clamp(9, 0, 5) == 5
    assert clamp(3, 0, 5) == 3
"""


REFLECT = "```yaml\ninputs: x, low, high\noutputs: x within bounds\nbranches:\n  - x < low\n```"


BEHAVIOURS = """```yaml
- kind: happy
  description: returns x when it is inside the bounds
  call: clamp(3, 0, 5)
  expected: 3
- kind: edge
  description: returns low when x equals low
  call: clamp(0, 0, 5)
  expected: 0
- kind: error
  description: an inverted range returns low for small x
  call: clamp(-3, 4, 2)
  expected: 4
```"""


HEAD = "import pytest\nfrom calc.ops import clamp\n\n\n"


DRAFTS = {
    "inside": [HEAD + "def test_clamp_inside():\n    assert clamp(3, 0, 5) == 3\n"],
    "equals low": [
        # Redefines the code under test, then does it right.
        "def clamp(x, low, high):\n    return x\n\n\ndef test_clamp_low():\n"
        "    assert clamp(0, 0, 5) == 0\n",
        HEAD + "def test_clamp_equals_low():\n    assert clamp(0, 0, 5) == 0\n",
    ],
    "inverted": [
        # Never calls clamp, then asserts nothing: both rejected.
        HEAD + "def test_clamp_inverted():\n    assert max(1, 2) == 2\n",
        HEAD + "def test_clamp_inverted():\n    clamp(-3, 4, 2)\n",
    ],
}


def write_project(root: Path) -> Path:
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(OPS)
    (root / "tests").mkdir()
    (root / "tests" / "test_ops.py").write_text(EXISTING)
    (root / "pyproject.toml").write_text("[project]\nname = 'calc'\nversion = '0'\n")
    return root


def answer(req: RecordedRequest) -> str:
    prompt = req.messages[1]["content"]
    if "Describe what" in prompt:
        return REFLECT
    if "worth a test" in prompt:
        return BEHAVIOURS
    found = re.search(r"checks: (.*)", prompt)
    assert found, prompt
    key = next(k for k in DRAFTS if k in found.group(1))
    attempt = (len(req.messages) - 2) // 2  # each retry adds the reply and the problem
    drafts = DRAFTS[key]
    return f"```python\n{drafts[min(attempt, len(drafts) - 1)]}```"


TEXT = """\
def shout(word, times=1):
    \"\"\"``word`` in capitals, ``times`` times, joined by spaces.

    >>> shout("hi")
    'HI'
    >>> shout("hi", 2)
    'HI HI'
    >>> shout("hi", 0)
    Traceback (most recent call last):
        ...
    ValueError: times must be positive

    A word of spaces comes back stripped, so shout("  ") is "".
    \"\"\"
    if times < 1:
        raise ValueError("times must be at least 1")
    if not word.strip():
        return ""
    return "!".join([word.upper()] * times)
"""

# The docstring's behaviour exploration did not show as its own, as the model reads it.
CLAIMS = """```yaml
- kind: edge
  description: a word of spaces gives an empty string
  call: shout("  ")
  expected: "''"
```"""

SHOUT_TEST = (
    "```python\nfrom calc.text import shout\n\n\n"
    "def test_shout_a_word_of_spaces():\n    assert shout('  ') == ''\n```"
)


def write_text_module(root: Path) -> None:
    (root / "calc" / "text.py").write_text(TEXT)


# The model's expected value is wrong ('HEY HEY', as the docstring says): the gates repair it to
# what the code returns.
REWRITTEN = (
    "```python\ndef test_shout_repeats_a_word_in_capitals():\n"
    "    assert shout('hey', 2) == 'HEY HEY'\n```"
)


def text_answer(req: RecordedRequest) -> str:
    prompt = req.messages[1]["content"]
    if "Which behaviours does the docstring" in prompt:
        return CLAIMS
    # The rule name leaves out 'A!A' (a name would drop the "!"): returns_a_string.
    if "Rewrite this test" in prompt:  # one readable rewrite; the others refused
        return REWRITTEN if "def test_shout_returns_a_string_for_a_and_2" in prompt else "no"
    assert "checks: a word of spaces gives an empty string" in prompt, prompt
    return SHOUT_TEST
