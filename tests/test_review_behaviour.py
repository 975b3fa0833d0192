"""The behaviour diff of ``assay review``: the same calls on a PR's base and head, each side in
its own sandbox, through the real CLI (scripted model, real git repositories, real sandbox)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agents.gitdiff import local_diff
from agents.review.behaviour import BehaviourOptions, behaviour_diff
from agents.review.behaviour_calls import difference, variants
from agents.review.report import BehaviourSection
from agents.runtime import open_sandbox
from agents.settings import load_settings
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.gitrepos import commit, git, make_repo
from tests.kit.review import Reviewer, make_library, review


def run_test(checkout: Path, test: str) -> subprocess.CompletedProcess[str]:
    (checkout / "test_pinned.py").write_text(test)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_pinned.py"],
        cwd=checkout, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def diff_against_main(repo: Path) -> BehaviourSection:
    """The behaviour diff of the checked-out branch against ``main``, bound by tries (not by
    seconds of a loaded machine)."""
    settings = load_settings(repo, {}).settings
    diff, point = local_diff(repo, "main")
    options = BehaviourOptions(seconds=30, max_tries=500)
    return behaviour_diff(repo, point, diff, lambda root: open_sandbox(settings, root), options)


def test_a_removed_input_check_is_a_behaviour_change_with_a_regression_test(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_library(tmp_path / "lib")
    git(repo, "checkout", "-q", "check-removed")
    fake_llm.on(Reviewer())  # the model finds nothing: what is found, the behaviour diff found
    out = tmp_path / "review.json"
    result = review(repo, fake_llm.url, "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(out.read_text())
    [finding] = data["findings"]
    # On the changed function, where the check went missing (the line after the deletion).
    assert (finding["path"], finding["line"], finding["source"]) == ("lib/calc.py", 10, "behaviour")
    message = finding["message"]
    assert message.startswith("behaviour change: `clamp(")
    assert "raises `ValueError: limit must be >= 0` before" in message
    assert message.endswith("now")
    assert "Behaviour diff: behaviour changed in 1 of 1 changed function(s)" in result.stdout
    # The regression test pins the old behaviour: it passes on the base and fails on the head.
    test = finding["test"]
    assert "pytest.raises(ValueError" in test and "from lib.calc import clamp" in test
    head_run = run_test(repo, test)
    git(repo, "stash", "-q", "-u")
    git(repo, "checkout", "-q", "main")
    base_run = run_test(repo, test)
    assert head_run.returncode == 1, head_run.stdout
    assert base_run.returncode == 0, base_run.stdout
    assert "evidence (behaviour diff)" in result.stdout


def test_a_refactor_and_a_nondeterministic_function_yield_no_behaviour_change(
    tmp_path: Path,
) -> None:
    repo = make_library(tmp_path / "lib")
    git(repo, "checkout", "-q", "refactor")
    section = diff_against_main(repo)
    assert section.changes == [] and section.crashes == []
    assert section.functions == 2  # total (rewritten as a loop) and pick (random)
    assert section.calls >= 10 and section.same == section.calls
    assert section.ignored >= 1  # pick's calls: not the same twice on one side
    assert section.summary().startswith(
        f"Behaviour diff: no behaviour change in {section.calls} call(s) of 2 changed function(s)"
    )


def test_outcomes_compare_as_behaviour_not_as_accidents() -> None:
    check = {"raises": "ValueError", "message": "limit must be >= 0", "deliberate": True}
    accident = {"raises": "TypeError", "message": "'int' object is not iterable"}
    other_accident = {"raises": "TypeError", "message": "unsupported operand"}
    value = {"repr": "[]", "str": "[]", "attrs": {}, "type": "list"}
    assert difference(check, value) == "result"  # a removed check
    assert difference(value, accident) == "result"  # took the input, now crashes on it
    assert difference(accident, other_accident) is None  # a wrong argument either way
    assert difference(accident, value) is None  # the old code never took that input
    state = {**value, "state": {"receiver": {"repr": "Stack([1])"}}}
    assert difference(value, state) == "state"
    assert variants("f([1, 2], limit=5)")[:3] == ["f([1, 2])", "f(0, limit=5)", "f(1, limit=5)"]


LABELS = """\
class Named:
    def __init__(self, name="x"):
        self.name = name

    def label(self):
        return "item"


class Tag(Named):
    def label(self):
        return "tag:" + self.name
"""


def test_a_method_deleted_from_a_class_the_head_keeps_is_compared_with_what_it_inherits(
    tmp_path: Path,
) -> None:
    """A PR that deletes an override (boltons' ``OrderedMultiDict.__reduce__``): only removed
    lines, nothing for a reviewer to comment on, but the class still answers the call — with
    the parent's method.  Its base calls are replayed on the head."""
    repo = make_repo(tmp_path / "lib", {"lib/__init__.py": "", "lib/labels.py": LABELS})
    git(repo, "checkout", "-q", "-b", "override-removed")
    override = '\n    def label(self):\n        return "tag:" + self.name\n'
    commit(repo, {"lib/labels.py": LABELS.replace(override, "\n    pass\n")})
    section = diff_against_main(repo)
    [change] = section.changes
    assert (change.path, change.qualname) == ("lib/labels.py", "Tag.label")
    assert change.expr.startswith("Tag(") and change.expr.endswith(".label()")
    assert change.message.startswith(f"behaviour change: `{change.expr}` returned `'tag:")
    assert "returns `'item'` now" in change.message


PLACES = """\
import os


def where(name):
    return os.path.abspath(name)


class Saver:
    def __init__(self, path):
        self.dest = os.path.abspath(path)
"""


def test_paths_that_only_say_where_a_side_ran_are_no_behaviour_change(tmp_path: Path) -> None:
    """Base and head run in different directories: ``where('a')`` and ``Saver('a').dest`` are
    absolute paths under each side's own directory, the same behaviour (boltons' refactors of
    ``AtomicSaver`` were reported as a change of ``dest_dir``)."""
    repo = make_repo(tmp_path / "lib", {"lib/__init__.py": "", "lib/places.py": PLACES})
    git(repo, "checkout", "-q", "-b", "tidy")
    tidy = PLACES.replace(
        "return os.path.abspath(name)", "found = os.path.abspath(name)\n    return found"
    )
    tidy = tidy.replace("self.dest = os.path.abspath(path)",
                        "dest = os.path.abspath(path)\n        self.dest = dest")  # fmt: skip
    commit(repo, {"lib/places.py": tidy})
    section = diff_against_main(repo)
    assert section.functions == 2 and section.calls >= 4
    assert section.changes == [], [c.message for c in section.changes]


PAUSES = '''\
def allowed(seconds):
    """Whether a pause of ``seconds`` is allowed: two hours at most."""
    if seconds > 60 * 60 * 2:
        raise ValueError("two hours at most")
    return True
'''


def test_a_boundary_no_generated_call_lands_on_is_found_by_the_search(tmp_path: Path) -> None:
    """``>`` made ``>=`` on ``60 * 60 * 2``: only ``allowed(7200)`` tells the two apart, and no
    literal of the module is 7200, so the calls generated on each side all agree.  The search
    (the base with the head's module beside it) tries the changed line's constants and finds
    it; the call is replayed on both sides and reported like any other change."""
    repo = make_repo(tmp_path / "lib", {"lib/__init__.py": "", "lib/pauses.py": PAUSES})
    git(repo, "checkout", "-q", "-b", "boundary")
    commit(repo, {"lib/pauses.py": PAUSES.replace("seconds > 60", "seconds >= 60")})
    section = diff_against_main(repo)
    [change] = section.changes
    assert change.expr == "allowed(7200)"
    assert change.message == (
        "behaviour change: `allowed(7200)` returned `True` before, "
        "raises `ValueError: two hours at most` now"
    )
    assert change.test  # passes on the base, fails on the head (checked in both sandboxes)
    assert (section.searched, section.found) == (1, 1)
    assert "a search for a call that tells base and head apart found 1" in section.summary()


# Six coin tosses: each call's three runs a side agree one time in four, so over the ~90 calls
# the sides make, some land on heads three times on the base and tails three times on the head.
NAMES = ("toss", "flip", "coin", "heads", "tails", "call_it")
COINS = "import random\n" + "".join(
    f"\n\ndef {name}(label):\n    return random.random() < 0.5\n" for name in NAMES
)


def test_a_random_result_that_happens_to_repeat_is_no_behaviour_change(tmp_path: Path) -> None:
    """A coin toss is the same three runs in a row one time in four: unconfirmed, a few of the
    ~90 calls differ between the sides (``pick((1, 2))`` was once reported as a change of a
    refactor that kept it).  A call that differs is run nine more times a side, in a new
    process, before it counts, and a coin toss does not pass that."""
    repo = make_repo(tmp_path / "lib", {"lib/__init__.py": "", "lib/coins.py": COINS})
    git(repo, "checkout", "-q", "-b", "reworded")
    commit(repo, {"lib/coins.py": COINS.replace("< 0.5", ">= 0.5")})
    section = diff_against_main(repo)
    assert section.functions == len(NAMES)
    assert section.changes == [], [c.message for c in section.changes]
    assert section.ignored >= 30  # the calls that did not repeat themselves on a side
