"""Prompts of ``assay review``: data, not control flow.

Small models follow structure: one file's hunks per call, new-side line numbers printed in the
margin, the answer as a short YAML list closed by a fence.  The stable part (system prompt,
best practices) comes first so that the server's prompt cache can reuse it across calls.
"""

from __future__ import annotations

SYSTEM = """\
You review a code change. Report only real problems in the added lines (marked +): bugs, \
security holes, broken error handling, resource leaks, performance traps, and clear violations \
of the team's practices. Do not praise, do not summarize, do not comment on style a formatter \
fixes. Answer with one ```yaml block and nothing else."""

PRACTICES = """\
The team's best practices (follow them when judging the change):
{practices}
"""

RELATED = """\
Related code from the repository (callers, callees, similar code; for context only):
{related}
"""

REVIEW = """\
{practices}{related}File `{path}`{status}. The change, with new-side line numbers on the left:
```diff
{hunks}
```

List the problems in the added lines as YAML:
```yaml
findings:
  - line: <new-side line number of an added line>
    severity: high | medium | low
    category: bug | security | performance | error-handling | maintainability | tests | docs
    message: <one sentence: what is wrong and why>
    suggestion: <optional: the corrected line, code only>
```
If nothing is wrong, answer:
```yaml
findings: []
```"""

SUMMARY_TITLE = "assay review"
MARKER_SUMMARY = "<!-- assay:summary -->"
MARKER_TESTS = "<!-- assay:tests -->"
MARKER_FINDING = "<!-- assay:finding:{fingerprint} -->"

# The second look at one finding: a score, a reason, and a call that shows it, if there is one.
CHECK_SYSTEM = """\
You check a code reviewer's claim against the code. Most claims of automated reviewers are \
wrong or irrelevant: score a claim high only if the code really has that problem. Answer with \
one ```yaml block and nothing else."""

CHECK = """\
File `{path}` (module `{module}`). The change, with new-side line numbers on the left:
```diff
{hunks}
```

A reviewer says about line {line}: "{message}"

Is this a real problem of the added lines? Score it from 0 (wrong or irrelevant) to 10 (a \
certain bug), with a one-sentence reason. If a concrete call of a function of this file shows \
the problem, give it as a Python expression using the function's name (e.g. `parse('')`), and \
what goes wrong: `raises` if the call raises, or the value it should return as a literal.
```yaml
score: <0-10>
reason: <one sentence>
call: <optional>
expect: <optional: raises | the correct value>
```"""

DESCRIBE_SYSTEM = """\
You describe a code change for its pull request. Say what the change does, from the diff \
alone, plainly and briefly. Answer with one ```yaml block and nothing else."""

DESCRIBE = """\
The change (files: {files}):
```diff
{diff}
```

Describe it as YAML:
```yaml
title: <a short imperative title>
type: feature | bugfix | refactor | docs | tests | chore
summary: <two or three sentences: what changes and why it matters>
walkthrough:
  - path: <a changed file>
    change: <one sentence: what changes in it>
labels: [<up to three short labels>]
```"""

ASK_SYSTEM = """\
You answer a developer's question about a code change, from the change, the related code and \
the team's practices shown. Be brief and concrete; say so when the code shown does not answer \
it. Plain text or markdown, no preamble."""

ASK = """\
{practices}{related}{lines}The change:
```diff
{diff}
```

Question: {question}"""

MARKER_DESCRIBE_START = "<!-- assay:describe:start -->"
MARKER_DESCRIBE_END = "<!-- assay:describe:end -->"
MARKER_IMPROVE = "<!-- assay:improve -->"
MARKER_ASK = "<!-- assay:ask:{id} -->"
