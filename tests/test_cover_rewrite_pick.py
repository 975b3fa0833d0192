"""Which explored tests the model's readable rewrite goes to first (it has time for a few): the
least readable first, never one that calls the code as its docstring does; and a rewrite that
only writes a default out adds nothing."""

from __future__ import annotations

from agents.cover.rewrite import adds_nothing
from agents.cover.rewrite_context import defaults_of
from agents.cover.rewrite_pick import machine_likeness, rewrite_order

EXAMPLES = ["naturalsize(3000000)", 'semver.Version.parse("2.0.0").match(">=1.0.0")']
AS_DOCUMENTED = (
    "def test_naturalsize_returns_3_0_mb():\n    assert naturalsize(3000000) == '3.0 MB'\n"
)
PACKAGE_EXAMPLE = (
    "def test_version_match_returns_true():\n"
    "    assert Version.parse('2.0.0').match('>=1.0.0') is True\n"
)
PLAIN = "def test_naturalsize_returns_1_byte_for_1():\n    assert naturalsize(1) == '1 Byte'\n"
MESSAGE = (
    "def test_pgettext_returns_its_message():\n"
    "    result = _pgettext('', \"attribute 'major' is readonly\")\n"
    "    assert result == \"attribute 'major' is readonly\"\n"
)
ODD = (
    "def test_intcomma_of_bytes_and_a_frozenset_returns_a_string():\n"
    "    result = intcomma(b'abc', frozenset({1}))\n"
    "    assert isinstance(result, str)\n"
)


def test_a_test_of_the_docstrings_own_call_is_never_sent_and_the_oddest_goes_first() -> None:
    assert machine_likeness(AS_DOCUMENTED, EXAMPLES) is None
    assert machine_likeness(PACKAGE_EXAMPLE, EXAMPLES) is None  # `semver.` as a test calls it
    assert machine_likeness(PLAIN, EXAMPLES) == 0
    assert machine_likeness(MESSAGE, EXAMPLES) == 2  # an error message passed as a value
    # Bytes, a frozenset of a set, and only the type checked.
    assert machine_likeness(ODD, EXAMPLES) == 8
    tests = [AS_DOCUMENTED, PLAIN, MESSAGE, PACKAGE_EXAMPLE, ODD]
    assert rewrite_order([(t, EXAMPLES) for t in tests]) == [4, 2, 1]
    assert machine_likeness("not python (", EXAMPLES) is None
    raises = (
        "def test_clamp_raises_value_error_for_0():\n"
        "    with pytest.raises(ValueError, match=re.escape('Invalid format. Must be a string')):\n"
        "        clamp(0, format=0)\n"
    )
    assert machine_likeness(raises, EXAMPLES) == 0  # the message checked is the code's


SIZES = """\
def naturalsize(value, binary=False, gnu=False, format="%.1f"):
    ...
"""


def test_a_rewrite_that_only_writes_a_default_out_adds_nothing() -> None:
    """Kept on humanize once: ``naturalsize(1)`` → ``naturalsize(1, binary=False)``, same name."""
    defaults = defaults_of(SIZES, "naturalsize")
    assert defaults == {"binary": "False", "gnu": "False", "format": "'%.1f'"}
    written_out = PLAIN.replace("naturalsize(1)", "naturalsize(1, binary=False)")
    assert adds_nothing(PLAIN, written_out, defaults)
    assert not adds_nothing(PLAIN, written_out)  # without the defaults: a change
    other = PLAIN.replace("naturalsize(1)", "naturalsize(1, binary=True)")
    assert not adds_nothing(PLAIN, other, defaults)  # another value is a change
