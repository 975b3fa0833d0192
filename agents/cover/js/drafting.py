"""The model's drafts of a JS/TS test, one target at a time, with the rejection fed back.

The prompt (:mod:`agents.cover.js.js_prompts`) shows the code with the missed lines marked and
ends in the test file's first lines, written by assay (the runner's imports and the import of
the code under test), which the model continues.  A reply is the whole file when it imports the
code under test itself, else the continuation of those lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from agents.cover.drafting import RESAMPLE_TEMPERATURE, Draft
from agents.cover.js import js_prompts as prompts
from agents.cover.js.project import JsProject
from agents.cover.js.render import header, import_names
from agents.cover.js.runner import show_arc
from agents.cover.js.symbols import syntax_error
from agents.cover.js.targets import JsTarget
from agents.cover.js.testfile import drop_repeats
from flows import FlowRunner, Route, Stage, TextAnswer

WRITE_TEST = Stage(
    name="write_js_test",
    template=prompts.WRITE_TEST,
    system=prompts.SYSTEM,
    schema=TextAnswer,
    fmt="text",
    route=Route(temperature=0.2),
    stop=("\n```",),
)
CODE_LINES = 120  # whole files up to this size; else the target with some context
HELPER_WINDOWS, HELPER_BEFORE, HELPER_AFTER = 3, 8, 3  # lines around a helper's missed ones
FENCE = re.compile(r"```[a-zA-Z]*\n(.*?)(?:```|\Z)", re.DOTALL)
IT_END = re.compile(r"^[ \t]+\}\);[ \t]*$", re.M)  # the end of an indented test (or block)


@dataclass(frozen=True)
class Prompted:
    header: str  # what the file starts with (assay's imports)
    prefix: str  # what the model continues: the header and the start of the test
    variables: dict[str, object]
    path: str = "test.js"  # the test file's path (its language for the parser)


def missed_summary(jt: JsTarget) -> str:
    t = jt.target
    parts = []
    if t.missing_lines:
        shown = ", ".join(map(str, t.missing_lines[:12]))
        parts.append(f"line{'s' if len(t.missing_lines) > 1 else ''} {shown}")
    if t.missing_branches:
        parts.append("the branch " + ", ".join(show_arc(a) for a in t.missing_branches[:4]))
    return " and ".join(parts) or "its code"


def marked_code(text: str, jt: JsTarget) -> str:
    """The code with its missed lines marked: the whole file when it is short, else the target
    with some context and, where it misses lines of a helper it calls, a few lines around the
    first of them (``// …`` between)."""
    lines = text.splitlines()
    t = jt.target
    missed = set(t.missing_lines) | {a[0] for a in t.missing_branches}
    if len(lines) <= CODE_LINES:
        spans = [(1, len(lines))]
    else:
        spans = [(max(1, t.start - 10), t.end + 3)]
        outside = sorted(n for n in missed if not t.start <= n <= t.end)
        spans += [(max(1, n - HELPER_BEFORE), n + HELPER_AFTER) for n in outside[:HELPER_WINDOWS]]
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        if start > last + 1 and out:
            out.append("// …")
        for number in range(max(start, last + 1), min(end, len(lines)) + 1):
            line = lines[number - 1]
            out.append(f"{line}  // NOT COVERED" if number in missed and line.strip() else line)
        last = max(last, end)
    return "\n".join(out)


def style_of(project: JsProject, limit: int = 14) -> str:
    for test in project.tests:
        if ".assay" in test:
            continue
        try:
            text = (project.root / test).read_text(encoding="utf-8")
        except OSError:
            continue
        return "\n".join(text.splitlines()[:limit])
    return ""


def prompt_for(project: JsProject, jt: JsTarget, test_path: str, source_text: str) -> Prompted:
    names, default = import_names([jt])
    head = header(project, test_path, jt.target.path, names, default)
    fence = "typescript" if test_path.endswith((".ts", ".mts", ".cts")) else "javascript"
    title = json.dumps(jt.target.qualname)
    style = style_of(project)
    variables: dict[str, object] = {
        "language": "TypeScript" if fence == "typescript" else "JavaScript",
        "runner": project.runner, "fence": fence, "path": jt.target.path,
        "code": marked_code(source_text, jt), "qualname": jt.target.qualname,
        "missed": missed_summary(jt), "header": head.rstrip(), "title": title,
        "style": prompts.STYLE.format(fence=fence, style=style) if style else "",
    }  # fmt: skip
    prefix = f"{head.rstrip()}\ndescribe({title}, () => {{\n  it("
    return Prompted(head, prefix, variables, test_path)


def code_of(reply: str, prompted: Prompted, spec: str) -> str | None:
    """The whole candidate file a reply stands for (see the module), or None without code."""
    found = FENCE.search(reply)
    code = found.group(1) if found else reply
    if not code.strip() or (not found and "expect(" not in code):
        return None
    if spec not in code:  # else the model wrote the imports itself: a whole file
        code = prompted.prefix + code
    return drop_repeats(complete_tests(code.rstrip() + "\n", prompted.path), prompted.path)


def complete_tests(code: str, path: str) -> str:
    """A reply cut off by the token limit (a small model writes ten tests where one was
    asked) ends inside a test: keep the tests it finished and close the ``describe``."""
    if not syntax_error(code, path):
        return code
    ends = [m.end() for m in IT_END.finditer(code)]
    for end in reversed(ends[-20:]):
        kept = code[:end].rstrip() + "\n});\n"
        if not syntax_error(kept, path):
            return kept
    return code


class JsDrafter:
    """Up to ``attempts`` answers for one target, each rejection going back with its reason."""

    def __init__(self, runner: FlowRunner, prompted: Prompted, spec: str, *, attempts: int,
                 answer_tokens: int, sample: int) -> None:  # fmt: skip
        self.runner, self.prompted, self.spec = runner, prompted, spec
        self.attempts, self.sample = attempts, sample
        self.stage = replace(WRITE_TEST, max_tokens=answer_tokens)
        self.history: list[dict[str, str]] = []
        self._accepted = False
        self._problem: str | None = None

    def drafts(self) -> Iterator[Draft]:
        for attempt in range(self.attempts):
            first = attempt == 0 and self.sample == 0
            completion = self.runner.ask(
                self.stage, self.prompted.variables, history=self.history,
                temperature=None if first else RESAMPLE_TEMPERATURE,
                seed=None if first else self.sample * 100 + attempt,
            )  # fmt: skip
            self._accepted, self._problem = False, None
            yield Draft(code_of(completion.text, self.prompted, self.spec), completion.text)
            if self._accepted:
                return
            if self._problem is not None:
                fence = str(self.prompted.variables["fence"])
                self.history += [
                    {"role": "assistant", "content": completion.text},
                    {"role": "user",
                     "content": prompts.RETRY.format(problem=self._problem, fence=fence)},
                ]  # fmt: skip

    def accept(self) -> None:
        self._accepted = True

    def reject(self, problem: str) -> None:
        self._problem = problem


def problem_text(reason: str, detail: str, prompted: Prompted, jt: JsTarget) -> str:
    lines = [ln for ln in prompted.header.splitlines() if jt.target.path.rsplit(".", 1)[0]
             .rsplit("/", 1)[-1] in ln]  # fmt: skip
    import_line = lines[0] if lines else prompted.header.strip().splitlines()[-1]
    template = prompts.PROBLEMS.get(reason, "{detail}")
    return template.format(detail=detail, import_line=import_line, missed=missed_summary(jt))


def source_text(root: Path, path: str) -> str:
    return (root / path).read_text(encoding="utf-8")
