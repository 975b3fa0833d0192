"""Diffs into hunks, and what a budget reads: pure functions, no model."""

from __future__ import annotations

from agents.gitdiff import estimate_tokens, parse_diff
from agents.review.diff import priority, select_hunks, split_hunk

GIT_DIFF = """\
diff --git a/pkg/core.py b/pkg/core.py
index 1111111..2222222 100644
--- a/pkg/core.py
+++ b/pkg/core.py
@@ -1,4 +1,5 @@ def load(path):
 import os
-import sys
+import subprocess
+import shlex
\x20
 def run(cmd):
@@ -10,2 +11,3 @@ def run(cmd):
     x = 1
+    subprocess.call(cmd, shell=True)
     return x
\\ No newline at end of file
diff --git a/poetry.lock b/poetry.lock
--- a/poetry.lock
+++ b/poetry.lock
@@ -1 +1 @@
-a = 1
+a = 2
diff --git a/old.py b/old.py
deleted file mode 100644
--- a/old.py
+++ /dev/null
@@ -1,2 +0,0 @@
-x = 1
-y = 2
diff --git a/logo.png b/logo.png
Binary files a/logo.png and b/logo.png differ
diff --git a/docs/guide.md b/docs/guide.md
new file mode 100644
--- /dev/null
+++ b/docs/guide.md
@@ -0,0 +1,2 @@
+# Guide
+Read me.
diff --git a/src/a.py b/src/b.py
similarity index 90%
rename from src/a.py
rename to src/b.py
--- a/src/a.py
+++ b/src/b.py
@@ -3 +3 @@
-    return 1
+    return 2
"""


def test_parse_diff_line_numbers_and_kinds() -> None:
    files = {f.path: f for f in parse_diff(GIT_DIFF)}
    assert set(files) == {"pkg/core.py", "poetry.lock", "old.py", "logo.png", "docs/guide.md",
                          "src/b.py"}  # fmt: skip
    core = files["pkg/core.py"]
    assert core.status == "modified" and len(core.hunks) == 2
    assert core.hunks[0].added == [2, 3] and core.hunks[1].added == [12]
    assert core.hunks[0].header.strip() == "def load(path):"
    assert "   12 +     subprocess.call(cmd, shell=True)" in core.hunks[1].render()
    assert files["old.py"].status == "deleted"
    assert files["logo.png"].binary
    assert files["docs/guide.md"].status == "added" and files["docs/guide.md"].hunks[0].added == [
        1,
        2,
    ]
    renamed = files["src/b.py"]
    assert renamed.status == "renamed" and renamed.old_path == "src/a.py"
    assert renamed.hunks[0].added == [3]


def test_plain_unified_diff_without_git_headers() -> None:
    text = "--- a/x.py\n+++ b/x.py\n@@ -1 +1,2 @@\n a = 1\n+b = 2\n--- a/y.py\n+++ b/y.py\n" \
           "@@ -5,0 +6 @@\n+c = 3\n"  # fmt: skip
    files = parse_diff(text)
    assert [(f.path, [h.added for h in f.hunks]) for f in files] == [
        ("x.py", [[2]]),
        ("y.py", [[6]]),
    ]


def test_selection_skips_with_reasons_and_ranks_by_priority() -> None:
    files = parse_diff(GIT_DIFF)
    everything = select_hunks(files, 100_000, exclude=["src/*"])
    reasons = {s.path: s.reason for s in everything.skipped}
    assert reasons == {
        "poetry.lock": "lock file",
        "old.py": "deleted file (nothing on the new side to comment on)",
        "logo.png": "binary file",
        "src/b.py": "excluded by the review_exclude setting",
    }
    assert [h.path for h in everything.chosen] == ["pkg/core.py", "pkg/core.py", "docs/guide.md"]
    # A budget for one hunk takes the riskiest source hunk and says what it left out.
    risky = next(h for h in everything.chosen if 12 in h.added)
    tight = select_hunks(files, risky.tokens, exclude=["src/*"])
    assert tight.chosen == [risky]
    over = [s for s in tight.skipped if s.reason == "over the token budget"]
    assert sorted((s.path, s.lines) for s in over) == [
        ("docs/guide.md", "1-2"),
        ("pkg/core.py", "1-5"),
    ]
    assert priority(risky) > priority(everything.chosen[-1])
    # The quality policy: weight 0 hides a path, a weight scales its priority.
    weighted = select_hunks(
        files, 100_000, path_weight=lambda p: 0.0 if p.startswith("docs") else 1.0
    )
    assert ("docs/guide.md", "weight 0 in the quality policy") in {
        (s.path, s.reason) for s in weighted.skipped
    }


def test_long_hunks_are_split_and_tokens_estimated() -> None:
    body = "".join(f"+line {i}\n" for i in range(1, 201))
    files = parse_diff(f"--- /dev/null\n+++ b/big.py\n@@ -0,0 +1,200 @@\n{body}")
    pieces = split_hunk(files[0].hunks[0], 80)
    assert [(p.new_start, p.added[-1]) for p in pieces] == [(1, 80), (81, 160), (161, 200)]
    assert estimate_tokens("x" * 35) == 11
    half = select_hunks(files, pieces[0].tokens + pieces[1].tokens)
    assert len(half.chosen) == 2 and [s.lines for s in half.skipped] == ["161-200"]
