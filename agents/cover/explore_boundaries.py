"""Calls near a mutant's boundary, for differential exploration (shipped beside the driver).

A mutant on ``if seconds < 3600 * 2:`` (``<`` → ``<=``) is told apart from the original only by
the input that lands exactly on 7200: random arguments from the module's literals almost never
do (7200 is not among them).  So when a call reaches a mutated line without telling the two
apart, the driver tries the same call with its numbers, or else its arguments, replaced by the
line's constants (literals and constant expressions, each evaluated) and their neighbours
(``k - 1``, ``k``, ``k + 1``): ``naturaldelta(60)`` becomes ``naturaldelta(7200)``,
``naturaldelta(timedelta(days=3))`` becomes ``naturaldelta(timedelta(days=365))``.  A call
that passes keyword arguments is tried first without each of them: a changed default
(``format="%.1f"`` → ``"%.1fX"``) shows only in a call that leaves the argument out.  A
parameter the line names is passed the line's values (``elif token is None:`` →
``bump_build(token=None)``); two equal numbers, or all of a call's numbers, move together
(``0 == self.major == other.major``); a mutant in a branch's body takes its values from the
condition over it.

Standalone like the driver: the standard library only, Python 3.8 syntax.
"""

import ast
import re
import textwrap
import typing  # noqa: F401 (type comments: Python 3.8 syntax)

MAX_VALUES = 12  # constants of one line, neighbours included
MAX_NAMED = 24  # numbers of the module's constants a function names, neighbours included
MAX_NEAR = 64  # variants of one call
MAX_PAIRS = 6  # pairs of equal numbers in one call moved together
MAX_STRING = 20  # characters of a line's string worth putting into a call
MAX_PARAM_VALUES = 4  # strings and numbers of the line a parameter it names is given each
MAX_AT_ONCE = 4  # values all numbers of a call (or of a string) are set to at once
DIGITS = re.compile(r"[0-9]+")
LOGARITHM = re.compile(r"\blog(10|2)?\s*\(")
MAX_EXPONENT = 40  # a power of ten further out is not an input anyone passes
MAX_DIGIT_RUNS = 3  # numbers written inside one string that are moved
MAX_WRITTEN = 10**6  # a number put into a string ('%.1000000f' is still quick to format)
QUANTITY = 100  # a whole number this large is an amount, not a count or a precision
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
KEYWORDS = ("elif ", "if ", "while ", "return ", "assert ", "yield ")


def _expression(line):
    """The expression of a source line (``if a < 3:`` → ``a < 3``), or None."""
    text = line.strip()
    for word in KEYWORDS:
        if text.startswith(word):
            text = text[len(word) :]
            break
    text = text.rstrip(":").strip()
    if "=" in text and not any(op in text for op in ("==", "<=", ">=", "!=")):
        text = text.split("=", 1)[1].strip()  # an assignment's value
    for form in (text, "{" + text.rstrip(",") + "}"):  # an expression, or a dict's entry
        try:
            return ast.parse(form, mode="eval")
        except (SyntaxError, ValueError):
            continue
    return None


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def line_constants(lines):
    """The numbers a boundary on ``lines`` may sit on: each numeric literal and each constant
    sub-expression (``3600 * 2`` → 7200), with its integer neighbours, in order of appearance."""
    found = []  # type: list[float]
    for line in lines:
        tree = _expression(line)
        if tree is None:
            continue
        for node in ast.walk(tree):
            value = None  # type: typing.Any
            if isinstance(node, ast.Constant):
                value = node.value
            elif isinstance(node, (ast.BinOp, ast.UnaryOp)):
                try:
                    value = eval(compile(ast.Expression(node), "<boundary>", "eval"), {}, {})
                except Exception:  # a name in it: not constant
                    value = None
            if _number(value) and abs(value) < 10**12:
                found.append(value)
    return _with_neighbours(found)[:MAX_VALUES]


def named_constants(function_lines, namespace):
    """The numbers the module's own constants hold that the function (its source lines) names:
    ``if value < power`` inside ``for power in powers`` sits on ``powers``' elements, which no
    literal of the line shows.  Each with its integer neighbours, at most ``MAX_NAMED``."""
    try:
        tree = ast.parse(textwrap.dedent("".join(function_lines)))
    except (SyntaxError, ValueError):
        return []
    found = []  # type: list[float]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name) or node.id not in namespace:
            continue
        value = namespace[node.id]
        items = list(value) if isinstance(value, (list, tuple)) and len(value) <= 32 else [value]
        found += [v for v in items if _number(v) and abs(v) < 10**12 and v not in found]
    return _with_neighbours(found)[:MAX_NAMED]


def exponent_values(function_lines, values):
    """When the function takes a logarithm (``exponent = floor(log10(abs(value)))``), a
    boundary on ``exponent >= 33`` sits on ``1e+33``: each whole number of ``values`` as a
    power of ten (of two after ``log2``), and its negative."""
    found = LOGARITHM.search("".join(function_lines))
    if found is None:
        return []
    base = 2 if found.group(1) == "2" else 10
    out = []  # type: list[float]
    for k in values:
        if isinstance(k, int) and not isinstance(k, bool) and abs(k) <= MAX_EXPONENT:
            power = base**k if k >= 0 and base**k < 10**15 else float(base) ** k
            out += [v for v in (power, -power) if v not in out]
    return out


def _with_neighbours(found):
    """Each number of ``found`` with its integer neighbours, once each, in order."""
    values = []  # type: list[float]
    for k in found:
        for v in [k, k - 1, k + 1] if isinstance(k, int) else [k, int(k), int(k) + 1]:
            if v not in values:
                values.append(v)
    return values


def conditions_over(function_lines, first, line):
    """The conditions (``if``, ``elif``, ``while``), each as one line of source, that hold
    ``line`` in their test or decide whether it runs, in the function whose source is
    ``function_lines`` (starting at line ``first``): a mutant in a branch's body sits on the
    boundary its condition draws, and a line inside a condition written over several lines
    (``or (part == "major" and version.minor == version.patch == 0)``) reads only as the whole."""
    try:
        tree = ast.parse(textwrap.dedent("".join(function_lines)))
    except (SyntaxError, ValueError):
        return []
    at = line - first + 1
    out = []  # type: list[str]
    for node in ast.walk(tree):
        if not isinstance(node, (ast.If, ast.While)):
            continue
        test = node.test
        inside = [n for n in node.body + node.orelse if n.lineno <= at <= n.end_lineno]
        if inside or test.lineno <= at <= test.end_lineno:
            lines = function_lines[test.lineno - 1 : test.end_lineno]
            out.append(" ".join(text.strip() for text in lines))  # ``if (a and\n b):``
    return out


def line_parameters(lines, names):
    """The parameters among ``names`` (a function's, in order) that ``lines`` name, each with
    its position among a call's arguments (``self`` or ``cls`` not counted): ``(name, index)``."""
    words = set()  # type: set[str]
    for line in lines:
        tree = _expression(line)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Name):
                words.add(node.id)
    skip = 1 if names and names[0] in ("self", "cls") else 0
    return [(n, i - skip) for i, n in enumerate(names) if i >= skip and n in words]


def line_strings(lines):
    """The short strings of ``lines`` (``"!=": (-1, 1),`` → ``'!='``): an input that holds one
    takes the path the line decides on."""
    found = []  # type: list[str]
    for line in lines:
        tree = _expression(line)
        for node in ast.walk(tree) if tree is not None else ():
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and 0 < len(value) <= MAX_STRING and value not in found:
                found.append(value)
    return found[:MAX_VALUES]


def _with_strings(tree, expr, strings):
    """``expr`` with one of its strings made one of ``strings``, or led by one in place of its
    own leading punctuation (``'>=1.0.0'`` → ``'!=1.0.0'``)."""
    out = []  # type: list[str]
    spots = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for spot in spots:
        text = str(spot.value)
        for s in strings:
            for new in (s, s + text.lstrip(PUNCTUATION)):
                spot.value = new
                out.append(ast.unparse(tree))
        spot.value = text
    return out


def _with_digits(tree, values):
    """``tree`` with one number written inside one of its strings moved: to 0, one less, one
    more, ten times more, or one of ``values`` (``'<1.0.0'`` → ``'<0.0.0'``, ``'<2.0.0'``,
    ``'<10.0.0'``): a version, a date or a size the code compares inside the string; then
    with all its numbers made 0 or one of ``values`` at once (``'3.4.5-rc.2'`` →
    ``'0.0.0-rc.0'``)."""
    out = []  # type: list[str]
    spots = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    extra = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    extra = [v for v in extra if 0 <= v <= MAX_WRITTEN]
    for spot in spots:
        text = str(spot.value)
        runs = list(DIGITS.finditer(text))
        for found in runs[:MAX_DIGIT_RUNS]:
            n = int(found.group())
            for new in [0, n - 1, n + 1, n * 10 or 10, *extra]:
                if 0 <= new != n and (new <= MAX_WRITTEN or new < n * 11):
                    spot.value = text[: found.start()] + str(new) + text[found.end() :]
                    out.append(ast.unparse(tree))
        for new in [0, *extra][:MAX_AT_ONCE] if len(runs) > 1 else []:  # all at once
            spot.value = DIGITS.sub(str(new), text)
            out.append(ast.unparse(tree))
        spot.value = text
    return out


def _without_keywords(tree):
    """The call ``tree`` without each of its top-level keyword arguments in turn, then without
    all of them (the defaults apply)."""
    call = tree.body
    if not isinstance(call, ast.Call) or not call.keywords:
        return []
    keywords = list(call.keywords)
    out = []  # type: list[str]
    for index in range(len(keywords)):
        call.keywords = keywords[:index] + keywords[index + 1 :]
        out.append(ast.unparse(tree))
    call.keywords = [k for k in keywords if k.arg is None]  # ``**extra`` stays
    out.append(ast.unparse(tree))
    call.keywords = keywords
    return out


def _with_parameters(tree, params, values, strings):
    """The call ``tree`` with each of ``params`` (``(name, position)``: a parameter the mutated
    line names, its index among the call's positional arguments) given one of the line's
    ``strings``, ``None`` or one of its ``values``, in place or as a keyword: a line
    ``elif token == "":`` decides only for a call that passes ``token=""`` or ``None``, which
    a call leaving the default never does."""
    call = tree.body
    if not isinstance(call, ast.Call) or not params:
        return []
    numbers = [v for v in values if abs(v) <= MAX_WRITTEN][:MAX_PARAM_VALUES]  # maybe a count
    choices = [*list(strings)[:MAX_PARAM_VALUES], None, *numbers]
    out = []  # type: list[str]
    for name, position in params:
        keywords = list(call.keywords)
        passed = [k for k in keywords if k.arg == name]
        if passed:
            spot = passed[0]
            old = spot.value
            for v in choices:
                spot.value = ast.Constant(v)
                out.append(ast.unparse(tree))
            spot.value = old
        elif 0 <= position < len(call.args):
            old = call.args[position]
            for v in choices:
                call.args[position] = ast.Constant(v)
                out.append(ast.unparse(tree))
            call.args[position] = old
        else:
            for v in choices:
                call.keywords = [*keywords, ast.keyword(arg=name, value=ast.Constant(v))]
                out.append(ast.unparse(tree))
            call.keywords = keywords
    return out


def _with_pairs(tree, spots, values):
    """The call ``tree`` with two of its numbers (``spots``) that were equal moved together
    onto one of ``values``: ``if 0 == self.major == other.major`` compares two arguments with
    each other and with the line's constant, which moving one number at a time never
    satisfies (``Version(1, 0, 0).is_compatible(Version(1, 1, 0))`` →
    ``Version(0, 0, 0).is_compatible(Version(0, 1, 0))``)."""
    pairs = [(a, b) for i, a in enumerate(spots) for b in spots[i + 1 :]
             if a.value == b.value and type(a.value) is type(b.value)]  # fmt: skip
    out = []  # type: list[str]
    for v in values:
        for a, b in pairs[:MAX_PAIRS]:
            old = a.value
            if old != v:
                a.value = b.value = v
                out.append(ast.unparse(tree))
                a.value = b.value = old
    return out


def _all_at_once(tree, spots, values):
    """The call ``tree`` with all its numbers (``spots``) made one of ``values`` at once:
    ``version.minor == version.patch == 0`` holds for ``Version(0, 0, 0, 'rc')`` and for no
    call that moves one number of ``Version(3, 4, 5, 'rc')``."""
    numbers = [spot.value for spot in spots]
    out = []  # type: list[str]
    for v in values[:MAX_AT_ONCE] if len(spots) > 1 else []:
        for spot in spots:
            spot.value = v
        out.append(ast.unparse(tree))
    for i, spot in enumerate(spots):
        spot.value = numbers[i]
    return out


def near_calls(expr, values, strings=(), powers=(), params=()):
    """``expr`` (a call's source) without each of its keyword arguments; with each of
    ``params`` set to a value of the line (:func:`_with_parameters`); with ``strings``
    (:func:`line_strings`), with one of its strings replaced; with one number written inside
    a string moved, or all of them (:func:`_with_digits`); then with one of its numbers
    replaced by one of ``values``, or all of them (:func:`_all_at_once`), or two equal ones
    together (:func:`_with_pairs`), or, when it holds no number, one of its top-level
    arguments.  ``powers``
    (:func:`exponent_values`) replace only the call's first number or one that is a quantity
    (a float, or 100 and more), never a later small whole number: a precision of ``10**9``
    digits would build a string of a gigabyte in C code, where no alarm stops it."""
    if not hasattr(ast, "unparse"):  # Python 3.8: no way back to source
        return []
    try:
        tree = ast.parse(expr, mode="eval")
    except (SyntaxError, ValueError):
        return []
    spots = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and _number(n.value)]
    out = _without_keywords(tree)
    out += _with_parameters(tree, params, values, strings)
    out += _with_strings(tree, expr, strings) if strings else []
    out += _with_digits(tree, values)
    if spots:
        first = min(spots, key=lambda n: (n.lineno, n.col_offset))
        for spot in spots:
            number = spot.value
            big = isinstance(number, int) and abs(number) >= QUANTITY
            quantity = spot is first or isinstance(number, float) or big
            for v in list(values) + (list(powers) if quantity else []):
                spot.value = v
                out.append(ast.unparse(tree))
            spot.value = number
        out += _all_at_once(tree, spots, values)
        out += _with_pairs(tree, spots, values)
    elif isinstance(tree.body, ast.Call) and values:
        args = tree.body.args
        for i, arg in enumerate(list(args)):
            for v in values:
                args[i] = ast.Constant(v)
                out.append(ast.unparse(tree))
            args[i] = arg
    unique = []  # type: list[str]
    for text in out:
        if text != expr and text not in unique:
            unique.append(text)
    return unique[:MAX_NEAR]
