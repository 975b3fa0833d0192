"""Values of the standard library's value types a module works on (shipped beside the driver).

A module about durations (``naturaldelta(value: dt.timedelta | float)``) is rarely called with a
duration from its literals and what its calls returned: none of its literals is a timedelta, and
the calls that return one want one first. When the module's namespace holds ``datetime`` (under
its own alias: ``import datetime as dt``), or one of the value types below, the pool gets a few
values of those types written the way the module writes them
(``dt.timedelta(microseconds=1500)``): numbers a person would pick, durations of every scale a
person names (seconds to a few months, a year and some days, a year and some months, two years),
which the differential search then moves onto a mutated line's boundaries
(``dt.timedelta(microseconds=1000)``). Dates relative to today (``dt.date.today()``, an hour
ago) reach what compares with the clock and give results that do not vary between runs ("today",
"an hour ago"). A module that imports ``math`` (or its ``isinf``) gets infinities and NaN
(``float('inf')``); one whose code names ``set`` or ``frozenset`` gets sets (no literal of the
source is one, and ``_ComplementSet(excluded=…)`` asserts that it gets one).

Standalone like the driver: the standard library only, Python 3.8 syntax.
"""

import ast
import datetime
import decimal
import fractions
import math
import types
import typing  # noqa: F401 (type comments: Python 3.8 syntax)

# Per type, how a value is written, ``{}`` being the type as the module names it.
RECIPES = {
    datetime.timedelta: (
        "{}()", "{}(seconds=1)", "{}(seconds=45)", "{}(minutes=30)", "{}(hours=2)",
        "{}(days=1)", "{}(days=3, hours=4)", "{}(days=100)", "{}(days=370)", "{}(days=400)",
        "{}(days=500)", "{}(days=800)", "{}(microseconds=1500)",
        "{}(milliseconds=250)", "{}(days=-1)", "{}(weeks=6)",
    ),
    datetime.datetime: (
        "{}(2024, 2, 29, 12, 30, 45)", "{}(2000, 1, 1)", "{}(1999, 12, 31, 23, 59, 59)",
    ),
    datetime.date: ("{}(2024, 2, 29)", "{}(2000, 1, 1)", "{}(1999, 12, 31)"),
    datetime.time: ("{}(12, 30)", "{}(23, 59, 59)", "{}()"),
    decimal.Decimal: ("{}('1.5')", "{}('-0.25')", "{}('1000')", "{}('0')"),
    fractions.Fraction: ("{}(1, 3)", "{}(-5, 2)", "{}(0)"),
}  # fmt: skip
# Relative to the clock, when the module can name both the type and ``timedelta``.
FROM_NOW = {
    datetime.date: ("{0}.today()", "{0}.today() - {1}(days=1)", "{0}.today() + {1}(days=1)"),
    datetime.datetime: (
        "{0}.now() - {1}(seconds=30)", "{0}.now() - {1}(hours=3)", "{0}.now() + {1}(days=2)",
    ),
}  # fmt: skip
# A module that asks ``math.isinf(value)`` wants the values that answer yes.
NOT_FINITE = ("float('inf')", "float('-inf')", "float('nan')")
SETS = ((set, "set()"), (set, "{1, 2}"), (set, "{'a'}"), (frozenset, "frozenset({1})"))
SET_NAMES = ("set", "frozenset")
MODULES = {datetime: ("timedelta", "datetime", "date", "time"), decimal: ("Decimal",),
           fractions: ("Fraction",)}  # fmt: skip


def _names(namespace):
    """Each value type of ``RECIPES`` the namespace can name → how it names it (the shortest:
    ``timedelta`` when imported by name, else ``dt.timedelta``)."""
    named = {}  # type: dict[type, str]
    for name, value in sorted(namespace.items()):
        if name.startswith("__"):
            continue
        if isinstance(value, type) and value in RECIPES:
            found = [(value, name)]
        elif isinstance(value, types.ModuleType) and value in MODULES:
            found = [(getattr(value, attr), name + "." + attr) for attr in MODULES[value]]
        else:
            continue
        for kind, text in found:
            if kind not in named or len(text) < len(named[kind]):
                named[kind] = text
    return named


def stdlib_values(namespace):
    """(type, source) of the values of the standard library's value types ``namespace`` (a
    module's) can name, in the module's own spelling."""
    named = _names(namespace)
    values = []  # type: list[tuple[type, str]]
    delta = named.get(datetime.timedelta)
    for kind, text in sorted(named.items(), key=lambda item: item[1]):
        values += [(kind, recipe.format(text)) for recipe in RECIPES[kind]]
        if delta is not None and kind in FROM_NOW:
            values += [(kind, recipe.format(text, delta)) for recipe in FROM_NOW[kind]]
    asks = (math, math.isinf, math.isnan, math.isfinite)
    if any(any(v is a for a in asks) for v in namespace.values()):
        values += [(float, text) for text in NOT_FINITE]
    return values


def builtin_values(source):
    """(type, source) of the values of builtin types no literal writes that ``source`` (the
    module's code) names: sets, when its code names ``set`` or ``frozenset`` (the word in a
    docstring or a comment does not count)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    names = any(isinstance(n, ast.Name) and n.id in SET_NAMES for n in ast.walk(tree))
    return list(SETS) if names else []


def stdlib_imports(namespace, names):
    """The imports a test needs for those of ``names`` that are, in ``namespace``, a module or
    a value type of the standard library above (``dt`` → ``import datetime as dt``): a test
    imports them from where they live, not from the module under test."""
    imports = {}  # type: dict[str, str]
    for name in names:
        value = namespace.get(name)
        if isinstance(value, types.ModuleType) and value in MODULES:
            real = value.__name__
            imports[name] = "import " + real if real == name else f"import {real} as {name}"
        elif isinstance(value, type) and value in RECIPES:
            real = value.__name__
            alias = "" if real == name else " as " + name
            imports[name] = f"from {value.__module__} import {real}{alias}"
    return imports
