"""What held in every run of an explored call: the facts a test can check when the exact value
varies.  Runs *inside the sandbox*, shipped beside the driver (:mod:`explore_driver`); never
imported by assay.

The driver runs each kept call ``1 + RERUNS`` times.  :func:`facts_of` describes one outcome as
facts: its type (and how a test names it), its length, the sorted keys of a mapping, the sign of
a number, the types of a collection's elements (a mapping's values), its ``repr`` with addresses
masked, its ``str``, the public attributes of an object (their values, else their types), an
exception's type and message.  :func:`merge` keeps the facts that held in every run: a test
that checks only those cannot fail on a run like the observed ones.

Facts are JSON: ``type`` (a name), ``type_ref`` (how a test names the type: ``int`` for a
builtin, ``module:Name`` for a class the module under test holds by that name), ``len``,
``keys`` (sorted literal texts), ``sign`` (-1, 0, 1), ``elements`` and ``value_types`` (type
refs), ``repr_masked`` (:data:`MASK` where an address was), ``str``, ``attrs`` (name → literal
text), ``attr_types`` (name → type ref); for an exception ``raises``, ``raises_module`` and
``message``.  ``kind`` is ``value`` or ``raises``.

Standalone like the driver: standard library only, Python 3.8 syntax.
"""

import ast
import builtins
import collections
import math
import re

MAX_TEXT = 300  # characters of a repr, str or message worth checking
MAX_KEYS = 12
MAX_ATTRS = 4
MAX_ELEMENTS = 200  # elements looked at (all of them: a fact holds for every element)
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
MASK = " at 0x\u2026"  # where an address was, in ``repr_masked``
SIZED = (str, bytes, bytearray, list, tuple, dict, set, frozenset, range, collections.deque)
COLLECTIONS = (list, tuple, set, frozenset, collections.deque)
UNIONS = ("elements", "value_types")  # facts about every element: the union of every run's
MAX_UNION = 2  # element types a check names (``isinstance(x, (int, float))``)


def _text(show, value):
    """``show(value)`` when it works and is short, else None."""
    try:
        text = show(value)
    except BaseException:  # a broken __repr__ is the code under test's business
        return None
    return text if isinstance(text, str) and len(text) <= MAX_TEXT else None


def _literal(value):
    """``repr(value)`` when it reads back as an equal literal, else None."""
    if not isinstance(value, (str, bytes, int, float, bool, type(None), tuple, list, dict)):
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    text = _text(repr, value)
    if text is None or len(text) > 80:
        return None
    try:
        return text if ast.literal_eval(text) == value else None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def type_ref(cls, module):
    """How a test names ``cls``: ``int`` for a builtin type, ``mod:Name`` for a class
    ``module`` holds under its own name; None when a test cannot name it simply."""
    name = getattr(cls, "__name__", "")
    if cls is type(None):
        return "NoneType"
    if getattr(cls, "__module__", "") == "builtins" and getattr(builtins, name, None) is cls:
        return name
    if getattr(module, name, None) is cls and name.isidentifier():
        return module.__name__ + ":" + name
    return None


def _refs(values, module):
    """The type refs of ``values`` (sorted), or None when one cannot be named."""
    refs = set()
    for count, value in enumerate(values):
        if count >= MAX_ELEMENTS:
            return None
        ref = type_ref(type(value), module)
        if ref is None:
            return None
        refs.add(ref)
    return sorted(refs)


def _public_names(value):
    try:
        names = list(vars(value))
    except TypeError:
        names = []
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return sorted({n for n in names if isinstance(n, str) and not n.startswith("_")})


def _state(value, module, found):
    """The public attributes of an object: their literal values and their types."""
    attrs = {}  # type: dict[str, str]
    types = {}  # type: dict[str, str]
    for name in _public_names(value):
        if len(types) >= MAX_ATTRS:
            break
        try:
            attr = object.__getattribute__(value, name)
        except BaseException:
            continue
        ref = type_ref(type(attr), module)
        if ref is None:
            continue
        types[name] = ref
        text = _literal(attr)
        if text is not None:
            attrs[name] = text
    if attrs:
        found["attrs"] = attrs
    if types:
        found["attr_types"] = types


def _keys(value):
    """The sorted keys of a mapping as literal texts, or None."""
    if len(value) > MAX_KEYS:
        return None
    try:
        keys = sorted(value)
    except TypeError:
        return None
    texts = [_literal(k) for k in keys]
    return None if any(t is None for t in texts) else texts


def facts_of(kind, value, module):
    """The facts of one outcome: ``kind`` ``value`` (``value`` returned) or ``raises``."""
    cls = type(value)
    found = {"kind": kind}  # type: dict
    if kind == "raises":
        found.update(raises=cls.__name__, raises_module=cls.__module__)
        message = _text(str, value)
        if message is not None:
            found["message"] = ADDRESS.sub(MASK, message)
        return found
    if kind != "value":
        return found
    found["type"] = cls.__name__
    ref = type_ref(cls, module)
    if ref is not None:
        found["type_ref"] = ref
    shown = _text(repr, value)
    if shown is not None and ADDRESS.search(shown):
        found["repr_masked"] = ADDRESS.sub(MASK, shown)
    if cls.__module__ != "builtins":
        text = _text(str, value)
        if text is not None and text != shown and not ADDRESS.search(text):
            found["str"] = text
        _state(value, module, found)
    if isinstance(value, SIZED):
        found["len"] = len(value)
    if isinstance(value, dict):
        keys = _keys(value)
        if keys is not None:
            found["keys"] = keys
        values = _refs(value.values(), module)
        if values:
            found["value_types"] = values
    elif isinstance(value, COLLECTIONS):
        elements = _refs(value, module)
        if elements:
            found["elements"] = elements
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and not (isinstance(value, float) and math.isnan(value)):
        found["sign"] = (value > 0) - (value < 0)
    return found


def merge(runs):
    """The facts that held in every run; None when the runs did not all return, or all raise.

    A fact is kept when every run had it with the same value; an attribute when every run had
    the same; element types when every run named them and all runs together use at most
    :data:`MAX_UNION` types (then each element of each run was of one of them).
    """
    first = runs[0]
    if any(run.get("kind") != first.get("kind") for run in runs):
        return None
    kept = {}  # type: dict
    for key, value in first.items():
        others = [run.get(key) for run in runs[1:]]
        if key in UNIONS:
            if any(other is None for other in others):
                continue
            union = sorted(set(value).union(*others))
            if 0 < len(union) <= MAX_UNION:
                kept[key] = union
        elif isinstance(value, dict):
            same = {
                name: item
                for name, item in value.items()
                if all(isinstance(o, dict) and name in o and o[name] == item for o in others)
            }
            if same:
                kept[key] = same
        elif all(other == value for other in others):
            kept[key] = value
    return kept
