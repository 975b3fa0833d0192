"""Smoke test of run.py against the scripted fake server (no real model): the plumbing only.

    python benchmarks/humaneval/smoke.py [--limit 3]

The fake model answers every stage in the expected format; its code is the canonical solution,
except that the stub completion (the direct prompt, and the flow's plain first attempt) does not
compile: the flow must rotate to its ranked approaches.  The numbers it prints say
nothing about any model: they check that the benchmark runs end to end, writes its JSONL and
traces, and judges with the hidden tests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402
from tasks import load_problems, split_prompt, subset_ids  # noqa: E402

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest  # noqa: E402

YAML = {
    "Describe the problem": "```yaml\ngoal: what the docstring says\nrules:\n  - follow it\n```",
    "explain in one short sentence": "```yaml\n- test: the first example\n  why: the rules\n```",
    "different ways to solve": (
        "```yaml\nsolutions:\n  - name: direct\n    idea: do what it says\n"
        "  - name: loop\n    idea: one pass\n```"
    ),
    "Rank them": "```yaml\nranking: [1, 2]\n```",
}


def handler(problems: dict[str, dict]) -> object:
    keys = {}
    for task in problems.values():
        _, doc = split_prompt(task["prompt"], task["entry_point"])
        keys[doc[:80]] = task

    def answer(req: RecordedRequest) -> str:
        prompt = next(m["content"] for m in req.messages if m["role"] == "user")
        task = next((t for k, t in keys.items() if k and k in prompt), None)
        if task is None and "Complete this Python function" in prompt:  # direct or plain stub
            task = next(t for t in problems.values() if f"def {t['entry_point']}(" in prompt)
        assert task is not None, prompt[:300]
        for marker, reply in YAML.items():
            if marker in prompt:
                return reply
        entry = task["entry_point"]
        if "new tests as single-line" in prompt:
            return f"```python\nassert {entry}() == 'surely wrong'\n```"
        good = task["prompt"] + task["canonical_solution"]
        if "Complete this Python function" in prompt:  # direct, and the flow's plain attempt
            return f"```python\ndef {entry}(:\n    pass\n```"
        return f"```python\n{good}```"

    return answer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=3)
    args = ap.parse_args()
    problems = load_problems()
    ids = subset_ids()[: args.limit]
    chosen = {i: problems[i] for i in ids}
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory(prefix="he-smoke-") as out:
        fake.on(handler(chosen))  # type: ignore[arg-type]
        rows = run.main(
            ["--endpoint", fake.url, "--model", "fake-model", "--modes",
             "direct,flow,flow-no-extra-tests", "--limit", str(args.limit), "--out", out]
        )  # fmt: skip
        traces = sorted(p.relative_to(out) for p in Path(out).rglob("*.jsonl"))
        print(f"files written: {len(traces)} ({traces[0]} … {traces[-1]})")
        print(f"requests served by the fake: {len(fake.chat_requests)}")
    assert rows and all(r["problems"] == args.limit for r in rows)


if __name__ == "__main__":
    main()
