"""From what the engine wrote (a patch, or a file's old and new text) to an LSP ``WorkspaceEdit``
that creates or extends the test files, for the editor to preview before it applies it.

A patch is applied to the file as the editor has it now (open buffer, else disk); when its
context lines no longer match, the edit is refused with a message instead of guessing.  Edits are
whole lines (character 0 to character 0), so the encoding of positions does not matter, and
each carries the change annotation that asks the editor for confirmation (VS Code shows its
refactor preview).  Clients without annotations or without file creation get what they can
take; :attr:`Built.confirm_first` then tells the server to ask before it sends the edit.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from agents.errors import AssayError

ANNOTATION = "assay.tests"
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class EditConflict(AssayError):
    """A patch does not fit the file as it is now."""


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the project root, '/'-separated
    old: str | None  # None: a new file
    new: str


@dataclass
class _FilePatch:
    path: str
    new_file: bool
    hunks: list[tuple[int, int, list[str]]] = field(default_factory=list)  # old start, len, lines


def _strip_prefix(name: str) -> str:
    name = name.split("\t", 1)[0].strip()
    return name[2:] if name.startswith(("a/", "b/")) else name


def parse_patch(patch: str) -> list[_FilePatch]:
    """The files and hunks of a unified diff (``git diff`` or difflib's)."""
    files: list[_FilePatch] = []
    old_name: str | None = None
    left = right = 0  # lines of the current hunk still to come, old and new side
    for line in patch.splitlines(keepends=True):
        tag = line[:1]
        if (left > 0 or right > 0 or tag == "\\") and files and files[-1].hunks:
            files[-1].hunks[-1][2].append(line)
            left -= tag in (" ", "-")
            right -= tag in (" ", "+")
            continue
        if line.startswith("--- "):
            old_name = line[4:].rstrip("\n")
        elif line.startswith("+++ ") and old_name is not None:
            files.append(_FilePatch(_strip_prefix(line[4:].rstrip("\n")), old_name == "/dev/null"))
            old_name = None
        elif (match := HUNK.match(line)) and files:
            start, left = int(match.group(1)), int(match.group(2) or "1")
            right = int(match.group(4) or "1")
            files[-1].hunks.append((start, left, []))
    return files


def apply_hunks(old: str, patch: _FilePatch) -> str:
    """``old`` with ``patch``'s hunks applied; :class:`EditConflict` when they do not fit."""
    source = old.splitlines(keepends=True)
    out: list[str] = []
    at = 0  # index into source
    for start, length, lines in patch.hunks:
        begin = start - 1 if length else start  # a pure insertion names the line before it
        if begin < at or begin > len(source):
            raise _conflict(patch.path, start)
        out += source[at:begin]
        at = begin
        previous = ""
        for line in lines:
            tag, text = line[:1], line[1:]
            if tag == "\\":  # "\\ No newline at end of file" for the line before
                if previous in ("+", " ") and out and out[-1].endswith("\n"):
                    out[-1] = out[-1][:-1]
                continue
            previous = tag
            if tag in (" ", "-"):
                if at >= len(source) or source[at].rstrip("\r\n") != text.rstrip("\r\n"):
                    raise _conflict(patch.path, start)
                if tag == " ":
                    out.append(source[at])
                at += 1
            else:
                out.append(text if text.endswith("\n") else text + "\n")
    out += source[at:]
    return "".join(out)


def _conflict(path: str, line: int) -> EditConflict:
    return EditConflict(
        f"The tests for {path} do not fit the file any more (it changed near line {line} while "
        "assay worked)",
        "save or revert your edits to it and run the command again",
    )


def changes_from_patch(patch: str, read: Callable[[str], str | None]) -> list[FileChange]:
    """One :class:`FileChange` per file of ``patch``; ``read(path)`` is the file as it is now
    (None when it does not exist)."""
    out: list[FileChange] = []
    for file in parse_patch(patch):
        current = read(file.path)
        if current is None and not file.new_file:
            raise EditConflict(f"{file.path} no longer exists", "run the command again")
        if current is not None and current.strip() and file.new_file:
            raise EditConflict(
                f"{file.path} was created while assay worked", "run the command again"
            )
        base = "" if current is None else current
        new = apply_hunks(base, file)
        if new != base:
            out.append(FileChange(file.path, current, new))
    return out


def line_edits(old: str, new: str) -> list[types.TextEdit]:
    """Whole-line edits that turn ``old`` into ``new`` (one whole-document edit when ``old``
    does not end with a newline)."""
    if old and not old.endswith("\n"):
        last = old.splitlines()[-1] if old.splitlines() else ""
        end = types.Position(max(len(old.splitlines()) - 1, 0), len(last.encode("utf-16-le")) // 2)
        return [
            types.TextEdit(range=types.Range(start=types.Position(0, 0), end=end), new_text=new)
        ]
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    edits: list[types.TextEdit] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        rng = types.Range(types.Position(i1, 0), types.Position(i2, 0))
        edits.append(types.TextEdit(range=rng, new_text="".join(b[j1:j2])))
    return edits


@dataclass(frozen=True)
class EditSupport:
    """What the client's ``workspace.workspaceEdit`` capabilities allow."""

    document_changes: bool = False
    create_files: bool = False
    annotations: bool = False

    @classmethod
    def of(cls, caps: types.ClientCapabilities | None) -> EditSupport:
        edit = caps.workspace.workspace_edit if caps and caps.workspace else None
        if edit is None:
            return cls()
        ops = edit.resource_operations or []
        return cls(
            document_changes=bool(edit.document_changes),
            create_files=types.ResourceOperationKind.Create in ops,
            annotations=edit.change_annotation_support is not None,
        )


@dataclass
class Built:
    edit: types.WorkspaceEdit
    create_first: list[Path]  # new files the server creates (empty) before sending the edit
    confirm_first: bool  # the client cannot preview: ask before sending the edit


def workspace_edit(
    root: Path,
    changes: list[FileChange],
    *,
    label: str,
    description: str,
    support: EditSupport,
    version_of: Callable[[str], int | None],
) -> Built:
    """The edit for ``changes`` under ``root``; ``version_of(uri)`` is an open document's
    version (None when it is not open)."""
    annotate = support.document_changes and support.annotations
    annotation_id = ANNOTATION if annotate else None
    document_changes: list[types.TextDocumentEdit | types.CreateFile] = []
    plain: dict[str, list[types.TextEdit]] = {}
    create_first: list[Path] = []
    for change in changes:
        path = root / change.path
        uri = path.as_uri()
        edits = line_edits(change.old or "", change.new)
        if change.old is None:
            if support.document_changes and support.create_files:
                options = types.CreateFileOptions(overwrite=False, ignore_if_exists=True)
                document_changes.append(
                    types.CreateFile(uri=uri, options=options, annotation_id=annotation_id)
                )
            else:
                create_first.append(path)
        if not support.document_changes:
            plain[uri] = edits
            continue
        annotated: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
            types.AnnotatedTextEdit(annotation_id=ANNOTATION, range=e.range, new_text=e.new_text)
            if annotate
            else e
            for e in edits
        ]
        version = None if change.old is None else version_of(uri)
        document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        document_changes.append(types.TextDocumentEdit(text_document=document, edits=annotated))
    annotations = (
        {
            ANNOTATION: types.ChangeAnnotation(
                label=label, needs_confirmation=True, description=description
            )
        }
        if annotate
        else None
    )
    if support.document_changes:
        edit = types.WorkspaceEdit(
            document_changes=document_changes, change_annotations=annotations
        )
    else:
        edit = types.WorkspaceEdit(changes=plain)
    return Built(edit, create_first, confirm_first=not annotate)
