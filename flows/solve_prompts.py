"""Prompts of the solve flow: data, not control flow.

Every user message starts with the same block (the problem, then the notes once written), so an
inference server's prompt cache reuses that prefix from one stage to the next.  Answers are short
YAML or one python block; each stage's ``max_tokens`` in :mod:`flows.solve_stages` fits them.
"""

from __future__ import annotations

SYSTEM = (
    "You are an expert Python programmer solving a programming problem step by step. "
    "Answer briefly, in exactly the format asked for."
)

# The stable prefix of every stage.  {notes} is "" until the reflection exists.
PROBLEM = """\
Problem:
{statement}
{signature}{notes}
"""

SIGNATURE = """
The solution must define:
```python
{starter}
```
"""

NOTES = """
Notes on the problem:
{notes}
"""

REFLECT = (
    PROBLEM
    + """
Describe the problem in short bullets (a few words each). Reply with one ```yaml block:
```yaml
goal: ...
inputs: ...
outputs: ...
rules:
  - ...
edge_cases:
  - ...
```"""
)

TEST_REASONING = (
    PROBLEM
    + """
Examples:
{tests}

For each example, explain in one short sentence why it gives that result. Reply with one \
```yaml block:
```yaml
- test: <the example>
  why: ...
```"""
)

CANDIDATES = (
    PROBLEM
    + """
Propose {count} different ways to solve it. Each: a short label (not a function name) and the \
idea in one or two sentences. Reply with one ```yaml block:
```yaml
solutions:
  - name: ...
    idea: ...
```"""
)

RANK = (
    PROBLEM
    + """
Possible solutions:
{solutions}

Rank them from best to worst. Prefer a solution that is simple, correct on every rule and edge \
case, and robust. Reply with one ```yaml block holding the numbers in order:
```yaml
ranking: [1, 2]
```"""
)

EXTRA_TESTS = (
    PROBLEM
    + """
Write {count} new tests as single-line Python asserts that call `{entry}`, covering edge cases \
and the rules above. Compute each expected value carefully by hand. Reply with one ```python \
block of assert lines only, e.g.:
```python
assert {entry}(...) == ...
```"""
)

CODE = (
    PROBLEM
    + """
Approach: {approach}

Write the complete solution in one ```python block: the imports it needs and the function \
`{entry}`, named exactly so, with the signature given. No tests, no prints, no input()."""
)

FIX = (
    PROBLEM
    + """
This code:
```python
{code}
```
fails this test:
```python
{test}
```
Error: {error}
{hint}
Find the mistake and fix the code. Reply with the whole corrected code in one ```python block."""
)

FIX_COMPILE = (
    PROBLEM
    + """
This code:
```python
{code}
```
cannot run: {error}
Fix it. Reply with the whole corrected code in one ```python block."""
)

# The first code attempt: the problem as the function stub a code model completes best (the
# signature with the statement as its docstring), with no notes and no approach.
PLAIN = """\
Complete this Python function. Reply with the complete function (and the imports it needs) in \
one ```python block, no tests.

```python
{stub}
```"""

# When there is no signature to complete.
PLAIN_FREE = """\
{statement}

Write the Python function `{entry}` that does this. Reply with the complete function (and the \
imports it needs) in one ```python block, no tests."""

HINT_GIVEN = "This test comes with the problem: it is right."
HINT_EXTRA = (
    "This test was written by a model and may itself be wrong. If its expected value "
    "contradicts the problem, reply only: WRONG TEST"
)
WRONG_TEST = "WRONG TEST"

# The single-prompt baseline of benchmarks/humaneval asks the same way, for the original prompt.
DIRECT = PLAIN
