"""A cover run as JUnit XML (``assay cover --junit FILE``), for CI test-report views (GitLab's
``artifacts:reports:junit``, Jenkins, Azure, GitHub actions that read JUnit).

One ``testsuite`` per repository (``assay cover``); one ``testcase`` per target function:
passed when a test for it was accepted (its gained lines in ``system-out``), skipped with the
rejection reasons when none passed the gates.  A ``coverage`` testcase carries the line+branch
coverage before → after and fails when ``--fail-under`` is not met; a run that stopped on an
error or the model failing is an ``error`` of it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from agents.cover.report import CoverReport


def _suite(name: str, report: CoverReport, fail_under: float | None) -> ET.Element:
    suite = ET.Element("testsuite", name=f"assay cover: {name}")
    counts: Counter[str] = Counter()
    for target in report.targets:
        path, _, function = target.target.partition("::")
        case = ET.SubElement(suite, "testcase", classname=path, name=function or path, time="0")
        counts["tests"] += 1
        if target.accepted:
            ET.SubElement(case, "system-out").text = (
                f"{target.accepted} test(s) accepted; lines gained: "
                + (", ".join(map(str, target.gained_lines)) or "none")
            )
        else:
            why = ", ".join(sorted(set(target.rejected))) or "no test was proposed"
            ET.SubElement(case, "skipped", message=f"no test passed the gates: {why}")
            counts["skipped"] += 1
    before = report.total_before.combined if report.total_before else 0.0
    after = report.total_after.combined if report.total_after else before
    case = ET.SubElement(suite, "testcase", classname="assay", name="coverage",
                         time=f"{report.wall_seconds:.1f}")  # fmt: skip
    counts["tests"] += 1
    ET.SubElement(case, "system-out").text = (
        f"line+branch coverage {before:.1f} % -> {after:.1f} %; {report.accepted} test(s) "
        f"accepted; written: {', '.join(report.written) or 'nothing'}; stopped: {report.stopped}"
    )
    if report.stopped.startswith("error"):
        ET.SubElement(case, "error", message=report.stopped[:500])
        counts["errors"] += 1
    elif fail_under is not None and after < fail_under:
        ET.SubElement(case, "failure", message=f"coverage {after:.1f} % is below {fail_under:g} %")
        counts["failures"] += 1
    for key in ("tests", "failures", "errors", "skipped"):
        suite.set(key, str(counts[key]))
    suite.set("time", f"{report.wall_seconds:.1f}")
    return suite


def junit_xml(reports: dict[str, CoverReport], fail_under: float | None = None) -> str:
    """The JUnit XML document of one or more cover runs (by repository name)."""
    root = ET.Element("testsuites", name="assay cover")
    for name, report in reports.items():
        root.append(_suite(name, report, fail_under))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
