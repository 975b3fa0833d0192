"""How exploration builds the calls a person would write, and what it checks of them: a
command-line program through its command lines, the values of its package's examples, keyword
arguments for ``**kwargs``, chains without their empty links; what a call prints."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from agents.cover.explore import Exploration, explore, package_literals, render_tests
from agents.cover.explore_shrink import Shrinking
from agents.cover.explore_stdlib import builtin_values, stdlib_values
from agents.cover.explore_values import Values
from agents.cover.mutation_step import target_of
from flows import Sandbox
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.cover import cover

CONV_CORE = '''\
def seconds(text):
    """Seconds in a duration: ``'90'`` or ``'2m'``.

    >>> seconds('90')
    >>> seconds('2m')
    """
    if text.endswith("m"):
        return int(text[:-1]) * 60
    return int(text)
'''

CONV_CLI = """\
import argparse

from .core import seconds


def createparser():
    parser = argparse.ArgumentParser(prog="conv")
    sub = parser.add_subparsers(dest="command")
    to = sub.add_parser("to")
    to.add_argument("unit", choices=["s", "h"])
    to.add_argument("duration")
    return parser


def cmd_to(args):
    total = seconds(args.duration)
    if args.unit == "h":
        return total / 3600
    return total


def main(argv=None):
    args = createparser().parse_args(argv)
    if args.command != "to":
        return 2
    print(cmd_to(args))
    return 0
"""


def test_a_command_line_program_is_explored_through_the_command_lines_it_accepts(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """Random values do not make a command line: the parser ``createparser()`` returns says
    what the program takes (a subcommand, a unit among its choices, a duration), and whole
    command lines reach ``main`` (and, parsed, ``cmd_to``)."""
    repo = tmp_path / "proj"
    (repo / "conv").mkdir(parents=True)
    (repo / "conv" / "__init__.py").write_text("")
    (repo / "conv" / "core.py").write_text(CONV_CORE)
    (repo / "conv" / "cli.py").write_text(CONV_CLI)
    fake_llm.on(lambda req: "I cannot help with that.")
    result, data = cover(repo, fake_llm, "--explore-seconds", "30", "--no-rewrite", "--mutants",
                         "off", "--files", "conv/cli.py")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    written = repo / "tests" / "test_cli_assay.py"
    assert written.exists(), result.stdout + result.stderr
    text = written.read_text()
    line = r"\['to', '[sh]', '[^']+'\]"
    assert re.search(rf"cmd_to\(createparser\(\)\.parse_args\({line}\)\)", text), text
    # What the program prints is what its user sees: checked, and named after.
    printed = (
        rf"def test_main_prints_\w+\(capsys\):\n    result = main\(argv={line}\)\n"
        r"    assert result == 0\n    captured = capsys.readouterr\(\)\n"
        r"    assert captured.out == '[-0-9.e]+\\n'\n"
    )
    assert re.search(printed, text), text
    assert data["coverage"]["files"]["conv/cli.py"]["after"]["line"] == 100.0, text


def test_the_examples_of_the_modules_a_file_imports_are_its_values_too(tmp_path: Path) -> None:
    """``cli.py`` shows no duration, but ``from .core import seconds`` does: its examples'
    values (``'90'``, ``'2m'``) are the words a command line is made of."""
    (tmp_path / "conv").mkdir()
    (tmp_path / "conv" / "__init__.py").write_text("")
    (tmp_path / "conv" / "core.py").write_text(CONV_CORE)
    (tmp_path / "conv" / "cli.py").write_text(CONV_CLI)
    target = target_of(tmp_path, "conv/cli.py", [20])
    assert package_literals(tmp_path, target, CONV_CLI) == ["'90'", "'2m'"]
    # Absolute imports of its own package count too; another package's do not.
    absolute = CONV_CLI.replace("from .core", "from conv.core") + "from argparse import Action\n"
    assert package_literals(tmp_path, target, absolute) == ["'90'", "'2m'"]
    assert package_literals(tmp_path, target, "import argparse\n") == []


def _explored(tmp_path: Path, name: str, source: str, targets: list[list[int]]) -> Exploration:
    """What ten seconds of exploration keep of ``source`` (written as ``name`` in a project),
    one target per list of lines."""
    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / name).write_text(source)
    with Sandbox(repo) as sandbox:
        found = [target_of(repo, name, lines) for lines in targets]
        return explore(sandbox, repo, found, seconds=10, pythonpath=".")


PRINTS = """\
import sys
import time


def greet(name):
    print("hello", name)
    print("greeted", file=sys.stderr)
    return len(name)


def timed(n):
    print("took", time.perf_counter())
    return n * 2
"""


def test_what_a_call_prints_is_checked_when_it_prints_the_same_every_time(tmp_path: Path) -> None:
    found = _explored(tmp_path, "prints.py", PRINTS, [[5, 6, 7], [11, 12]])
    calls = {c["target"]: c for c in found.calls}
    assert set(calls) == {"greet", "timed"}, found
    printed = calls["greet"]["printed"]
    assert printed["out"].startswith("hello ") and printed["err"] == "greeted\n", calls["greet"]
    # A clock in the output: the output is not checked, the value still is.
    assert "printed" not in calls["timed"] and calls["timed"]["stable"], calls["timed"]
    code = render_tests([calls["greet"]], "prints")
    assert code is not None and "(capsys):" in code, code
    assert "    assert captured.err == 'greeted\\n'\n" in code, code


BOX = """\
class Box:
    def __init__(self, width=1, height=1):
        self.width = width
        self.height = height

    def replace(self, **parts):
        if not parts:
            raise ValueError("nothing to replace")
        unknown = set(parts) - {"width", "height"}
        if unknown:
            raise TypeError("unknown part(s): " + ", ".join(sorted(unknown)))
        return Box(**{**vars(self), **parts})
"""


def test_a_kwargs_parameter_gets_keyword_arguments(tmp_path: Path) -> None:
    """``replace(**parts)`` is called with the names the module's strings say (``width=…``),
    the only way to its last line, and with one it cannot know, which it refuses on purpose."""
    found = _explored(tmp_path, "box.py", BOX, [list(range(7, 13))])
    exprs = [c["expr"] for c in found.calls]
    assert any(re.search(r"\.replace\((width|height)=", e) for e in exprs), exprs
    refused = [c for c in found.calls if c.get("raises") == "TypeError"]
    assert refused and refused[0]["message"].startswith("unknown part(s): "), found.calls


SPANS = """\
from __future__ import annotations

import datetime as dt


def span(delta: dt.timedelta | float) -> str:
    if not isinstance(delta, dt.timedelta):
        delta = dt.timedelta(seconds=int(delta))
    if delta.days:
        return f"{delta.days} days"
    if 1000 <= delta.microseconds < 1_000_000 and not delta.seconds:
        return f"{delta.microseconds // 1000} ms"
    return f"{delta.seconds} s"


def when(day: dt.date) -> str:
    today = dt.date.today()
    if day == today:
        return "today"
    if day == today - dt.timedelta(days=1):
        return "yesterday"
    return day.isoformat()


def ago(when: dt.datetime) -> str:
    days = (dt.datetime.now() - when).days
    return "recently" if days < 1 else f"{days} days ago"
"""


def test_a_module_about_dates_is_called_with_dates_written_its_way(tmp_path: Path) -> None:
    """No literal of ``spans.py`` is a duration or a date: the pool gets values of the
    standard library's types the module names, in its own spelling (``dt.timedelta(…)``), and
    dates relative to today; the tests import ``datetime`` the way the module does, and pass.
    What a call says of a fixed date against today is checked only as far as it holds on
    another day."""
    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "spans.py").write_text(SPANS)
    with Sandbox(repo) as sandbox:
        targets = [target_of(repo, "spans.py", list(range(7, 14))),
                   target_of(repo, "spans.py", list(range(17, 23))),
                   target_of(repo, "spans.py", [26, 27])]  # fmt: skip
        found = explore(sandbox, repo, targets, seconds=15, pythonpath=".")
    code = render_tests(found.calls, "spans")
    assert code is not None, found
    assert code.startswith("import datetime as dt\n\nfrom spans import ago, span, when\n"), code
    assert re.search(r"span\(dt\.timedelta\((micro|milli)seconds=\d+\)\)", code), code
    assert "result = when(dt.date.today())\n    assert result == 'today'\n" in code, code
    assert "when(dt.date.today() - dt.timedelta(days=1))" in code, code
    # '9468 days ago' today, '9469 days ago' tomorrow: run on another day, not checked.
    assert "ago(dt.datetime(" in code, code
    assert not re.search(r"== '\d+ days ago'", code), code
    (repo / "test_spans.py").write_text(code)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                         cwd=repo, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


AGES = """\
import datetime as dt


def age(delta: dt.timedelta) -> str:
    years, days = divmod(delta.days, 365)
    months = int(days // 30.5)
    if years == 0:
        if months < 2:
            return "weeks"
        return f"{months} months"
    if years == 1:
        if not months:
            return f"1 year, {days} days"
        if months == 1:
            return "1 year, 1 month"
        return f"1 year, {months} months"
    return f"{years} years"
"""


def test_durations_of_every_scale_reach_a_modules_months_and_years(tmp_path: Path) -> None:
    """A duration of some months, a year and some days, a year and some months, two years:
    each branch of ``age`` wants one of a scale none of the module's literals shows."""
    found = _explored(tmp_path, "ages.py", AGES, [list(range(5, 18))])
    shown = {c.get("repr") for c in found.calls}
    assert {"'1 year, 1 month'", "'weeks'"} <= shown, shown
    assert any(re.fullmatch(r"'1 year, \d+ days'", str(r)) for r in shown), shown
    assert any(re.fullmatch(r"'1 year, [2-9]\d* months'", str(r)) for r in shown), shown
    assert any(re.fullmatch(r"'([2-9]|1[01]) months'", str(r)) for r in shown), shown


UNITS = """\
from __future__ import annotations

from typing import Iterable

UNITS = ("days", "hours", "minutes")


def keep(units: Iterable[str] | None = None) -> str:
    \"\"\"The units left when ``units`` are suppressed.\"\"\"
    left = list(UNITS)
    for unit in units or ():
        if unit not in UNITS:
            raise ValueError(f"unknown unit: {unit}")
        left.remove(unit)
    return ", ".join(left)
"""


def test_a_collection_of_strings_gets_the_modules_names_not_letters(tmp_path: Path) -> None:
    """``units: Iterable[str] | None`` takes names: a string is read letter by letter and
    refused; only a list of the module's words (``['days']``) reaches ``left.remove(unit)``."""
    found = _explored(tmp_path, "units.py", UNITS, [list(range(10, 16))])
    named = r"keep\((units=)?\[('(days|hours|minutes)'(, )?)+\]\)"
    kept = [c for c in found.calls if re.fullmatch(named, c["expr"]) and "repr" in c]
    assert kept, [c["expr"] for c in found.calls]
    assert set(ast.literal_eval(kept[0]["repr"]).split(", ")) < {"days", "hours", "minutes"}


def test_a_union_written_with_a_bar_is_a_union() -> None:
    """``dt.timedelta | float`` (PEP 604, what ``from __future__ import annotations`` code
    writes) gives its kinds, as ``Optional[int]`` does."""
    import datetime as dt

    values = Values()
    values.ns = {"dt": dt}
    assert values._kinds("dt.timedelta | float") == [dt.timedelta, float, int]
    assert values._kinds("int | None") == [int, type(None)]


def test_a_module_that_asks_isinf_gets_infinities() -> None:
    """``if math.isinf(value) and value > 0:`` is reached by no literal: the pool gets the
    values that answer yes (and NaN) when the module uses ``math``, and only then."""
    import math

    wanted = {"float('inf')", "float('-inf')", "float('nan')"}
    assert {text for _, text in stdlib_values({"math": math})} == wanted
    assert {text for _, text in stdlib_values({"isinf": math.isinf})} == wanted
    assert stdlib_values({"floor": round}) == []


EXCLUDED = """\
def excluded_count(excluded):
    if type(excluded) not in (set, frozenset):
        raise TypeError("excluded must be a set")
    return len(excluded)
"""


def test_a_module_that_names_sets_is_called_with_sets(tmp_path: Path) -> None:
    """No literal writes a set (``{}`` is a dict): a module whose code names ``set`` gets a few
    (boltons' ``_ComplementSet(excluded=…)`` asserts it is given one), and only such a module."""
    found = _explored(tmp_path, "excluded.py", EXCLUDED, [[2, 3, 4]])
    returned = [c for c in found.calls if "raises" not in c and c["target"] == "excluded_count"]
    assert returned and all(re.fullmatch(r"excluded_count\((\{[^:]*\}|(frozen)?set\(.*\))\)",
                                         c["expr"]) for c in returned), returned  # fmt: skip
    assert any(4 in c["lines"] for c in returned)  # the line only a set reaches
    assert builtin_values("def f(x):\n    return sorted(x)\n") == []
    assert builtin_values('"""Set the values."""\n\n\ndef f(x):\n    return x  # a set\n') == []


def test_shrinking_leaves_out_the_empty_links_of_a_chain() -> None:
    """``Version(0).replace().bump_minor().replace(other=0)`` reads like a search's output;
    what it needs is ``Version(0).replace(other=0)``."""
    simpler = Shrinking()._shrink(
        "Version(0).replace().bump_minor().replace(other=0)",
        lambda expr: expr.endswith(".replace(other=0)"),
    )
    assert simpler == "Version(0).replace(other=0)"


def test_shrinking_puts_in_values_of_the_kind_a_parameter_takes() -> None:
    """A flag stays a flag (``parse('', strict=0)`` is not a call a person writes), a string
    a string (``label(name=0)`` neither), a number a number."""

    def parse(text: str, strict: bool = False) -> str:
        return text

    def scale(n: int, by=2.5):
        return n * by

    def label(name: str | None) -> str:
        return str(name)

    class Explorer(Values, Shrinking):
        pass

    explorer = Explorer()
    explorer.ns = {"parse": parse, "scale": scale, "label": label}
    shrink = explorer._shrink
    assert shrink("parse('1.2.3', strict=True)", lambda e: "strict=" in e) == (
        "parse('', strict=True)"
    )
    assert shrink("scale(True, by=7.5)", lambda e: "by=" in e) == "scale(0, by=0)"
    assert shrink("label(name='Hello World')", lambda e: "name=" in e) == "label(name='')"
    # An operation that changes nothing the call needs is left out.
    assert shrink("label(now() - timedelta(seconds=30))", lambda e: "now()" in e) == (
        "label(now())"
    )
    # A function it cannot name without running code: any simpler value, as before.
    assert shrink("Version(10).parse('abc', strict=True)", lambda e: "strict" in e) == (
        "Version(0).parse(0, strict=0)"
    )


def test_a_typed_parameter_never_gets_a_function() -> None:
    """``when: dt.datetime | None`` takes a date, None, or now and then a value of another
    kind (what a defensive branch wants), never ``lambda *a, **k: False``: a test passing a
    function where the annotation says a date is one nobody keeps.  An unannotated one may."""
    import datetime as dt
    import inspect
    import random

    values = Values()
    values.ns, values.rng, values.strings = {"dt": dt}, random.Random(5), ["soon"]
    values.pool, values.seeds = {}, {}
    values.callables = ["lambda x: x"]
    for kind, expr in [(dt.datetime, "dt.datetime(2000, 1, 1)"), (int, "3"), (str, "'soon'")]:
        values._add(kind, expr, seed=True)
    typed = [values._value("dt.datetime | None", "when") for _ in range(3000)]
    assert "lambda x: x" not in typed
    assert {"dt.datetime(2000, 1, 1)", "None", "3"} <= set(typed), set(typed)
    anything = [values._value(inspect.Parameter.empty, "when") for _ in range(3000)]
    assert "lambda x: x" in anything


def test_a_parameter_that_counts_digits_never_gets_a_huge_number() -> None:
    """``intword("1200000000")``'s number is in the pool; as ``ndigits`` it would make
    ``"{0:.{1}f}".format(value, ndigits)`` build a string of a gigabyte in C code, where no
    alarm stops the call.  A counting parameter gets small numbers; another may get it."""
    import random

    values = Values()
    values.ns, values.rng, values.strings = {}, random.Random(3), []
    values.pool, values.seeds, values.callables = {}, {}, []
    for expr in ("1200000000", "3", "-1"):
        values._add(int, expr, seed=True)
    counted = {values._value("int", "ndigits") for _ in range(500)}
    assert "1200000000" not in counted and {"3", "-1"} <= counted, counted
    assert "1200000000" in {values._value("int", "value") for _ in range(500)}
