"""A review's findings in the editor: diagnostics on the changed lines, and the suggested change
of a finding as a quick fix.

Findings follow their code while the user edits: after a change the server looks for each
finding's line (its *anchor*, the code the finding was about) where it was or nearby, and drops
the finding when that code is gone (after the suggestion was applied, say).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from agents.review.report import Finding

SOURCE = "assay"
SEVERITY = {
    "high": types.DiagnosticSeverity.Error,
    "medium": types.DiagnosticSeverity.Warning,
    "low": types.DiagnosticSeverity.Information,
}
SEARCH_LINES = 60  # how far an anchor is looked for after an edit


@dataclass
class Tracked:
    finding: Finding
    line: int  # 0-based, where the finding is now


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def suggestion_text(finding: Finding) -> str | None:
    """The replacement of the finding's line (indented like it when the model left it out)."""
    if not finding.suggestion:
        return None
    lines = finding.suggestion.rstrip("\n").splitlines()
    indent = _indent(finding.anchor)
    if lines and indent and not _indent(lines[0]):
        lines = [indent + line if line.strip() else line for line in lines]
    return "\n".join(lines) + "\n"


class FindingStore:
    """The findings of the last review, per document URI."""

    def __init__(self) -> None:
        self.by_uri: dict[str, list[Tracked]] = {}

    def replace(self, root: Path, findings: list[Finding]) -> list[str]:
        """Keep ``findings`` (paths relative to ``root``); the URIs whose diagnostics change."""
        before = set(self.by_uri)
        self.by_uri = {}
        for finding in findings:
            uri = (root / finding.path).as_uri()
            self.by_uri.setdefault(uri, []).append(Tracked(finding, max(finding.line - 1, 0)))
        for tracked in self.by_uri.values():
            tracked.sort(key=lambda t: t.line)
        return sorted(before | set(self.by_uri))

    def clear(self) -> list[str]:
        uris = sorted(self.by_uri)
        self.by_uri = {}
        return uris

    def diagnostics(self, uri: str, text: str | None = None) -> list[types.Diagnostic]:
        lines = text.splitlines() if text is not None else []
        out = []
        for tracked in self.by_uri.get(uri, []):
            f = tracked.finding
            code = lines[tracked.line] if tracked.line < len(lines) else f.anchor
            start = len(_indent(code))
            rng = types.Range(
                types.Position(tracked.line, start), types.Position(tracked.line, len(code))
            )
            suggestion = suggestion_text(f)
            message = f.message + (" (a suggested change is available)" if suggestion else "")
            out.append(
                types.Diagnostic(
                    range=rng,
                    message=message,
                    severity=SEVERITY.get(f.severity),
                    code=f.category,
                    source=SOURCE,
                    data={"fingerprint": f.fingerprint, "severity": f.severity},
                )
            )
        return out

    def follow(self, uri: str, text: str) -> bool:
        """Move this document's findings to where their code is now; True when any moved or
        went away."""
        tracked = self.by_uri.get(uri)
        if not tracked:
            return False
        lines = [line.strip() for line in text.splitlines()]
        kept: list[Tracked] = []
        changed = False
        for item in tracked:
            anchor = item.finding.anchor.strip()
            if not anchor:
                kept.append(item)
                continue
            near = [
                n for n in range(max(0, item.line - SEARCH_LINES),
                                 min(len(lines), item.line + SEARCH_LINES + 1))
                if lines[n] == anchor
            ]  # fmt: skip
            if not near:
                changed = True
                continue
            line = min(near, key=lambda n: abs(n - item.line))
            changed |= line != item.line
            item.line = line
            kept.append(item)
        self.by_uri[uri] = kept
        return changed

    def actions(self, uri: str, rng: types.Range, text: str | None) -> list[types.CodeAction]:
        """Quick fixes for the findings with a suggested change on the lines of ``rng``."""
        out: list[types.CodeAction] = []
        diagnostics = self.diagnostics(uri, text)
        for tracked, diagnostic in zip(self.by_uri.get(uri, []), diagnostics, strict=True):
            if not rng.start.line <= tracked.line <= rng.end.line:
                continue
            replacement = suggestion_text(tracked.finding)
            if replacement is None:
                continue
            first = replacement.strip().splitlines()[0] if replacement.strip() else ""
            edit_range = types.Range(
                types.Position(tracked.line, 0), types.Position(tracked.line + 1, 0)
            )
            out.append(
                types.CodeAction(
                    title=f"assay: apply the suggested change ({first[:60]})",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=True,
                    edit=types.WorkspaceEdit(
                        changes={uri: [types.TextEdit(edit_range, replacement)]}
                    ),
                )
            )
        return out
