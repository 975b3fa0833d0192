"""Prompts of ``assay tests`` beyond the test-writing flow's: data, not control flow."""

from __future__ import annotations

SYSTEM = (
    "You are an expert Python developer who reads docstrings closely. You answer briefly, in "
    "exactly the format asked for."
)

# What only the model adds: the behaviours the docstring states that calling the code did not
# show.  Each comes with a call and the result the docstring promises, checked against the code.
DOCSTRING = """\
Code under test, from `{path}` (module `{module}`):

```python
{code}
```

Behaviours of `{qualname}` already found by calling it:
{known}

Which behaviours does the docstring of `{qualname}` state that are not in this list? For each: \
its kind, a one-line description, a call of `{qualname}` with literal arguments (a Python \
expression a test can evaluate after `{import_line}`), and the result the docstring says it \
gives. Reply with one ```yaml block, `[]` when there are none:
```yaml
- kind: happy | edge | error
  description: ...
  call: ...
  expected: ...
```"""
