"""The pure parts of the cover agent: targets, context, candidates, mutants, oracles, merging."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agents.cover.candidate import Candidate, Rejection, check_static, extract_code, keep_tests
from agents.cover.context import MISSED, build_context
from agents.cover.mutants import mutants_for
from agents.cover.oracle import GUARD_FILE, GUARD_SOURCE, instrument, observed_values, repair
from agents.cover.targets import (
    Target,
    find_targets,
    is_test_file,
    module_of,
    source_files,
)
from agents.cover.writer import check_writable, merge_tests, write_atomic
from agents.errors import AssayError, InputError
from agents.gitdiff import changed_lines
from flows.coverage_data import CoverageReport, FileCoverage

PRICING = '''\
"""Pricing."""
import math

LIMIT = 100


def discount(price, percent):
    """Price after a discount."""
    if percent < 0 or percent > LIMIT:
        raise ValueError("bad percent")
    return round(price * (100 - percent) / 100, 2)


class Cart:
    currency = "EUR"

    def __init__(self, owner):
        self.owner = owner
        self.items = []

    def add(self, price):
        if price <= 0:
            return False
        self.items.append(price)
        return True
'''


def file_cov(
    path: str, executed: list[int], missing: list[int], branches_missing: tuple = ()
) -> FileCoverage:
    return FileCoverage(
        path=path,
        executed_lines=tuple(executed),
        missing_lines=tuple(missing),
        excluded_lines=(),
        executed_branches=(),
        missing_branches=tuple(branches_missing),
        num_statements=len(executed) + len(missing),
        num_branches=4,
        percent=50.0,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "pricing.py").write_text(PRICING)
    return tmp_path


def test_module_names_for_flat_src_and_plain_directories(tmp_path: Path) -> None:
    for d in ("pkg/sub", "src/lib"):
        (tmp_path / d).mkdir(parents=True)
    for f in ("pkg/__init__.py", "pkg/sub/__init__.py", "src/lib/__init__.py"):
        (tmp_path / f).write_text("")
    assert module_of(tmp_path, "pkg/sub/mod.py") == ("pkg.sub.mod", "")
    assert module_of(tmp_path, "src/lib/core.py") == ("lib.core", "src")
    assert module_of(tmp_path, "scripts/tool.py") == ("tool", "scripts")
    assert module_of(tmp_path, "pkg/__init__.py") == ("pkg", "")


def test_source_files_skip_tests_and_apply_globs() -> None:
    files = ["a/x.py", "tests/test_x.py", "a/test_y.py", "a/y_test.py", "conftest.py", "setup.py"]
    files += ["README.md", "a/b/z.py"]
    assert source_files(files) == ["a/b/z.py", "a/x.py"]
    assert source_files(files, include=["a/b/*"]) == ["a/b/z.py"]
    assert source_files(files, exclude=["z.py"]) == ["a/x.py"]
    assert is_test_file("tests/helpers/data.py")


def test_targets_map_missed_lines_and_branches_to_functions(project: Path) -> None:
    cov = file_cov(
        "shop/pricing.py",
        executed=[1, 2, 4, 7, 9, 11, 14, 15, 17, 21],
        missing=[10, 18, 19, 22, 23, 24, 25],
        branches_missing=[(9, 10), (22, 23)],
    )
    report = CoverageReport(files={"shop/pricing.py": cov})
    scan = find_targets(project, report, ["shop/pricing.py"])
    by_name = {t.qualname: t for t in scan.targets}
    assert set(by_name) == {"discount", "Cart.__init__", "Cart.add"}
    assert by_name["discount"].missing_lines == (10,)
    assert by_name["discount"].missing_branches == ((9, 10),)
    assert by_name["Cart.add"].missing_lines == (22, 23, 24, 25)
    assert by_name["Cart.add"].import_name == "Cart"
    assert scan.targets[0].qualname == "Cart.add"  # the most to gain first
    changed = find_targets(project, report, ["shop/pricing.py"], changed={"shop/pricing.py": {10}})
    assert [t.qualname for t in changed.targets] == ["discount"]


def test_public_functions_come_before_private_helpers_whatever_their_gain(
    project: Path,
) -> None:
    (project / "shop" / "codes.py").write_text(
        "def _helper(x):\n    a = x\n    b = a\n    c = b\n    return c\n\n\n"
        "class __Hidden:\n    def __init__(self):\n        self.x = 1\n        self.y = 2\n\n\n"
        "def encode(x):\n    return _helper(x)\n\n\n"
        "class Box:\n    def __eq__(self, other):\n        return True\n"
    )
    cov = file_cov(
        "shop/codes.py", executed=[1, 8, 9, 14, 18, 19], missing=[2, 3, 4, 5, 10, 11, 15, 20]
    )
    scan = find_targets(project, CoverageReport(files={"shop/codes.py": cov}), ["shop/codes.py"])
    order = [t.qualname for t in scan.targets]
    assert order == ["encode", "Box.__eq__", "_helper", "__Hidden.__init__"]


def test_a_file_with_a_syntax_error_is_skipped_and_reported(project: Path) -> None:
    (project / "shop" / "broken.py").write_text("def f(:\n    pass\n")
    scan = find_targets(project, CoverageReport(), ["shop/broken.py"])
    assert scan.targets == []
    assert scan.skipped[0][0] == "shop/broken.py"
    assert "syntax error at line 1" in scan.skipped[0][1]


def test_context_marks_missed_lines_and_shows_the_class_header(project: Path) -> None:
    missed_branch = ((22, 23),)
    target = Target(
        "shop/pricing.py", "shop.pricing", "", "Cart.add", 21, 25, (22, 23), missed_branch
    )
    ctx = build_context(project, target)
    assert "from shop.pricing import Cart" in ctx.header
    assert "class Cart:" in ctx.code and "currency" in ctx.code
    assert "def __init__(self, owner):" in ctx.code
    marked = [line for line in ctx.code.splitlines() if MISSED in line]
    assert [line.split("|")[0].strip() for line in marked] == ["22", "23"]
    assert "import math" in ctx.code
    assert "discount" not in ctx.code  # not used by the target: not shown
    fn = Target("shop/pricing.py", "shop.pricing", "", "discount", 7, 11, (10,), ())
    assert "LIMIT = 100" in build_context(project, fn).code


def test_extract_code_takes_the_python_block_and_restores_our_imports() -> None:
    header = "import pytest\nfrom shop.pricing import discount\n"
    reply = "Here:\n```python\ndef test_d():\n    assert discount(10, 0) == 10\n```\nDone."
    code = extract_code(reply, header)
    assert code is not None
    assert code.startswith("import pytest\nfrom shop.pricing import discount\ndef test_d")
    # A model that only continued our "def test_" line.
    cont = extract_code("discount_zero():\n    assert discount(1, 0) == 1\n", header)
    assert cont is not None and "def test_discount_zero():" in cont
    assert extract_code("", header) is None


def target_discount() -> Target:
    return Target("shop/pricing.py", "shop.pricing", "", "discount", 7, 11, (10,), ())


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("def test_x(:\n    pass\n", "syntax"),
        ("from shop.pricing import discount\n\nx = discount(1, 2)\n", "no-test"),
        (
            "def discount(p, q):\n    return p\n\ndef test_x():\n    assert discount(1, 2) == 1\n",
            "redefines",
        ),
        ("from pricing import discount\n\ndef test_x():\n    discount(1, 2)\n", "no-import"),
    ],
)
def test_static_gates(code: str, reason: str) -> None:
    result = check_static(code, target_discount())
    assert isinstance(result, Rejection)
    assert result.reason == reason


def test_static_gate_accepts_module_imports() -> None:
    code = "import shop.pricing\n\ndef test_x():\n    assert shop.pricing.discount(1, 0) == 1\n"
    assert isinstance(check_static(code, target_discount()), Candidate)
    code = "from shop import pricing\n\ndef test_x():\n    assert pricing.discount(1, 0) == 1\n"
    assert isinstance(check_static(code, target_discount()), Candidate)


def test_keep_tests_drops_the_failing_ones() -> None:
    code = "import x\n\n\ndef test_a():\n    pass\n\n\ndef test_b():\n    pass\n"
    code += "\n\nclass TestC:\n    def test_c(self):\n        pass\n"
    kept = keep_tests(code, {"test_b"})
    assert "def test_b" in kept and "def test_a" not in kept and "TestC" not in kept
    ast.parse(kept)


def test_mutants_change_behaviour_in_the_range_only(project: Path) -> None:
    source = PRICING
    mutants = mutants_for(source, 7, 11, limit=20)
    kinds = {m.kind for m in mutants}
    assert {"comparison", "condition", "boolean", "arithmetic", "constant"} <= kinds
    assert all(7 <= m.line <= 11 for m in mutants)
    for m in mutants:
        assert m.source != ast.unparse(ast.parse(source))
        ast.parse(m.source)
    # Docstrings are not mutated, and only executed lines are used when given.
    assert all(m.line != 8 for m in mutants)
    assert {m.line for m in mutants_for(source, 7, 11, lines={11})} == {11}


def test_a_mutant_really_changes_what_the_function_does(tmp_path: Path) -> None:
    mutants = mutants_for(PRICING, 7, 11, lines={9}, limit=1)
    namespace: dict[str, object] = {}
    exec(compile(mutants[0].source, "m", "exec"), namespace)
    with pytest.raises(ValueError):
        namespace["discount"](10, 50)  # type: ignore[operator]


def test_observed_oracles_fix_wrong_expected_values(tmp_path: Path) -> None:
    calc = "def half(x):\n    return x / 2\n\ndef name():\n    return 'é'\n"
    (tmp_path / "calc.py").write_text(calc)
    code = (
        "from calc import half, name\n\n\ndef test_half():\n"
        "    assert half(3) == 1\n    assert half(4) == 2\n    assert name() == 'e'\n"
    )
    instrumented = instrument(code)
    assert instrumented is not None and "assert half(3)" not in instrumented
    (tmp_path / GUARD_FILE).write_text(GUARD_SOURCE)  # without it every value counts as tainted
    run = subprocess.run(
        [sys.executable, "-c", instrumented + "\ntest_half()\n"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    fixed, changes = repair(code, observed_values(run.stdout))
    assert "assert half(3) == pytest.approx(1.5)" in fixed
    assert "assert half(4) == 2\n" in fixed  # right already: untouched
    assert "assert name() == 'é'" in fixed
    assert fixed.startswith("import pytest\n")
    assert [(c.old, c.new, c.value) for c in changes] == [
        ("1", "pytest.approx(1.5)", "1.5"),
        ("'e'", "'é'", "'é'"),
    ]


def test_merge_adds_missing_imports_and_renames_clashes() -> None:
    existing = '"""Old tests."""\nimport pytest\nfrom shop.pricing import discount\n\n\n'
    existing += "def test_zero():\n    assert discount(1, 0) == 1\n"
    addition = (
        "from __future__ import annotations\nimport pytest\n"
        "from shop.pricing import discount, LIMIT\n\n\ndef test_zero():\n"
        "    assert discount(2, 0) == 2\n\n\ndef test_limit():\n    assert LIMIT == 100\n"
    )
    merged = merge_tests(existing, addition)
    tree = ast.parse(merged)
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert names == ["test_zero", "test_zero_2", "test_limit"]
    assert merged.splitlines()[1] == "from __future__ import annotations"
    assert merged.count("import pytest") == 1
    assert "from shop.pricing import LIMIT" in merged
    assert merged.startswith('"""Old tests."""')


def test_merge_into_a_new_file_gets_a_docstring() -> None:
    merged = merge_tests("", "import pytest\n\n\ndef test_a():\n    pass\n", docstring="Made.")
    assert merged.startswith('"""Made."""\nimport pytest\n')
    ast.parse(merged)


def test_writes_are_atomic_and_only_to_test_files(tmp_path: Path) -> None:
    target = check_writable(tmp_path, "tests/test_new.py")
    write_atomic(target, "x = 1\n")
    assert target.read_text() == "x = 1\n"
    assert [p.name for p in target.parent.iterdir()] == ["test_new.py"]  # no temp file left
    with pytest.raises(AssayError, match="not a test file"):
        check_writable(tmp_path, "shop/pricing.py")
    with pytest.raises(AssayError):
        check_writable(tmp_path, "../tests/test_x.py")


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_changed_lines_since_a_ref(project: Path) -> None:
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-qm", "base")
    text = (project / "shop" / "pricing.py").read_text().replace("return True", "return 1")
    (project / "shop" / "pricing.py").write_text(text)
    (project / "shop" / "new.py").write_text("A = 1\nB = 2\n")
    changed = changed_lines(project, "HEAD")
    assert changed["shop/pricing.py"] == {25}
    assert changed["shop/new.py"] == {1, 2}
    with pytest.raises(InputError, match="not a commit"):
        changed_lines(project, "no-such-branch")


def test_observed_oracles_fix_is_and_truth_asserts(tmp_path: Path) -> None:
    (tmp_path / "box.py").write_text(
        "class Box:\n    def __init__(self):\n        self.item = 'x'\n"
        "    def empty(self):\n        return False\n    def full(self):\n        return True\n"
    )
    code = (
        "from box import Box\n\n\ndef test_box():\n    b = Box()\n    assert b.item is None\n"
        "    assert b.empty()\n    assert not b.full()\n    assert b.full()\n"
    )
    instrumented = instrument(code)
    assert instrumented is not None
    (tmp_path / GUARD_FILE).write_text(GUARD_SOURCE)
    run = subprocess.run(
        [sys.executable, "-c", instrumented + "\ntest_box()\n"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    fixed, changes = repair(code, observed_values(run.stdout))
    assert "    assert b.item == 'x'\n" in fixed
    assert "    assert not b.empty()\n" in fixed
    assert "    assert b.full()\n    assert b.full()\n" in fixed
    assert len(changes) == 3


def test_answer_complete_hangs_up_after_one_test() -> None:
    from agents.cover.candidate import answer_complete

    one = "```python\nimport pytest\nfrom m import f\n\n\ndef test_f():\n    assert f(1) == 2\n"
    assert not answer_complete(one)
    assert not answer_complete(one + "\n\ndef test_g():\n")
    assert answer_complete(one + "\n\ndef test_g():\n", max_tests=1)
    assert answer_complete(one + "```\n")
    assert answer_complete(one + "print('done')\n")
    loop = one + "    assert f(2) == 3  # again\n" * 4
    assert answer_complete(loop)
    assert not answer_complete(one + "    assert f(2) == 3  # again\n" * 3)


def test_missing_imports_come_from_where_the_code_under_test_gets_them(tmp_path: Path) -> None:
    from agents.cover.candidate import add_missing_imports, hints_for

    pkg = tmp_path / "monads"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "maybe.py").write_text(
        "import functools\n\n\nclass Maybe:\n    def to_either(self):\n"
        "        from monads.either import Right\n        return Right(1)\n\n"
        "    def to_box(self):\n        from .box import Box as B\n        return B(1)\n"
    )
    (pkg / "either.py").write_text("class Left:\n    pass\n\n\nclass Right:\n    pass\n")
    (pkg / "box.py").write_text("class Box:\n    pass\n")
    (pkg / "lazy.py").write_text("class Lazy:\n    pass\n\n\ndef _private():\n    pass\n")
    hints = hints_for(tmp_path, "monads/maybe.py", "monads.maybe")
    test = (
        "def test_convert():\n    m = Maybe()\n    assert isinstance(m.to_either(), Right)\n"
        "    assert Left and Lazy and B and math.pi and Mock and functools and Unknown\n"
    )
    code = add_missing_imports(test, "monads.maybe", hints)
    header = code.split("def test_convert")[0]
    assert "from monads.maybe import Maybe\n" in header  # the module's own names
    assert "import functools\n" in header  # the module's imports, as it makes them
    assert "from monads.either import Left, Right\n" in header  # lazy import + sibling
    assert "from monads.box import Box as B\n" in header  # relative import made absolute
    assert "from monads.lazy import Lazy\n" in header  # only a sibling defines it
    assert "import math\n" in header and "from unittest.mock import Mock\n" in header
    assert "Unknown" not in header and "_private" not in header
    ast.parse(code)


def test_a_repeated_test_name_gets_a_suffix_instead_of_replacing_the_first() -> None:
    from agents.cover.candidate import rename_duplicate_tests, test_names

    code = (
        "def test_x():\n    assert f(1) == 1\n\n\ndef test_x():\n    assert f(2) == 2\n\n\n"
        "def test_x_2():\n    assert f(3) == 3\n\n\ndef test_x():  # again\n    assert f(4)\n"
    )
    renamed = rename_duplicate_tests(code)
    assert test_names(ast.parse(renamed)) == ("test_x", "test_x_3", "test_x_2", "test_x_4")
    assert "assert f(2) == 2" in renamed.split("def test_x_3():")[1].split("def")[0]
    assert rename_duplicate_tests("def test_y(:\n") == "def test_y(:\n"  # unparsable: as is


def test_observed_checks_assert_what_a_test_computed() -> None:
    from agents.cover.oracle import add_observed_checks, observe_locals, observed_values

    code = (
        "from m import E, f\n\n\ndef test_a():\n    err = E(42)\n    n = f(1.5)\n"
        "    s = f('x')\n    k = 3\n\n\ndef test_other():\n    obj = f(None)\n"
    )
    probe = observe_locals(code, {"test_a", "test_other"})
    assert probe is not None and "_assay_observe('r:test_a:err', err)" in probe
    assert "k)" not in probe  # a literal is not worth observing
    ast.parse(probe)
    output = "\n".join(
        "ASSAY_OBSERVED " + json.dumps({"key": k, "repr": v, "outside": False})
        for k, v in {
            "r:test_a:err": "E('Expected str, received int')",
            "s:test_a:err": "'Expected str, received int'",
            "r:test_a:n": "2.25",
            "r:test_a:s": "'xx'",
            "r:test_other:obj": "<m.Thing object at 0x7f00aa>",
            "s:test_other:obj": "'<m.Thing object at 0x7f00aa>'",
        }.items()
    )
    checked, added = add_observed_checks(code, observed_values(output), {"test_a", "test_other"})
    assert added == 3
    assert "    assert repr(err) == \"E('Expected str, received int')\"\n" in checked
    assert "    assert n == pytest.approx(2.25)\n" in checked and "import pytest" in checked
    assert "    assert s == 'xx'\n" in checked
    assert "obj ==" not in checked and "repr(obj)" not in checked  # an address is no check
    ast.parse(checked)


def test_cut_at_failures_keeps_what_ran_before_the_failing_statement() -> None:
    from agents.cover.candidate import cut_at_failures

    code = (
        "from m import f\n\n\ndef test_a():\n    x = f(1)\n    assert x == 2\n"
        "    with pytest.raises(ValueError):\n        f(-1)\n    assert f(3) == 4\n\n\n"
        "def test_b():\n    f(0)\n    assert f(0) == 1\n\n\ndef test_c():\n    assert f(5) == 6\n"
    )
    cut = cut_at_failures(code, {"test_a": 8, "test_b": 13})
    assert "def test_a():\n    x = f(1)\n    assert x == 2\n" in cut
    assert "pytest.raises" not in cut and "f(3)" not in cut
    assert "test_b" not in cut  # nothing ran before its failing first statement
    assert "def test_c" in cut
    ast.parse(cut)


def test_cut_at_failures_drops_only_a_failing_assert_when_other_checks_remain() -> None:
    from agents.cover.candidate import cut_at_failures

    code = (
        "from m import E\n\n\ndef test_a():\n    e = E(42)\n    assert e.type_name == 'int'\n"
        "    assert str(e) == 'got int'\n\n\ndef test_b():\n    e = E(1)\n"
        "    assert e.missing\n    print(e)\n"
    )
    cut = cut_at_failures(code, {"test_a": 6, "test_b": 12})
    # test_a: the wrong guess goes, the check after it stays and still runs
    assert "def test_a():\n    e = E(42)\n    assert str(e) == 'got int'\n" in cut
    assert "type_name" not in cut
    # test_b: its only check failed, nothing is left to check: the test goes
    assert "test_b" not in cut
    ast.parse(cut)


def test_answer_end_cuts_at_the_line_that_ended_the_answer() -> None:
    from agents.cover.candidate import answer_end

    code = "def test_a():\n    assert f(1) == 2\n"
    assert answer_end(code + "```\nMore prose") == (len(code), "done")
    looping = code + "    assert f(2) == 3  # again\n" * 5
    offset, why = answer_end(looping)  # type: ignore[misc]
    assert why == "loop" and looping[:offset].count("again") == 3
