"""The explore driver's pool of values and the arguments built from it (shipped beside it).

Seeds (the module's literals, its docstring examples' constants, simple defaults) stay in the
pool; what calls returned takes turns in ``POOL_PER_TYPE`` places per type.  A parameter gets a
value of a kind its annotation allows: one kind of a union first, then a value of it (a union of
a class and a collection is not all strings and lists), ``None`` one time in ten for an optional
one, a string now and then edited (a character dropped or added, upper case, two joined).

A mixin of the driver's ``Explorer`` (``rng``, ``pool``, ``seeds``, ``strings``, ``callables``,
``ns``).  Standalone like the driver: the standard library only, Python 3.8 syntax.
"""

import ast
import collections.abc
import inspect
import keyword
import types
import typing

MAX_EXPR = 160  # characters of a value's source kept in the pool
POOL_PER_TYPE = 24
CALLABLE_HINTS = (
    "fn", "func", "function", "mapper", "callback", "predicate", "handler", "key", "fork",
    "reject", "resolve", "folder", "filterer", "fail", "success", "transformer", "lazy",
)  # fmt: skip
# A parameter that counts digits, characters or repeats: a number of the pool such as the
# ``1200000000`` of ``intword("1200000000")`` passed as ``ndigits`` builds a string of a
# gigabyte in C code, where no alarm stops the call (humanize's hunt hung on it).
COUNT_HINTS = ("precision", "ndigits", "digits", "decimals", "places", "width", "indent",
               "repeat", "times", "count", "depth", "padding")  # fmt: skip
MAX_COUNT = 10_000
COLLECTIONS = (list, tuple, set, frozenset, collections.abc.Iterable, collections.abc.Sequence,
               collections.abc.Collection, collections.abc.Set)  # fmt: skip
UNIONS = (typing.Union, getattr(types, "UnionType", typing.Union))  # ``X | Y``: 3.10+


class Values:
    # What the driver's Explorer provides (annotations only: nothing at run time).
    rng: typing.Any
    pool: typing.Any
    seeds: typing.Any
    strings: typing.Any
    callables: typing.Any
    ns: typing.Any

    def _add_literal(self, text):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return
        self._add(type(value), text, seed=True)
        if isinstance(value, str):
            self.strings.append(value)

    def _add(self, kind, expr, seed=False):
        """Into the pool: a seed (a literal of the source, an example's) stays; what calls
        returned takes turns in ``POOL_PER_TYPE`` places after the seeds."""
        if len(expr) > MAX_EXPR:
            return
        exprs = self.pool.setdefault(kind, [])
        if expr in exprs:
            return
        seeds = self.seeds.get(kind, 0)
        if seed:
            exprs.insert(seeds, expr)
            self.seeds[kind] = seeds + 1
        elif len(exprs) - seeds >= POOL_PER_TYPE:
            exprs[self.rng.randrange(seeds, len(exprs))] = expr
        else:
            exprs.append(expr)

    def _of_type(self, kind):
        found = []
        for have, exprs in self.pool.items():
            try:
                if have is kind or (isinstance(have, type) and issubclass(have, kind)):
                    found.extend(exprs)
            except TypeError:
                continue
        return found

    def _mutated_string(self):
        text = self.rng.choice(self.strings) if self.strings else "abc"
        choice = self.rng.randrange(6)
        if choice == 0 and text:
            at = self.rng.randrange(len(text))
            text = text[:at] + text[at + 1 :]
        elif choice == 1:
            at = self.rng.randrange(len(text) + 1)
            text = text[:at] + self.rng.choice(" aZ0_-.@/:#") + text[at:]
        elif choice == 2:
            text = text.upper() if self.rng.random() < 0.5 else text.title()
        elif choice == 3 and self.strings:
            text = text + self.rng.choice([" ", ""]) + self.rng.choice(self.strings)
        elif choice == 4:
            text = " " + text + " "
        else:
            text = text * 2
        return repr(text[:80])

    def _value(self, annotation, name):
        """Source text of a value for a parameter."""
        kinds = self._kinds(annotation)
        lowered = name.lower()
        wants_callable = any(h == lowered or lowered.endswith("_" + h) or lowered.startswith(h)
                             for h in CALLABLE_HINTS)  # fmt: skip
        if "callable" in kinds or (wants_callable and self.rng.random() < 0.8):
            return self.rng.choice(self.callables)
        words = self._words(annotation)
        if words is not None:
            return words
        # One of the annotation's kinds first, then a value of it: a union of a class and a
        # collection is not all strings and lists (``other: Version | dict | Collection``).
        choices = []
        typed = [kind for kind in kinds if isinstance(kind, type) and kind is not type(None)]
        if type(None) in kinds and (not typed or self.rng.random() < 0.1):
            return "None"  # ``Optional[int]``: mostly an int (None is what the default says)
        self.rng.shuffle(typed)
        for kind in typed:  # the first kind that has values (a foreign class may have none)
            if kind is str and self.rng.random() < 0.3:
                return self._mutated_string()
            choices = self._of_type(kind)
            if choices:
                break
        if not choices or self.rng.random() < 0.1:
            # Anything: a kind first, so the many strings do not crowd out the few numbers.  A
            # function only where the annotation allows one (``when=lambda *a, **k: False`` for
            # ``when: dt.datetime | None`` is a test nobody would keep).
            if not typed and self.rng.random() < 0.05:
                return self.rng.choice(self.callables)
            kind = self.rng.choice(sorted(self.pool, key=lambda k: k.__name__))
            choices = self.pool[kind]
        value = self.rng.choice(choices)
        counts = any(lowered == h or lowered.endswith("_" + h) for h in COUNT_HINTS)
        if counts and _magnitude(value) > MAX_COUNT:
            return self.rng.choice(("0", "1", "2", "3", "10"))
        return value

    def _resolved(self, annotation):
        """An annotation written as a string (``from __future__ import annotations``) as the
        object it names, as far as the module's namespace tells."""
        if not isinstance(annotation, str):
            return annotation
        try:
            return eval(annotation, self.ns)
        except Exception:
            head = annotation.strip("'\" ").split("[")[0].split(".")[-1]
            return self.ns.get(head, inspect.Parameter.empty)

    def _words(self, annotation):
        """For a collection of strings (``suppress: Iterable[str]``), half the time, a list of
        one or two of the module's strings that read as names (``['days']``): a set of names
        is what such a parameter takes, not ``'abc'`` read letter by letter.  Else None."""
        annotation = self._resolved(annotation)
        union = typing.get_origin(annotation) in UNIONS
        wanted = any(
            typing.get_origin(a) in COLLECTIONS
            and [x for x in typing.get_args(a) if x is not ...] == [str]
            for a in [*(typing.get_args(annotation) if union else ()), annotation]
        )
        if not wanted or self.rng.random() < 0.5:
            return None
        words = [t for t in dict.fromkeys(self.strings) if t.isidentifier()]
        if not words:
            return None
        return repr(sorted({self.rng.choice(words) for _ in range(1 + self.rng.randrange(2))}))

    def _kinds(self, annotation):
        """Types an annotation allows (``"callable"`` for callables); [] for anything."""
        if annotation is inspect.Parameter.empty or annotation is typing.Any:
            return []
        annotation = self._resolved(annotation)
        if annotation is inspect.Parameter.empty:
            return []
        origin = typing.get_origin(annotation)
        if origin in UNIONS:  # ``Optional[int]``, ``dt.timedelta | float``
            return [k for arg in typing.get_args(annotation) for k in self._kinds(arg)]
        if annotation is type(None):
            return [type(None)]
        try:
            import collections.abc as abc

            if (
                origin is abc.Callable
                or annotation is abc.Callable
                or annotation is typing.Callable
            ):
                return ["callable"]
        except Exception:
            pass
        if origin is not None and isinstance(origin, type):
            return [origin]
        if isinstance(annotation, type):
            return [annotation] + ([int] if annotation is float else [])
        return []

    def _arguments(self, func, skip_first):
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError):
            return None
        try:
            hints = typing.get_type_hints(func, self.ns)
        except Exception:
            hints = {}
        params = list(signature.parameters.values())
        if skip_first and params:
            params = params[1:]
        args, kwargs = [], []
        for p in params:
            annotation = hints.get(p.name, p.annotation)
            if p.kind is p.VAR_POSITIONAL:
                args += [self._value(annotation, p.name) for _ in range(self.rng.randrange(3))]
            elif p.kind is p.VAR_KEYWORD:
                kwargs += self._extra_keywords(annotation, {q.name for q in params})
            elif p.default is not p.empty:
                if self.rng.random() < 0.5:
                    value = self._value(annotation, p.name)
                    if p.kind is p.POSITIONAL_ONLY:
                        args.append(value)
                    else:
                        kwargs.append(f"{p.name}={value}")
            elif p.kind is p.KEYWORD_ONLY:
                kwargs.append(f"{p.name}={self._value(annotation, p.name)}")
            else:
                args.append(self._value(annotation, p.name))
        return args + kwargs

    def _extra_keywords(self, annotation, taken):
        """Keyword arguments for a ``**kwargs`` parameter, half the time: one or two names
        among the module's strings that read as names (``replace(**parts)`` gets
        ``major=1``), or one it cannot know (``other=1``)."""
        if self.rng.random() < 0.5:
            return []
        names = [t for t in self.strings if t.isidentifier() and not keyword.iskeyword(t)]
        names = [t for t in dict.fromkeys(names) if t not in taken] or ["other"]
        chosen = []  # type: list[str]
        for _ in range(1 + self.rng.randrange(2)):
            name = self.rng.choice(names) if self.rng.random() < 0.8 else "other"
            if name not in chosen and name not in taken:
                chosen.append(name)
        return ["{}={}".format(n, self._value(annotation, n)) for n in chosen]

    def _receiver(self, cls):
        have = self._of_type(cls)
        if not have:
            return None
        return self.rng.choice(have)


def _magnitude(text):
    """The size of a number written as ``text`` (0 for anything else)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return abs(value)


class _Unqualified(ast.NodeTransformer):
    """``package.Name`` made ``Name`` where the namespace holds ``Name`` (see below)."""

    def __init__(self, package, ns):
        self.package, self.ns, self.changed = package, ns, False

    def visit_Attribute(self, node):
        value = node.value
        if isinstance(value, ast.Name) and value.id == self.package and node.attr in self.ns:
            self.changed = True
            return ast.copy_location(ast.Name(id=node.attr, ctx=node.ctx), node)
        self.generic_visit(node)
        return node


def local_examples(examples, module_name, ns):
    """The docstring examples as the module's own namespace runs them: in ``semver/version.py``
    ``semver.Version.parse("2.0.0").match(">=1.0.0")`` names the package, which the module does
    not hold, and becomes ``Version.parse('2.0.0').match('>=1.0.0')``; the others as they are."""
    package = module_name.split(".")[0]
    if package in ns or not hasattr(ast, "unparse"):
        return list(examples)
    out = []
    for text in examples:
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, ValueError):
            out.append(text)
            continue
        visitor = _Unqualified(package, ns)
        tree = visitor.visit(tree)
        out.append(ast.unparse(tree) if visitor.changed else text)
    return out
