"""Prompts of ``assay cover`` for JavaScript and TypeScript: data, not control flow.

As for Python (:mod:`agents.cover.cover_prompts`): a stable prefix (system prompt, then the code)
for the server's prompt cache, the import of the code under test written by assay and continued
by the model, one test at a time, the exact lines to reach.
"""

from __future__ import annotations

SYSTEM = (
    "You are an expert {language} developer who writes {runner} tests. You import the code under "
    "test; you never copy, redefine or mock it. Your tests call the real code and assert its "
    "exact results. You reply with one ```{fence} code block and nothing else."
)

WRITE_TEST = """\
Code under test, from `{path}`. Lines marked `// NOT COVERED` never ran in the existing tests.

```{fence}
{code}
```
{style}
Write one short {runner} test for `{qualname}` (at most 8 lines) that makes {missed} run, and \
assert the exact result (`expect(...).toEqual(...)`, or `expect(() => ...).toThrow(...)`). \
Compute expected values by following the code above step by step.
Start your answer with exactly these lines and continue after them:

```{fence}
{header}
describe({title}, () => {{
  it("""

STYLE = """
The project's existing tests start like this (follow their style; do not repeat their tests):

```{fence}
{style}
```
"""

RETRY = "{problem}\nWrite the whole test file again, corrected, in one ```{fence} block."

PROBLEMS = {
    "syntax": "Your code does not parse: {detail}.",
    "no-test": "Your code contains no test (an `it(...)` or `test(...)` call).",
    "redefines": (
        "Your code defines `{detail}` itself. Do not copy or redefine the code under test: "
        "import it with `{import_line}`."
    ),
    "no-import": "Your code does not import the code under test. Use `{import_line}`.",
    "import-error": "The test file fails to import: {detail}. Use `{import_line}`.",
    "fails": (
        "The test failed:\n{detail}\nThe code under test is right; fix the test's inputs or "
        "expected values to match what the code really does."
    ),
    "flaky": (
        "The test passed once but failed when run again:\n{detail}\nMake it deterministic: no "
        "randomness, time, network or files."
    ),
    "timeout": "The test did not finish within {detail} seconds. Do not loop or wait.",
    "breaks-suite": (
        "The test passes alone but fails together with the existing tests:\n{detail}\n"
        "Do not change global state, or restore it."
    ),
    "no-coverage": (
        "The test passed but never ran {missed}. Choose inputs that take the code paths marked "
        "`// NOT COVERED`."
    ),
    "no-mutant-killed": (
        "The test passed but would also pass if the code were wrong: assert the exact result "
        "with `toEqual`/`toThrow`, not just that it runs."
    ),
    "no-code": "Your reply held no code block.",
}
