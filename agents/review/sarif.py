"""A review as SARIF 2.1.0 (``assay review --sarif FILE``): code-scanning tools (GitHub code
scanning, GitLab, IDE viewers) read it.

One run, tool ``assay``; one rule per category (``assay/bug``, ``assay/security`` …); one
result per finding: level from the severity (high → error, medium → warning, low → note), the
location on the head side, the fingerprint as a partial fingerprint (``assay/v1``), and what
backs the finding in its properties (the behaviour diff, a confirmed input, a verified
suggestion, a regression test).  A verified suggestion is also a SARIF fix (a replacement of the
line, or of the function for a repaired one).
"""

from __future__ import annotations

from typing import Any

from agents import __version__
from agents.review.report import CATEGORIES, Finding, ReviewReport, evidence_label

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVELS = {"high": "error", "medium": "warning", "low": "note"}


def _rule(category: str) -> dict[str, Any]:
    return {
        "id": f"assay/{category}",
        "name": category.title().replace("-", ""),
        "shortDescription": {"text": f"assay review: {category}"},
        "defaultConfiguration": {"level": "warning"},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    location = {
        "physicalLocation": {
            "artifactLocation": {"uri": finding.path, "uriBaseId": "SRCROOT"},
            "region": {"startLine": max(1, finding.line)},
        }
    }
    properties: dict[str, Any] = {"source": finding.source, "severity": finding.severity}
    if evidence_label(finding):
        properties["evidence"] = evidence_label(finding)
    if finding.evidence:
        properties["evidenceDetail"] = finding.evidence
    if finding.score is not None:
        properties["score"] = finding.score
    if finding.test:
        properties["regressionTest"] = finding.test
    result: dict[str, Any] = {
        "ruleId": f"assay/{finding.category}",
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding.severity, "note"),
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {"assay/v1": finding.fingerprint},
        "properties": properties,
    }
    if finding.suggestion and finding.verified:
        start = finding.suggestion_start or finding.line
        result["fixes"] = [
            {
                "description": {"text": "verified: the repository's tests pass with it"},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": finding.path, "uriBaseId": "SRCROOT"},
                        "replacements": [
                            {
                                "deletedRegion": {"startLine": start, "endLine": finding.line},
                                "insertedContent": {"text": finding.suggestion.rstrip() + "\n"},
                            }
                        ],
                    }
                ],
            }
        ]
    return result


def sarif_log(report: ReviewReport) -> dict[str, Any]:
    """The SARIF log of ``report``."""
    categories = [c for c in CATEGORIES if any(f.category == c for f in report.findings)]
    index = {c: i for i, c in enumerate(categories)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "assay",
                "version": __version__,
                "rules": [_rule(c) for c in categories],
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"description": {"text": "the repository's root"}}},
        "results": [_result(f, index[f.category]) for f in report.findings],
        "properties": {
            "reviewedHunks": report.reviewed_hunks,
            "totalHunks": report.total_hunks,
            "skipped": [
                {"path": s.path, "lines": s.lines, "reason": s.reason} for s in report.skipped
            ],
        },
    }
    if report.behaviour is not None:
        run["properties"]["behaviourDiff"] = report.behaviour.summary()
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
