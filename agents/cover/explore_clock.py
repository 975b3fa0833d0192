"""A shifted clock for the explore driver (shipped beside it): does a call depend on today?

``naturaltime(dt.datetime(2024, 2, 1))`` says ``'2 years ago'`` in December 2026 and
``'3 years ago'`` from February: a test asserting the first breaks by itself, though it passed
four times in a row when it was written.  ``naturalday(dt.date.today())`` returns ``'today'``
on any day.  To tell them apart the driver runs a kept call once more as if it were another
day: the names of the module (and of the call's namespace) that stand for ``datetime``, its
``datetime`` or its ``date`` class are swapped for versions whose ``now()``/``today()``/
``utcnow()`` are ``SHIFT`` ahead, ``isinstance`` still true of real dates.  A call whose outcome
changes is not stable, and its test checks only what held on both days.

Standalone like the driver: the standard library only, Python 3.8 syntax.
"""

import contextlib
import datetime
import types

SHIFT = datetime.timedelta(days=400, hours=5, minutes=7)


class _Like(type):
    """Instances of the real class are instances of the shifted one (and of the real one)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls.__bases__[0])

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls.__bases__[0])


class ShiftedDateTime(datetime.datetime, metaclass=_Like):
    def __new__(cls, *args, **kwargs):  # a date the call builds is a real one (its repr too)
        return datetime.datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.now(tz) + SHIFT

    @classmethod
    def today(cls):
        return datetime.datetime.today() + SHIFT

    @classmethod
    def utcnow(cls):
        now = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 (3.8: no UTC)
        return now.replace(tzinfo=None) + SHIFT


class ShiftedDate(datetime.date, metaclass=_Like):
    def __new__(cls, *args, **kwargs):
        return datetime.date(*args, **kwargs)

    @classmethod
    def today(cls):
        return datetime.date.today() + SHIFT


def _shifted_module():
    module = types.ModuleType("datetime")
    module.__dict__.update(vars(datetime), datetime=ShiftedDateTime, date=ShiftedDate)
    return module


SHIFTED = {datetime.datetime: ShiftedDateTime, datetime.date: ShiftedDate}


def clock_names(namespace):
    """Name → its shifted stand-in, for the names of ``namespace`` bound to ``datetime`` or
    its ``datetime``/``date`` classes (empty: the namespace cannot read the clock this way)."""
    found = {}
    for name, value in list(namespace.items()):
        if value is datetime:
            found[name] = _shifted_module()
        elif isinstance(value, type) and value in SHIFTED:
            found[name] = SHIFTED[value]
    return found


@contextlib.contextmanager
def shifted(namespaces, stand_ins):
    """The names of ``stand_ins`` (:func:`clock_names` of the module) swapped for their shifted
    stand-ins in each of ``namespaces`` that has them (the module's globals, a call's
    namespace), put back after."""
    saved = []
    try:
        for namespace in namespaces:
            for name, stand_in in stand_ins.items():
                if name in namespace:
                    saved.append((namespace, name, namespace[name]))
                    namespace[name] = stand_in
        yield
    finally:
        for namespace, name, value in reversed(saved):
            namespace[name] = value
