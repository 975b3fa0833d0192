"""An options object's keys, on their own and in pairs: how a JS API's options are explored.

JavaScript APIs take their switches as an options object (``parse(str, { allowDots: true })``),
and most of their branches and most of their bugs sit on those keys: a value compared with
(``opts.charset === 'iso-8859-1'``) or looked up by (``opts.arrayFormat in generators``), a
type checked (``typeof opts.depth === 'number'``), a value of the wrong type refused (``throw
new TypeError('Decoder has to be a function.')``), two keys together (``arrayFormat: 'comma'``
with ``encodeValuesOnly: true``).  Random arguments rarely build such an object.
:func:`option_objects` reads the keys a module takes off its options (``opts``, ``options``,
``config``…) and the values it compares them with, looks them up by or checks their type
against, and gives one small object per key and value — the wrong type included, so the
checks that refuse it run — then objects of two keys.  :func:`sweep_args` makes, for a
function with an options parameter, one call per object with the first arguments of its own
examples (its JSDoc and README calls), so each key is seen on input the function is meant
for, and with a first argument of every kind of value; and each object again after the input an
example shows one of its keys on (``parse('foo[]&bar=baz', { allowEmptyArrays: true })``: that
string under ``{ strictNullHandling: true, allowEmptyArrays: true }``).
"""

from __future__ import annotations

import re
from typing import Any

from agents.cover.js.jstext import node_text, outside_strings

OPTION_NAMES = re.compile(r"^(opts?|options|config|cfg|settings)$", re.I)
COMPARISONS = frozenset({"===", "!==", "==", "!="})
LITERALS = frozenset({"number", "string", "true", "false", "null"})
NUMBERS = frozenset({"Infinity", "NaN"})  # identifiers a key is compared with as a value
# ``typeof opts.key === 'T'``: values of that type, then one of another (the refusal's input)
OF_TYPE = {
    "boolean": ["true", "false", "'yes'"],
    "number": ["0", "1", "'1'"],
    "string": ["''", "'a'", "1"],
    "function": ["(value) => value", "(key, value) => value", "'f'"],  # JSON's replacer shape
    "object": ["{}", "null"],
}
VALUES_PER_KEY = 5
OTHER = "'other'"
SWEEP_PER_TARGET = 480
SHOWN_PER_KEY = 2  # examples showing a key whose first arguments each object with it meets
SHOWN_CALLS = 400  # calls on those, past SWEEP_PER_TARGET
SPLICED = 60  # strings crossed from two examples (_spliced)
PREFIXES = 3  # first arguments a sweep tries each object with
PAIRS = 240  # objects of two keys: a mode with a switch, two switches
# For a function whose examples pass an object first: one holding each kind of value, at the
# top and nested (what a serializer's switches act on: nulls, empty strings and arrays, dates…)
EVERY_KIND = ("{ a: 'b', c: null, d: '', e: ['f', 'g'], h: ['i'], j: [], u: [null], "
              "k: { l: 'm', n: null, o: [new Date(0)] }, 'q.r': 's', t: new Date(0) }")  # fmt: skip


def option_key(node: Any) -> str:
    """``opts.key`` → "key" (an options object's member), else ""."""
    if node is None or node.type != "member_expression":
        return ""
    obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
    if obj is None or prop is None or obj.type != "identifier":
        return ""
    return node_text(prop) if OPTION_NAMES.match(node_text(obj)) else ""


def _typeof_key(node: Any) -> str:
    """``typeof opts.key`` → "key", else ""."""
    if node is None or node.type != "unary_expression":
        return ""
    op, arg = node.child_by_field_name("operator"), node.child_by_field_name("argument")
    return option_key(arg) if op is not None and node_text(op) == "typeof" else ""


def _compared(node: Any) -> tuple[str, list[str]] | None:
    """A comparison of an option with a literal: (key, values to try)."""
    op = node.child_by_field_name("operator")
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if op is None or node_text(op) not in COMPARISONS or left is None or right is None:
        return None
    for side, other in ((left, right), (right, left)):
        if other.type not in LITERALS and node_text(other) not in NUMBERS:
            continue
        if key := option_key(side):
            return key, [node_text(other)]
        if (key := _typeof_key(side)) and other.type == "string":
            return key, OF_TYPE.get(node_text(other)[1:-1], [])
    return None


def _object_keys(root: Any) -> dict[str, list[str]]:
    """The module's ``var name = { key: …, 'other-key': … }`` objects: name → keys, quoted."""
    found: dict[str, list[str]] = {}
    stack = [root]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type != "variable_declarator":
            continue
        name, value = n.child_by_field_name("name"), n.child_by_field_name("value")
        if name is None or value is None or value.type != "object":
            continue
        keys = [c.child_by_field_name("key") for c in value.named_children if c.type == "pair"]
        found[node_text(name)] = [
            node_text(k) if k.type == "string" else f"'{node_text(k)}'"
            for k in keys if k is not None and k.type in ("string", "property_identifier")
        ]  # fmt: skip
    return found


def _in_object(node: Any, objects: dict[str, list[str]]) -> tuple[str, list[str]] | None:
    """``opts.key in TABLE`` (a module-level object): (key, the table's keys)."""
    op = node.child_by_field_name("operator")
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if op is None or node_text(op) != "in" or right is None or right.type != "identifier":
        return None
    key = option_key(left)
    return (key, objects[node_text(right)]) if key and objects.get(node_text(right)) else None


def option_objects(root: Any) -> list[str]:
    """One ``{ key: value }`` per key the module reads off an options object and per value it
    compares that key with or looks it up by (``opts.format in formatters``: each key of the
    module's ``formatters``; ``true``, ``false`` for a key only read); then objects of two
    keys (:func:`_pairs`)."""
    keys: dict[str, list[str]] = {}
    tables = _object_keys(root)
    stack = [root]
    while stack:
        n = stack.pop()
        stack.extend(reversed(n.children))
        if key := option_key(n):
            keys.setdefault(key, [])
        elif n.type == "binary_expression" and (found := _compared(n) or _in_object(n, tables)):
            values = keys.setdefault(found[0], [])
            values += [v for v in found[1] if v not in values]
            if found[1][:1] and found[1][0][:1] in "'\"" and OTHER not in values:
                values.append(OTHER)  # a string none of the comparisons expects
    chosen = {  # a mode keeps its unexpected string past the cut (and so its pairs)
        key: values[:VALUES_PER_KEY] + [OTHER] * (OTHER in values[VALUES_PER_KEY:])
        or ["true", "false"]
        for key, values in keys.items()
    }
    singles = [f"{{ {key}: {value} }}" for key, values in chosen.items() for value in values]
    return singles + _pairs(chosen)


def _pairs(chosen: dict[str, list[str]]) -> list[str]:
    """Where most of an options object's branches sit: two keys together — each value of a
    mode (a key compared with strings: ``arrayFormat: 'comma'``) with each switch (a key that
    takes ``true``) on, then two switches on."""
    modes = [(k, v) for k, values in chosen.items() if OTHER in values for v in values
             if v[:1] in "'\"" and v != OTHER]  # fmt: skip
    switches = [k for k, values in chosen.items() if "true" in values]
    out = [f"{{ {k}: {v}, {on}: true }}" for k, v in modes for on in switches if on != k]
    out += [
        f"{{ {a}: true, {b}: true }}" for i, a in enumerate(switches) for b in switches[i + 1 :]
    ]
    return out[:PAIRS]


def split_args(text: str) -> list[str]:
    """A call's argument list split at its top-level commas (quotes and brackets kept whole)."""
    parts, start = [], 0
    for i, ch, depth in outside_strings(text):
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return [*parts, last] if last else parts


def _example_args(example: str) -> list[str]:
    """An example call's arguments: ``parse('a=b', { comma: true })`` → ``["'a=b'", "{ comma:
    true }"]``."""
    return split_args(example[example.index("(") + 1 : -1]) if "(" in example else []


def sweep_args(params: list[str], examples: list[str], objects: list[str],
               fallback: list[str]) -> list[str]:  # fmt: skip
    """Argument lists of a function with an options parameter (not its first): each object of
    one key after the first arguments of its examples (``fallback`` values without examples)
    and after an empty string or :data:`EVERY_KIND` where they pass a string or an object; each
    object of two keys after one of them (:data:`EVERY_KIND` for an object); then each object
    after the first arguments of the examples passing one of its keys (:func:`_shown_with`)."""
    at = next((i for i, p in enumerate(params) if i and OPTION_NAMES.match(p)), None)
    if at is None or not objects:
        return []
    prefixes: list[str] = []
    for example in examples:
        args = _example_args(example)
        if len(args) >= at and ", ".join(args[:at]) not in prefixes:
            prefixes.append(", ".join(args[:at]))
    shown = prefixes[:PREFIXES]  # the examples' own
    for value in fallback:
        if len(prefixes) >= PREFIXES:
            break
        prefixes.append(", ".join([value] * at))
    prefixes = prefixes[:PREFIXES]
    if not prefixes:
        return []
    # the first argument's kind as the examples pass it: an object holding every kind of
    # value; an empty string (where ``{ plainObjects: true }`` decides what nothing parses to)
    kinds = [", ".join([value, *split_args(like[0])[1:]])
             for kind, value in (("{", EVERY_KIND), ("'", "''"))
             if (like := [p for p in shown or prefixes if p.startswith(kind)])]  # fmt: skip
    singles = [obj for obj in objects if len(split_args(obj.strip()[1:-1])) == 1]
    out = [f"{prefix}, {obj}" for obj in singles for prefix in kinds + prefixes]
    pairs_after = next((k for k in kinds if k.startswith("{")), prefixes[0])
    out += [f"{pairs_after}, {obj}" for obj in objects if obj not in singles]
    out = out[:SWEEP_PER_TARGET]
    shown_with, planned = _shown_with(examples, at), set(out)
    for obj in objects:  # each object after the input an example shows one of its keys on
        for prefix in dict.fromkeys(p for key in _keys(obj) for p in shown_with.get(key, ())):
            if (call := f"{prefix}, {obj}") not in planned:
                out.append(call)
                planned.add(call)
    out = out[: SWEEP_PER_TARGET + SHOWN_CALLS]
    return out + [call for call in _spliced(examples, at) if call not in planned]


def _spliced(examples: list[str], at: int) -> list[str]:
    """Two examples' strings crossed at the first separator both have, each with either
    example's options as written (``'a[]=b'`` shown with ``{ parseArrays: false }`` and
    ``'a=b,c'`` with ``{ comma: true }`` → ``'a[]=b,c', { comma: true }``): where the syntax
    each key acts on meets the other's, as a splicing fuzzer crosses its seeds.  The shortest
    :data:`SPLICED` strings."""
    shown: list[tuple[str, str]] = []
    for example in examples:
        args = _example_args(example)
        if at == 1 and len(args) > 1 and args[1].startswith("{") and _plain_string(args[0]):
            shown.append((args[0], args[1]))
    firsts = {first for first, _ in shown}
    crossed: dict[str, list[str]] = {}
    for a, opts_a in shown:
        for b, opts_b in shown:
            if a[0] != b[0] or opts_a == opts_b:
                continue
            inner_a, inner_b = a[1:-1], b[1:-1]
            mark = next((c for c in inner_a if not c.isalnum() and c in inner_b), "")
            text = (
                mark
                and a[0] + inner_a[: inner_a.index(mark)] + inner_b[inner_b.index(mark) :] + a[0]
            )
            if text and text not in firsts:
                options = crossed.setdefault(text, [])
                options += [o for o in (opts_a, opts_b) if o not in options]
    chosen = sorted(crossed, key=lambda text: (len(text), text))[:SPLICED]
    return [f"{text}, {opts}" for text in chosen for opts in crossed[text][:2]]


def _plain_string(text: str) -> bool:
    """A string literal with no escapes or inner quotes of its kind: ``'a=b'``."""
    quote = text[:1]
    return (
        len(text) >= 2
        and quote in "'\""
        and text[-1] == quote
        and "\\" not in text
        and (quote not in text[1:-1])
    )


def _keys(obj: str) -> list[str]:
    """``{ a: 1, 'b': 2 }`` → ["a", "b"]."""
    return [part.split(":", 1)[0].strip().strip("'\"") for part in split_args(obj.strip()[1:-1])]


def _shown_with(examples: list[str], at: int) -> dict[str, list[str]]:
    """Option key → the first arguments of the examples that pass it (``parse('foo[]&bar=baz',
    { allowEmptyArrays: true })``: "allowEmptyArrays" → ``'foo[]&bar=baz'``): the input its
    authors show the key acting on, where it meets the keys paired with it."""
    found: dict[str, list[str]] = {}
    for example in examples:
        args = _example_args(example)
        if len(args) > at and args[at].startswith("{"):
            for key in _keys(args[at]):
                found.setdefault(key, [])
                if (prefix := ", ".join(args[:at])) not in found[key]:
                    found[key].append(prefix)
    return {key: prefixes[:SHOWN_PER_KEY] for key, prefixes in found.items()}
