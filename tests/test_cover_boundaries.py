"""Differential exploration near a mutant's boundary: a boundary that is a constant expression
(``60 * 60 * 2``) or a number nested in an argument is not among the module's literals, so
random calls never land on it; calls that reach the mutated line are tried again on the line's
constants and their neighbours.  The pure helpers, then a real ``assay cover`` run."""

from __future__ import annotations

import re
from pathlib import Path

from agents.cover.explore import Exploration, explore_mutants
from agents.cover.explore_boundaries import line_constants, line_strings, near_calls
from agents.cover.explore_values import local_examples
from agents.cover.mutants import all_mutants
from agents.cover.mutation import function_ranges
from agents.cover.mutation_step import target_of
from flows import Sandbox
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.cover import cover


def hunt(
    root: Path,
    files: dict[str, str],
    path: str,
    lines: list[int],
    mutants: list[tuple[str, int, str]],
    seconds: float = 5.0,
) -> Exploration:
    """The differential search, in the sandbox, for ``mutants`` ((id, line, mutated source)) of
    ``path`` in a project of ``files`` at ``root``, its targets the functions holding ``lines``."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    targets = {t.qualname: t for t in (target_of(root, path, [line]) for line in lines)}
    with Sandbox(root) as sandbox:
        return explore_mutants(
            sandbox, root, list(targets.values()), mutants, seconds=seconds, pythonpath=".",
        )  # fmt: skip


PERIODS = '''\
def period(seconds):
    """A rough name for a duration in seconds."""
    if seconds < 60:
        return "seconds"
    if seconds < 60 * 60 * 2:
        return "minutes"
    return "hours"
'''
# Every line runs, every branch is taken; the boundary at two hours is never checked.
WEAK_TESTS = """\
from clock.periods import period


def test_period():
    assert period(5) == "seconds"
    assert period(600) == "minutes"
    assert period(100000) == "hours"
"""


def test_a_lines_constants_and_their_neighbours_are_the_boundaries() -> None:
    assert line_constants(["    if seconds < 60 * 60 * 2:\n"])[:3] == [7200, 7199, 7201]
    assert set(line_constants(["elif 1000 <= delta.microseconds < 1_000_000:"])) >= {
        999,
        1000,
        1001,
        999_999,
        1_000_000,
    }
    assert line_constants(["    num_months = int(days // 30.5)"])[:3] == [30.5, 30, 31]
    assert line_constants(["return name.upper()", "this is not code ("]) == []


def test_calls_near_a_boundary_move_one_number_or_one_argument() -> None:
    assert near_calls("period(600)", [7200, 7199]) == ["period(7200)", "period(7199)"]
    nested = near_calls("naturaldelta(timedelta(days=3), months=True)", [365])
    assert nested == [
        "naturaldelta(timedelta(days=3))",  # the default of ``months`` applies
        "naturaldelta(timedelta(days=365), months=True)",
    ]
    assert near_calls("name('abc', key)", [2]) == ["name(2, key)", "name('abc', 2)"]
    assert near_calls("not a call (", [1]) == []


def test_a_call_is_tried_without_each_keyword_argument_first() -> None:
    """A changed default shows only in a call that leaves its argument out."""
    assert near_calls("wrap('abc', width=2, sep='-')", []) == [
        "wrap('abc', sep='-')",
        "wrap('abc', width=2)",
        "wrap('abc')",
    ]
    assert near_calls("wrap('abc', width=2, **extra)", [])[:2] == [
        "wrap('abc', **extra)",
        "wrap('abc', width=2)",
    ]


def test_a_lines_strings_put_into_a_call_take_the_path_it_decides_on() -> None:
    """``"!=": (-1, 1),`` (an entry of a dict of operators) decides for inputs that start with
    ``!=``: a call that reached it with ``'>=1.0.0'`` is tried with ``'!=1.0.0'``."""
    entry = '            "!=": (-1, 1),'
    assert line_strings([entry]) == ["!="]
    assert line_constants([entry])[:3] == [-1, -2, 0]  # a dict's entry is read too
    assert near_calls("Version(1).match('>=1.0.0')", [], ["!="])[:2] == [
        "Version(1).match('!=')",
        "Version(1).match('!=1.0.0')",
    ]
    assert line_strings(["if text.endswith('m') and len(text) > 40 * 'x':"]) == ["m", "x"]


def test_a_boundary_no_literal_names_is_found_and_pinned(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    root = tmp_path / "clock"
    (root / "clock").mkdir(parents=True)
    (root / "clock" / "__init__.py").write_text("")
    (root / "clock" / "periods.py").write_text(PERIODS)
    (root / "tests").mkdir()
    (root / "tests" / "test_periods.py").write_text(WEAK_TESTS)
    fake_llm.on(lambda req: "I cannot help with that.")
    result, data = cover(root, fake_llm, "--mutants", "raise", "--no-rewrite")
    assert result.returncode == 0, result.stdout + result.stderr
    mutants = all_mutants(PERIODS, function_ranges(PERIODS))
    boundary = next(f"clock/periods.py:{m.line}:{n}" for n, m in enumerate(mutants)
                    if m.line == 5 and m.description.endswith("`<` → `<=`"))  # fmt: skip
    kept = data["mutation"]["tests_for_mutants"]
    assert any(boundary in ids.split(", ") for ids in kept.values()), kept
    written = (root / "tests" / "test_periods_assay.py").read_text()
    # The test pins what the original does on the boundary itself: two hours are "hours".
    assert re.search(r"period\(7200\)", written), written
    assert "'hours'" in written or '"hours"' in written, written
    after = data["mutation"]["after"]
    assert boundary not in {s["id"] for s in data["mutation"]["survivors"]}
    assert after["killed"] > data["mutation"]["before"]["killed"]


POWERS = """\
POWERS = [10**3, 10**6, 10**9]
NAMES = ["", "thousand", "million", "billion"]


def size_word(n):
    for i, power in enumerate(POWERS):
        if n < power:
            return NAMES[i]
    return NAMES[-1]
"""


def test_a_boundary_a_module_constant_holds_is_found(tmp_path: Path) -> None:
    """``if n < power`` sits on the elements of ``POWERS``: no literal shows 1000, and random
    numbers never land on it; the numbers of the constants the function names do."""
    from agents.cover.explore_boundaries import named_constants

    lines = POWERS.splitlines(keepends=True)[4:9]
    namespace = {"POWERS": [1000, 10**6, 10**9], "NAMES": ["", "thousand"], "len": len}
    assert named_constants(lines, namespace)[:6] == [1000, 999, 1001, 10**6, 10**6 - 1, 10**6 + 1]
    boundary = next(m for m in all_mutants(POWERS, function_ranges(POWERS))
                    if m.line == 7 and m.description.endswith("`<` → `<=`"))  # fmt: skip
    found = hunt(tmp_path / "proj", {"powers.py": POWERS}, "powers.py", [7],
                 [("powers.py:7:0", 7, boundary.source)])  # fmt: skip
    assert [c["kills"] for c in found.calls] == ["powers.py:7:0"], found
    assert re.fullmatch(r"size_word\((1000|1000000|1000000000)\)", found.calls[0]["expr"]), found


LABELS = '''\
def label(code, width=3):
    """The short form of a product code.

    >>> label("ZX" * 3, width=2)
    'ZX'
    """
    if code != "ZX" * 3:
        return None
    return code[:width]
'''


def test_a_changed_default_is_told_apart_by_a_call_that_leaves_it_out(tmp_path: Path) -> None:
    """The mutant ``width=3`` → ``width=4`` sits on the signature, a line no call runs; the
    one call that gets past the guard is the docstring's, which passes ``width``.  Without it,
    the default shows: ``label('ZXZXZX')`` is ``'ZXZ'``, on the mutant ``'ZXZX'``."""
    default = next(m for m in all_mutants(LABELS, function_ranges(LABELS))
                   if "default" in m.description)  # fmt: skip
    assert default.line == 1
    found = hunt(tmp_path / "proj", {"labels.py": LABELS}, "labels.py", [7, 8, 9],
                 [("labels.py:1:0", 1, default.source)])  # fmt: skip
    assert [c["kills"] for c in found.calls] == ["labels.py:1:0"], found
    assert found.calls[0]["expr"] in ("label('ZX' * 3)", "label('ZXZXZX')"), found


OPERATORS = '''\
def compare(a, b):
    """-1, 0 or 1 as version ``a`` is older than, the same as or newer than ``b``."""
    left = [int(part) for part in a.split(".")]
    right = [int(part) for part in b.split(".")]
    return (left > right) - (left < right)


def matches(version, expr):
    """Whether ``version`` meets ``expr``, an operator and a version.

    >>> versions.matches("2.0.0", ">=1.0.0")
    True
    """
    op = expr[:2] if expr[:2] in ("<=", ">=", "!=", "==") else expr[:1]
    allowed = {
        "<": (-1,),
        ">": (1,),
        ">=": (0, 1),
        "!=": (-1, 1),
    }[op]
    return compare(version, expr[len(op):]) in allowed
'''


def test_a_version_inside_a_string_is_moved_to_reach_the_other_side_of_a_comparison(
    tmp_path: Path,
) -> None:
    """``"<": (-1,)`` made ``(-2,)`` shows only on a version older than the one after ``<``.
    The docstring's example names the package (``versions.matches``), which the module itself
    does not hold: it runs as ``matches(...)``.  Its ``'>=1.0.0'`` becomes ``'<1.0.0'`` (the
    line's string), and then ``'<10.0.0'`` (a number written inside a string moved):
    ``matches('2.0.0', '<10.0.0')`` is true, and false on the mutant."""
    assert near_calls("matches('2.0.0', '<1.0.0')", [])[:4] == [
        "matches('0.0.0', '<1.0.0')",
        "matches('1.0.0', '<1.0.0')",
        "matches('3.0.0', '<1.0.0')",
        "matches('20.0.0', '<1.0.0')",
    ]
    named = ['versions.matches("2.0.0", ">=1.0.0")', "other.matches(1)", "matches('1.0.0', '<')"]
    assert local_examples(named, "versions.ops", {"matches": None}) == [
        "matches('2.0.0', '>=1.0.0')",  # the package's name, which the module does not hold
        "other.matches(1)",
        "matches('1.0.0', '<')",
    ]
    mutants = all_mutants(OPERATORS, function_ranges(OPERATORS), lines=[16])
    older = [(f"versions/ops.py:16:{n}", 16, m.source) for n, m in enumerate(mutants)]
    assert [m.description for m in mutants] == ["line 16: `'<'` → `'<X'`", "line 16: `1` → `2`"]
    files = {"versions/__init__.py": "from versions.ops import matches\n",
             "versions/ops.py": OPERATORS}  # fmt: skip
    found = hunt(tmp_path / "proj", files, "versions/ops.py", [16], older, seconds=6.0)
    assert sorted(c["kills"] for c in found.calls) == [i for i, _, _ in older], found
    older_than = next(c for c in found.calls if c["kills"] == older[1][0])
    assert re.fullmatch(r"matches\('[0-9.]+', '<[0-9.]+'\)", older_than["expr"]), older_than
    assert older_than["repr"] == "True", older_than


SCALES = '''\
import math


def prefix(value):
    """The SI prefix of ``value``: '' below a thousand, then 'k', 'M'… up to 'Q'."""
    exponent = int(math.floor(math.log10(abs(value)))) if value else 0
    if exponent >= 33:
        raise ValueError("beyond the last prefix")
    return " kMGTPEZYRQ"[max(exponent, 0) // 3].strip()
'''


def test_a_boundary_on_a_logarithm_is_found_at_the_power_it_stands_for(tmp_path: Path) -> None:
    """``exponent >= 33`` made ``> 33`` shows only on a number of 34 digits: ``prefix(33)`` is
    far off; the function takes ``log10``, so the line's numbers are tried as powers of ten."""
    from agents.cover.explore_boundaries import exponent_values

    assert exponent_values(["    e = log10(v)\n"], [3, -2, 0.5])[:4] == [1000, -1000, 0.01, -0.01]
    assert exponent_values(["    e = v.bit_length()\n"], [3]) == []  # no logarithm
    # A power goes where a quantity is (1500), never onto a count or a precision (3): a format
    # of 10**9 digits is built in C code, where no alarm stops it (humanize's hunt was cut so).
    near = near_calls("metric(1500, 'V', 3)", [2], powers=[10**9])
    assert "metric(1000000000, 'V', 3)" in near and "metric(1500, 'V', 1000000000)" not in near
    assert not [c for c in near_calls("intword(12400, '%.1f')", [10**9]) if "%.1000" in c]
    boundary = next(m for m in all_mutants(SCALES, function_ranges(SCALES))
                    if m.line == 7 and m.description.endswith("`>=` → `>`"))  # fmt: skip
    found = hunt(tmp_path / "proj", {"scales.py": SCALES}, "scales.py", [7],
                 [("scales.py:7:0", 7, boundary.source)])  # fmt: skip
    assert [c["kills"] for c in found.calls] == ["scales.py:7:0"], found
    assert found.calls[0]["expr"] == "prefix(1e+33)", found


RELEASES = '''\
class Release:
    def __init__(self, major, minor=0, tag=None):
        self.major, self.minor, self.tag = major, minor, tag

    def compatible(self, other):
        """Whether ``other`` can stand in for this release.

        >>> Release(1, 0).compatible(Release(1, 1))
        True
        """
        if 0 == self.major == other.major and self.minor != other.minor:
            return False
        return self.major == other.major and other.minor >= self.minor

    def tagged(self, token="build"):
        """This release with a build tag.

        >>> Release(3, 4).tagged().tag
        'build.1'
        """
        if token is None:
            tag = "none.1"
        else:
            tag = str(token) + ".1"
        return Release(self.major, self.minor, tag)
'''


def test_two_equal_numbers_move_together_and_a_parameter_the_line_names_is_passed() -> None:
    """``0 == self.major == other.major`` holds only when both releases are 0.x: moving one
    number at a time never gets there; ``if token is None`` decides only for a call that
    passes ``token``, which the docstring's call leaves at its default."""
    from agents.cover.explore_boundaries import conditions_over, line_parameters

    method = RELEASES.splitlines(keepends=True)[4:13]  # compatible(), lines 5-13
    assert conditions_over(method, 5, 12) == [
        "if 0 == self.major == other.major and self.minor != other.minor:"
    ]  # what decides whether ``return False`` runs: its boundary
    assert conditions_over(method, 5, 13) == []

    near = near_calls("Release(1, 0).compatible(Release(1, 1))", [0, -1, 1])
    assert near.index("Release(0, 0).compatible(Release(0, 1))") > near.index(
        "Release(0, 0).compatible(Release(1, 1))"
    ), near  # the single numbers first, then the pairs
    # All numbers at once: ``minor == patch == 0`` holds for no call that moves one of them.
    assert "Release(0, 0).compatible(Release(0, 0))" in near_calls(
        "Release(3, 4).compatible(Release(3, 5))", [0]
    )
    moved = near_calls("parse('3.4.5-rc.2').next('major')", [])
    assert "parse('0.0.0-rc.0').next('major')" in moved
    # A line inside a condition written over several lines reads as the whole condition.
    condition = [
        "def next(v, part):\n",
        "    if v.pre and (\n",
        "        part == 'major' and v.minor == v.patch == 0\n",
        "    ):\n",
        "        return v\n",
    ]
    whole = "if v.pre and ( part == 'major' and v.minor == v.patch == 0 ):"
    assert conditions_over(condition, 10, 12) == [whole] == conditions_over(condition, 10, 14)
    assert line_constants([whole])[:1] == [0] and line_strings([whole]) == ["major"]
    line = ["        if token is None:\n"]
    assert line_parameters(line, ["self", "token"]) == [("token", 0)]
    assert line_parameters(line, ["tagger", "token"]) == [("token", 1)]  # a function's
    assert line_parameters(["        x = 1\n"], ["self", "token"]) == []
    assert near_calls("Release(3).tagged()", [], ["v"], params=[("token", 0)])[:2] == [
        "Release(3).tagged(token='v')",
        "Release(3).tagged(token=None)",
    ]
    assert near_calls("Release(3).tagged('x')", [], [], params=[("token", 0)]) == [
        "Release(3).tagged(None)"
    ]


def test_the_hunt_finds_the_calls_a_person_writes_for_a_0x_release_and_a_missing_token(
    tmp_path: Path,
) -> None:
    """The branch only two 0.x releases take, and the one only ``token=None`` takes, are each
    told apart by the docstring's own call made so: the kept calls are those (and a keyword
    argument in code is not taken for a credential on the way out of the sandbox)."""
    every = all_mutants(RELEASES, function_ranges(RELEASES))
    wanted = [m for m in every if m.kind == "branch" and m.line in (12, 22)]
    assert [m.line for m in wanted] == [12, 22], [m.description for m in every]
    mutants = [(f"releases.py:{m.line}:{n}", m.line, m.source) for n, m in enumerate(wanted)]
    found = hunt(tmp_path / "proj", {"releases.py": RELEASES}, "releases.py", [12, 22], mutants)
    kept = {c["kills"]: c["expr"] for c in found.calls}
    assert kept == {
        "releases.py:12:0": "Release(0, 0).compatible(Release(0, 1))",
        "releases.py:22:1": "Release(0).tagged(token=None)",
    }, found
