"""Prompts of the readable rewrite of explored tests (:mod:`agents.cover.rewrite`): data.

Short on purpose: one test per call, the function's signature and docstring only, the answer a
single test function (see DESIGN.md: small models follow structure, not essays).
"""

from __future__ import annotations

SYSTEM = (
    "You rewrite pytest tests so that a developer would keep them. You reply with one "
    "```python block holding one test function and nothing else."
)

REWRITE = """\
The code under test:

```python
{context}
```

A generated test of `{function}`:

```python
{test}
```

Rewrite this test:
- name it `test_{stem}_...` so that the name says the behaviour it checks;
- where the docstring, the defaults or the literals above suggest arguments that make sense for \
`{function}`, use them; else keep the arguments;
- keep the call of `{function}` and every check; if you change an argument, each expected \
value must be what the code really gives for it;
- no imports, no comments, no other function.

Reply with the rewritten test function in one ```python block."""
