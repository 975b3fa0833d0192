"""What a docstring claims, checked against the code, run *inside the sandbox* (never imported
by assay).

``python claims_driver.py SPEC.json``: the spec names the module, the symbol's qualname and
``claims`` (``{"expr": "clamp(7, 0, 5)", "expected": "5"}``).  It runs the ``>>>`` examples of
the symbol's docstring with :mod:`doctest` (an example whose output differs is printed as a
contradiction) and evaluates each claim: the value compared with the expected one (a literal:
equal; else its ``repr`` or ``str``), or the exception with the exception named.  One
``ASSAY_CLAIM {json}`` line per example or claim: ``expr``, ``expected``, ``got``, ``agrees``
(true, false, or null when it cannot tell).

Standalone (standard library only, Python 3.8 syntax): it runs on the project's interpreter.
"""

import ast
import doctest
import json
import sys

MARK = "ASSAY_CLAIM "
MAX = 300
OUT = sys.stdout  # doctest swaps sys.stdout while an example runs


def emit(item):
    OUT.write("\n" + MARK + json.dumps(item) + "\n")
    OUT.flush()


def find(module, qualname):
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def outcome(text):
    """An example's expected or actual output; a traceback as its last line (the exception and
    its message: what a reader compares, not doctest's own frames)."""
    text = text.strip()
    if text.startswith("Traceback (most recent call last):"):
        lines = [line for line in text.splitlines() if line.strip()]
        text = lines[-1].strip() if lines else text
    return text[:MAX]


class Recorder(doctest.DocTestRunner):
    def report_failure(self, out, test, example, got):
        emit({"expr": example.source.strip(), "expected": outcome(example.want),
              "got": outcome(got), "agrees": False, "doctest": True})  # fmt: skip

    def report_success(self, out, test, example, got):
        emit({"expr": example.source.strip(), "expected": example.want.strip()[:MAX],
              "got": got.strip()[:MAX], "agrees": True, "doctest": True})  # fmt: skip

    def report_unexpected_exception(self, out, test, example, exc_info):
        got = "{}: {}".format(exc_info[0].__name__, exc_info[1])
        emit({"expr": example.source.strip(), "expected": example.want.strip()[:MAX],
              "got": got[:MAX], "agrees": False, "doctest": True})  # fmt: skip


def run_examples(module, obj, qualname):
    finder = doctest.DocTestFinder(recurse=False)
    try:
        tests = finder.find(obj, qualname, module=module, globs=dict(vars(module)))
    except Exception:
        return
    runner = Recorder(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test, out=lambda text: None, clear_globs=True)


def judge(value, raised, expected):
    """True, False, or None (cannot tell) for an outcome against the expected text.  A call
    that raised where a value was expected cannot tell: the model wrote the call, and a call
    with the wrong arguments says nothing about the code."""
    text = expected.strip()
    if raised is not None:
        named = [w.strip(".:,()`'\"") for w in text.replace(":", " ").split()]
        if any(w.endswith(("Error", "Exception", "Warning")) for w in named):
            return type(raised).__name__ in named
        return None
    try:
        wanted = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if text in (repr(value), str(value)):
            return True
        if any(text.endswith(w) for w in ("Error", "Exception")):
            return False  # an exception was expected; a value came
        return None
    try:
        return bool(value == wanted)
    except Exception:
        return None


def check_claims(module, claims):
    for claim in claims:
        expr, expected = claim.get("expr", ""), str(claim.get("expected", ""))
        namespace = dict(vars(module))
        value, raised = None, None
        try:
            value = eval(compile(expr, "<claim>", "eval"), namespace)  # in the sandbox
        except SyntaxError:
            emit({"expr": expr, "expected": expected, "got": "not an expression", "agrees": None})
            continue
        except Exception as exc:
            raised = exc
        if raised is not None:
            got = "{}: {}".format(type(raised).__name__, raised)
        else:
            try:
                got = repr(value)
            except Exception:
                got = "<unprintable>"
        emit({"expr": expr, "expected": expected, "got": got[:MAX],
              "agrees": judge(value, raised, expected), "raised": raised is not None})  # fmt: skip


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    module = __import__(spec["module"], fromlist=["*"])
    obj = find(module, spec["qualname"])
    run_examples(module, obj, spec["qualname"])
    check_claims(module, spec.get("claims") or [])
    emit({"done": True})


if __name__ == "__main__":
    main(sys.argv)
