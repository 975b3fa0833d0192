"""Command lines, for the explore driver (shipped beside it): a module that builds an
``argparse`` parser is explored through the command lines its parser accepts.

Random values rarely make a command line: ``main(cliargs=1)`` and ``cmd_check([])`` reach code
but test nothing a person would keep.  A call that returns an ``ArgumentParser``
(``createparser()``) says what the program takes: its subcommands, their positional arguments,
the choices of each, its flags.  :meth:`CommandLines._learn_parser` walks the parser, makes up
to ``COMMAND_LINES`` command lines (a path through the subcommands, each positional filled from
its choices or, mostly, from the strings of the docs' examples, a flag now and then), keeps
those the parser accepts, and puts each into the pool twice: as a list of strings
(``main(['check', '1.2.3'])``) and as the namespace it parses to
(``createparser().parse_args(['check', '1.2.3'])``, for ``cmd_check(args: argparse.Namespace)``).

A mixin of the driver's ``Explorer`` (``rng``, ``strings``, ``example_strings``, ``parsers``,
``_add``).  Standalone like the driver: the standard library only, Python 3.8 syntax.
"""

import argparse
import ast
import io
import signal
import sys
import typing

COMMAND_LINES = 40  # command lines tried per parser (those it accepts join the pool)
MAX_PARSERS = 4  # parsers learned from per exploration
MAX_DEPTH = 4  # subcommands within subcommands
PARSE_SECONDS = 1.0  # one parse's limit (a ``type=`` converter is the module's code)
FLAG_CHANCE = 0.3  # how often an optional argument is given
EXAMPLE_CHANCE = 0.7  # how often a word is one of the docs' examples' strings


class CommandLines:
    # What the driver's Explorer provides (annotations only: nothing at run time).
    rng: typing.Any
    strings: typing.Any
    example_strings: typing.Any
    parsers: typing.Any  # the expressions of the parsers learned from
    _add: typing.Any

    def _learn_parser(self, expr, parser):
        """Command lines ``parser`` (the value of ``expr``) accepts, into the pool."""
        if expr in self.parsers or len(self.parsers) >= MAX_PARSERS:
            return
        self.parsers.add(expr)
        made = set()
        for _ in range(COMMAND_LINES):
            argv = self._command_line(parser, 0)
            if tuple(argv) in made:
                continue
            made.add(tuple(argv))
            if _parses(parser, argv):
                self._add(list, repr(argv), seed=True)
                self._add(argparse.Namespace, f"{expr}.parse_args({argv!r})", seed=True)

    def _command_line(self, parser, depth):
        """One command line for ``parser``: its positionals, a flag now and then, then one of
        its subcommands with a command line of its own."""
        argv = []  # type: list[str]
        sub = None
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                sub = action
            elif not action.option_strings:
                argv += [self._word(action) for _ in range(_count(action, self.rng))]
            elif _is_flag(action) and self.rng.random() < FLAG_CHANCE:
                argv.append(action.option_strings[-1])
                if action.nargs != 0:
                    argv += [self._word(action) for _ in range(max(1, _count(action, self.rng)))]
        if sub is not None and sub.choices and depth < MAX_DEPTH:
            name = self.rng.choice(sorted(sub.choices))
            argv += [name, *self._command_line(sub.choices[name], depth + 1)]
        return argv

    def _word(self, action):
        """A value for one argument: one of its choices, else mostly a string the docs'
        examples use (``'1.2.3'``), else any string of the pool."""
        if action.choices:
            return str(self.rng.choice(list(action.choices)))
        if self.example_strings and self.rng.random() < EXAMPLE_CHANCE:
            return self.rng.choice(self.example_strings)
        return self.rng.choice(self.strings) if self.strings else "a"


def strings_in(texts):
    """The string constants in ``texts`` (literals, example calls), each once."""
    found = []
    for text in texts:
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and value not in found:
                found.append(value)
    return found


def _count(action, rng):
    """How many values a command line gives ``action`` (its ``nargs``)."""
    nargs = action.nargs
    if nargs is None:
        return 1
    if isinstance(nargs, int):
        return nargs
    return {"?": rng.randrange(2), "*": rng.randrange(3), "+": 1 + rng.randrange(2)}.get(nargs, 0)


def _is_flag(action):
    """An optional argument worth giving: not ``--help`` nor ``--version`` (they exit)."""
    return not isinstance(action, (argparse._HelpAction, argparse._VersionAction))


def _parses(parser, argv):
    """Whether ``parser`` accepts ``argv`` (silently, and within ``PARSE_SECONDS``)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    signal.setitimer(signal.ITIMER_REAL, PARSE_SECONDS)
    try:
        parser.parse_args(argv)
        return True
    except BaseException:  # SystemExit from a refused line, the driver's alarm, the module's own
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout, sys.stderr = saved
