"""A pytest plugin that :meth:`flows.sandbox.Sandbox.run_tests` loads with ``contexts=True``:
coverage records each test's lines under the test's node id (what pytest-cov's
``--cov-context=test`` does).  Written beside a run's copy and imported there by name; it runs
on the project's interpreter, so it keeps to Python 3.8 and the standard library plus coverage.
"""

import coverage


def _switch(name):
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(name)


def pytest_runtest_setup(item):
    _switch(item.nodeid)


def pytest_runtest_teardown(item, nextitem):
    _switch(item.nodeid)
