"""``assay tests`` on a JS/TS symbol: the explored calls grouped into behaviours to pick from.

Exploration keeps the calls that ran new code (:func:`agents.cover.js.render.keep`); here they
are grouped by what they showed — per target, a kind of return value, an error by its name, the
instance updated, the object built — so a person picks behaviours, not calls.  The last item is
always the model's part: a test for whatever the picked calls leave unrun.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.cover.js.explore import Observed, written
from agents.cover.js.render import called
from agents.cover.js.values import kind_of, literal
from flows import Behaviour

MODEL_LINE = "what the calls above leave unrun: the model drafts a test"


@dataclass
class JsBehaviour:
    behaviour: Behaviour
    calls: list[Observed] = field(default_factory=list)  # empty: the model's part


def _shown(o: Observed) -> tuple[str, str]:
    """The call as written in the test and what it gave."""
    name = called(o.call.target)
    call = written(name, o.call)
    if o.threw is not None:
        message = o.threw.get("message", "")
        return call, f"throws {o.threw.get('name', 'an error')}" + (
            f": {message[:60]}" if message else ""
        )
    value = literal(o.ok) or ""
    return call, (value if len(value) <= 60 else value[:57] + "...")


def _group(o: Observed) -> tuple[str, str, str]:
    """(group key, kind, description) of one kept call."""
    name, target = called(o.call.target), o.call.target.target.key
    if o.threw is not None:
        error = o.threw.get("name", "Error")
        return f"{target}/throws/{error}", "error", f"{name} throws {error} for some inputs"
    if o.call.target.method == "constructor":
        return f"{target}/builds", "happy", f"{name} builds an instance"
    if o.call.target.method is not None and literal(o.ok) in (None, "undefined"):
        return f"{target}/updates", "happy", f"{name} updates the instance"
    kind = "async" if o.is_async else "happy"
    what = kind_of(o.ok)
    verb = "resolves to" if o.is_async else "returns"
    return f"{target}/returns/{what}", kind, f"{name} {verb} {what}"


def group_behaviours(kept: Sequence[Observed]) -> list[JsBehaviour]:
    """The kept calls as behaviours (first seen first), then the model's part."""
    groups: dict[str, JsBehaviour] = {}
    for o in kept:
        key, kind, description = _group(o)
        if key not in groups:
            call, expected = _shown(o)
            groups[key] = JsBehaviour(Behaviour(
                kind=kind, description=description, call=call, expected=expected,
                origin="explored",
            ))  # fmt: skip
        groups[key].calls.append(o)
    for item in groups.values():
        if len(item.calls) > 1:
            item.behaviour.description += f" ({len(item.calls)} calls)"
    model = JsBehaviour(Behaviour(kind="happy", description=MODEL_LINE, origin="model"))
    return [*groups.values(), model]
