"""The behaviour diff's search: calls made to find where the base and the head disagree.

Generating calls on each side and replaying them on the other compares what random calls do;
a change that shows only on one input (``val > 2 ** len_`` where it was ``>=``: only
``val == 2 ** len_`` tells) is rarely among them.  So for each changed function whose compared
calls all behaved the same, the base's sandbox loads the head's source of the module beside
its own and searches a call on which the two disagree — the differential exploration ``assay
cover`` runs against a mutant, with the head as the mutant (the behaviour driver's ``search``
mode): the changed lines' constants and their neighbours first, then calls weighted onto the
function.  What it finds is only a lead: the caller replays it on both sides, each in its own
sandbox, and compares as for every other call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agents.cover.explore import literals_of
from agents.review.changes import ChangedFunction
from agents.review.sides import Side

AROUND = 12  # changed lines of a function whose constants are tried, per side


def _lines(source: str | None, numbers: Iterable[int]) -> list[str]:
    if source is None:
        return []
    text = source.splitlines(keepends=True)
    return [text[n - 1] for n in sorted(numbers) if 0 < n <= len(text)][:AROUND]


def search(
    fns: list[ChangedFunction],
    base: Side,
    head: Side,
    seconds: float,
    max_tries: int,
    seed: int,
    seeds: dict[str, Any],
) -> list[tuple[str, str]]:
    """(qualname, call text) of each function of ``fns`` (all of one module) for which the
    search, run on the base, found a call that tells the base from the head in one process
    (``max_tries`` tries per function, or fewer when its ``seconds`` run out first).
    ``seeds``: the literals and calls of the repository's tests."""
    base_text, head_text = base.source(fns[0].old_path), head.source(fns[0].path)
    if base_text is None or head_text is None:
        return []
    try:
        literals, examples = literals_of(base_text)
    except SyntaxError:
        return []
    targets = []
    for f in fns:
        if f.base is None:
            continue
        around = _lines(base_text, f.removed) + _lines(head_text, f.added)
        targets.append({
            "qualname": f.qualname, "start": f.base.start, "end": f.base.end,
            "lines": sorted(f.removed), "around": around, "seconds": seconds,
        })  # fmt: skip
    if not targets:
        return []
    spec = {
        "mode": "search", "module": fns[0].module, "targets": targets, "other": head_text,
        "literals": literals + seeds.get("literals", []),
        "examples": examples + seeds.get("calls", []), "seed": seed, "max_tries": max_tries,
    }  # fmt: skip
    timeout = 60 + seconds * len(targets) * 2
    return [
        (item["target"], item["expr"])
        for item in base.drive(spec, timeout)
        if item.get("found") and isinstance(item.get("expr"), str)
    ]
