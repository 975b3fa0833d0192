"""Prompts of the cover agent: data, not control flow.

Written for small local models (DESIGN.md): a stable prefix (system prompt, then the code) so the
server's prompt cache is reused across attempts; the import of the code under test written by us
and continued by the model; one test function at a time; the exact lines to reach.
"""

from __future__ import annotations

SYSTEM = (
    "You are an expert Python developer who writes pytest tests. You import the code under test; "
    "you never copy, redefine or mock it. Your tests call the real code and assert its exact "
    "results. You reply with one ```python code block and nothing else."
)

WRITE_TEST = """\
Code under test, from `{path}` (module `{module}`). Lines marked `# NOT COVERED` never ran in \
the existing tests.

```python
{code}
```
{style}
Write 1 to {max_tests} short pytest test functions for `{qualname}` (one scenario each, at \
most 8 lines each) that together make {missed} run, and assert the exact result (return value, \
state, or `pytest.raises`). Compute expected values by following the code above step by step.
Start your answer with exactly these lines and continue after them:

```python
{header}

def test_{test_stem}"""

# A surviving mutant: the bug the suite does not catch, and a test that must catch it.
KILL_MUTANT = """\
Code under test, from `{path}` (module `{module}`).

```python
{code}
```
{style}
This change to line {line} is a bug that the existing tests do not catch:

```diff
{diff}
```

Write one short pytest test function for `{qualname}` that passes on the code above and fails \
with this change: call it with inputs for which the change makes a difference, and assert the \
exact result (return value, state, or `pytest.raises`). Compute the expected value by following \
the code above step by step.
Start your answer with exactly these lines and continue after them:

```python
{header}

def test_{test_stem}"""

STYLE = """
The project's existing tests start like this (follow their style; do not repeat their tests):

```python
{style}
```
"""

# Feedback on a rejected candidate: what went wrong, trimmed to what helps fix it.
RETRY = """\
{problem}

Write the corrected tests: one ```python block starting with the same import lines."""

PROBLEMS = {
    "syntax": "Your code does not parse: {detail}.",
    "no-test": "Your code contains no test function (a `def test_...():` at top level).",
    "redefines": (
        "Your code defines `{name}` itself. Do not copy or redefine the code under test: "
        "import it with `{import_line}`."
    ),
    "no-import": "Your code does not import the code under test. Use `{import_line}`.",
    "import-error": "The test file fails to import: {detail}. Use `{import_line}`.",
    "no-fixture": (
        "There is no pytest fixture named `{detail}`. Write test functions without parameters "
        "(pytest's own `tmp_path`, `monkeypatch`, `capsys` are fine) and create the objects "
        "inside each test by calling the code under test."
    ),
    "fails": (
        "The test failed:\n{detail}\nThe code under test is right; fix the test's inputs or "
        "expected values to match what the code really does."
    ),
    "flaky": (
        "The test passed once but failed when run again:\n{detail}\nMake it deterministic: no "
        "randomness, time, network or files outside tmp_path."
    ),
    "timeout": "The test did not finish within {detail} seconds. Do not loop or wait.",
    "breaks-suite": (
        "The test passes alone but fails together with the existing tests:\n{detail}\n"
        "Do not change global state, or restore it."
    ),
    "no-coverage": (
        "The test passed but never ran {missed}. Choose inputs that take the code paths marked "
        "`# NOT COVERED`."
    ),
    "not-called": "The test never called `{name}`. Call it and assert what it returns.",
    "no-mutant-killed": (
        "The test runs the code but would still pass if the code were wrong ({detail}). Assert "
        "the exact result of the call."
    ),
    "no-code": "Your reply contains no Python code block.",
    "mutant-survived": (
        "The test passes with the change too ({detail}): it must fail there. Pick inputs for "
        "which the changed line gives a different result, and assert that result exactly."
    ),
    "side-effects": (
        "The test did more than test the code: it {detail}. Call the code and assert what it "
        "returns or raises; do not start processes, use the network or touch files outside "
        "tmp_path."
    ),
    "sandbox-broken": (
        "The test could not be judged: {detail}. Do not delete or change the working "
        "directory or files outside tmp_path."
    ),
}
