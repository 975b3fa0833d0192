"""Prompts of the test-writing flow: data, not control flow.

The stable prefix of every stage is the system prompt, then the code under test (and the style
example), so a server's prompt cache serves it from the second call on.  Tests are written one
function at a time after import lines we write ourselves: a small model that sees the code tends
to copy it instead of importing it (DESIGN.md).  The model writes the whole test function, from
its ``def`` line: a prompt that ends inside an open block, for the model to continue, is often
answered with the closing fence alone by a small model.
"""

from __future__ import annotations

SYSTEM = (
    "You are an expert Python developer who writes pytest tests. You import the code under test; "
    "you never copy, redefine or mock it. Your tests call the real code and assert its exact "
    "results. Answer briefly, in exactly the format asked for."
)

CONTEXT = """\
Code under test, from `{path}` (module `{module}`).{marked}

```python
{code}
```
{style}"""

MARKED = " Lines marked `# NOT COVERED` never ran in the existing tests."

STYLE = """
The project's tests look like this (follow their style; do not repeat their tests):

```python
{style}
```
"""

NOTES = """
Notes on `{qualname}`:
{notes}
"""

REFLECT = (
    CONTEXT
    + """
Describe what `{qualname}` does, in short bullets (a few words each). Reply with one ```yaml \
block:
```yaml
inputs: ...
outputs: ...
branches:
  - ...
edge_cases:
  - ...
{needs_line}```"""
)

NEEDS_LINE = "needs: what inputs make the NOT COVERED lines run\n"

PROPOSE = (
    CONTEXT
    + "{notes}"
    + """
List up to {count} behaviours of `{qualname}` worth a test: happy paths, edge cases and error \
cases{focus}. Each: its kind, a one-line description, the call, the expected outcome. Reply \
with one ```yaml block:
```yaml
- kind: happy | edge | error
  description: ...
  call: ...
  expected: ...
```"""
)

FOCUS_MISSED = ", first those that make {missed} run"

RANK = (
    CONTEXT
    + "{notes}"
    + """
Candidate tests:
{cases}

Rank them by value: a test that runs the NOT COVERED lines or checks a rule of the code is worth \
more than one that repeats an easy case. Reply with one ```yaml block holding the numbers in \
order:
```yaml
ranking: [1, 2]
```"""
)

WRITE = (
    CONTEXT
    + "{notes}"
    + """
Write ONE short pytest test function (at most 12 lines) for `{qualname}` that checks: \
{behaviour}{missed_line}
Assert the exact result (return value, state, or `pytest.raises`). Compute expected values by \
following the code above step by step.
The test module starts with these lines, written for you:

```python
{header}
```

Reply with one ```python block holding the whole test function, from its first line \
`def test_{test_stem}():` to its last assert."""
)

MISSED_LINE = " It must make {missed} run."

# Feedback on a rejected draft: what went wrong (the caller's words), then the same request.
RETRY = """\
{problem}

Write the corrected test: one ```python block starting with the same import lines."""
