"""Files into chunks: functions, methods and classes by tree-sitter, line windows otherwise.

For a language with a grammar (:mod:`indexer.languages`) a file becomes:

* one chunk per function and method, and per class small enough to keep whole; a bigger class
  is split into its members, each under a header naming the class's signature, plus the rest
  of the class (its signature, docstring, fields) as a chunk of its own;
* the code between definitions (imports, constants, ``if __name__ …``) as ``module`` chunks;
* comments right above a definition (docs, JSDoc, Javadoc) go with it;
* a chunk over ``max_chars`` is split into line windows; neighbours under ``min_chars`` in the
  same scope are merged (their symbols joined), so no chunk is tiny or huge.

Every chunk carries a small context header (path, enclosing class signatures, the file's
imports) that is embedded with it.  A file that does not parse, or whose language has no
grammar, is cut into line windows (``kind="lines"``); :func:`chunk_text` says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from indexer.languages import SPECS, LangSpec, parser_for
from indexer.types import Chunk

CHUNKER_VERSION = 1  # bump when chunk boundaries change: every file is re-chunked then
_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_SPACE = re.compile(r"\s+")
_WORDY = re.compile(r"\w")


@dataclass(frozen=True)
class ChunkLimits:
    """Chunk size bounds in characters of code, and the line count of a fallback window."""

    max_chars: int = 1500
    min_chars: int = 200
    max_lines: int = 60


@dataclass
class _Piece:
    start: int  # 0-based rows, inclusive
    end: int
    symbol: str
    kind: str
    scope: tuple[str, ...]
    text: str | None = None  # set for a slice of one over-long line


class _Collector:
    def __init__(self, spec: LangSpec, source: bytes, lines: list[str], limits: ChunkLimits):
        self.spec, self.source, self.lines, self.limits = spec, source, lines, limits
        self.units: list[_Piece] = []
        self.imports: list[str] = []
        self.containers: list[_Piece] = []  # big classes: their rows, name, inner scope

    def text(self, node: Any) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def name(self, node: Any) -> str:
        if node.type == "method_declaration" and self.spec.name == "go":
            receiver = node.child_by_field_name("receiver")
            found = re.findall(r"\w+", self.text(receiver)) if receiver else []
            method = node.child_by_field_name("name")
            recv = found[-1] + "." if found else ""
            return recv + (self.text(method) if method else "?")
        if node.type == "type_declaration":
            spec = next((c for c in node.named_children if c.type == "type_spec"), None)
            node = spec or node
        named = node.child_by_field_name("name")
        return self.text(named) if named is not None else ""

    def function_declarator(self, node: Any) -> Any | None:
        """The declarator of ``const f = () => …`` (one declarator whose value is a function)."""
        decls = [c for c in node.named_children if c.type == "variable_declarator"]
        if len(decls) != 1:
            return None
        value = decls[0].child_by_field_name("value")
        return decls[0] if value is not None and value.type in _FUNCTION_VALUES else None

    def definition_in(self, wrapper: Any) -> Any | None:
        spec = self.spec
        kinds = spec.functions | spec.containers | spec.units | spec.variable_functions
        return next((c for c in wrapper.named_children if c.type in kinds), None)

    def rows(self, start_row: int, node: Any) -> tuple[int, int]:
        end = node.end_point
        end_row = end.row - 1 if end.column == 0 and end.row > start_row else end.row
        return start_row, end_row

    def size(self, start: int, end: int) -> int:
        return sum(len(line) + 1 for line in self.lines[start : end + 1])

    def collect(self, node: Any, scope: tuple[str, ...], names: tuple[str, ...]) -> None:
        spec = self.spec
        comments: list[Any] = []  # a comment block right above a definition joins it
        for child in node.named_children:
            kind = child.type
            if kind in spec.comments:
                if comments and child.start_point.row > comments[-1].end_point.row + 1:
                    comments = []
                comments.append(child)
                continue
            if kind in spec.transparent:
                self.collect(child, scope, names)
                comments = []
                continue
            target = self.definition_in(child) if kind in spec.wrappers else child
            start = child.start_point.row
            if comments and comments[-1].end_point.row >= start - 1:
                start = comments[0].start_point.row
            comments = []
            if target is None:
                continue
            self.definition(child, target, start, scope, names)

    def definition(
        self, outer: Any, target: Any, start: int, scope: tuple[str, ...], names: tuple[str, ...]
    ) -> None:
        spec, kind = self.spec, target.type
        start, end = self.rows(start, outer)
        qual = ".".join((*names, self.name(target))).strip(".")
        if kind in spec.functions:
            method = bool(names) or kind == "method_declaration"
            self.units.append(_Piece(start, end, qual, "method" if method else "function", scope))
        elif kind in spec.variable_functions:
            declarator = self.function_declarator(target)
            if declarator is not None:
                qual = ".".join((*names, self.name(declarator)))
                self.units.append(_Piece(start, end, qual, "function", scope))
        elif kind in spec.units:
            self.units.append(_Piece(start, end, qual, "type", scope))
        elif kind in spec.containers:
            body = target.child_by_field_name("body")
            if body is None or self.size(start, end) <= self.limits.max_chars:
                self.units.append(_Piece(start, end, qual, "class", scope))
                return
            signature = self.text(target)[: body.start_byte - target.start_byte]
            inner = (*scope, _SPACE.sub(" ", signature).strip().rstrip("{").strip()[:200])
            self.containers.append(_Piece(start, end, qual, "class", inner))
            self.collect(body, inner, (*names, self.name(target)))
        elif kind in spec.imports and not scope:
            self.imports.append(_SPACE.sub(" ", self.text(target)).strip())


def _first_error_row(node: Any) -> int:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "ERROR" or current.is_missing:
            return int(current.start_point.row)
        stack.extend(reversed([c for c in current.children if c.has_error or c.is_missing]))
    return int(node.start_point.row)


def chunk_text(
    path: str, text: str, language: str, limits: ChunkLimits | None = None
) -> tuple[list[Chunk], str | None]:
    """The chunks of one file, and why it fell back to line windows (None when it did not)."""
    limits = limits or ChunkLimits()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not any(line.strip() for line in lines):
        return [], None
    parser = parser_for(language)
    if parser is None:
        return _chunks(
            path,
            language,
            lines,
            _windows(lines, 0, len(lines) - 1, "", "lines", (), limits),
            [],
            limits,
        ), None
    source = text.encode("utf-8", "surrogatepass")
    tree = parser.parse(source)
    if tree.root_node.has_error:
        row = _first_error_row(tree.root_node) + 1
        pieces = _windows(lines, 0, len(lines) - 1, "", "lines", (), limits)
        return _chunks(path, language, lines, pieces, [], limits), (
            f"syntax error near line {row}: chunked by line windows"
        )
    collector = _Collector(SPECS[language], source, lines, limits)
    collector.collect(tree.root_node, (), ())
    pieces = _with_gaps(collector.units, collector.containers, lines)
    bounded = [
        w
        for p in pieces
        for w in _windows(lines, p.start, p.end, p.symbol, p.kind, p.scope, limits)
    ]
    return _chunks(
        path, language, lines, _merge(bounded, lines, limits), collector.imports, limits
    ), None


def _with_gaps(units: list[_Piece], containers: list[_Piece], lines: list[str]) -> list[_Piece]:
    """``units`` without overlaps, plus the uncovered code as module/class-rest pieces."""
    units = sorted(units, key=lambda u: (u.start, -u.end))
    kept: list[_Piece] = []
    for unit in units:
        if kept and unit.start <= kept[-1].end:
            if unit.end <= kept[-1].end:
                continue
            unit.start = kept[-1].end + 1
        kept.append(unit)
    covered = bytearray(len(lines))
    for unit in kept:
        covered[unit.start : unit.end + 1] = b"\1" * (unit.end - unit.start + 1)
    gaps: list[_Piece] = []
    for row in range(len(lines)):
        if covered[row]:
            continue
        owner = min(
            (c for c in containers if c.start <= row <= c.end),
            key=lambda c: c.end - c.start,
            default=None,
        )
        symbol, scope = (owner.symbol, owner.scope) if owner else ("", ())
        last = gaps[-1] if gaps else None
        if last and last.end == row - 1 and last.symbol == symbol and last.scope == scope:
            last.end = row
        else:
            gaps.append(_Piece(row, row, symbol, "class" if owner else "module", scope))
    # A gap of blank lines or lone brackets (a class's closing "}") is not worth a chunk.
    gaps = [g for g in gaps if any(_WORDY.search(line) for line in lines[g.start : g.end + 1])]
    for gap in gaps:  # trim blank edge lines
        while not lines[gap.start].strip():
            gap.start += 1
        while not lines[gap.end].strip():
            gap.end -= 1
    return sorted(kept + gaps, key=lambda p: p.start)


def _windows(
    lines: list[str],
    start: int,
    end: int,
    symbol: str,
    kind: str,
    scope: tuple[str, ...],
    limits: ChunkLimits,
) -> list[_Piece]:
    """Rows ``start..end`` cut into windows of at most ``max_chars`` (and ``max_lines`` for
    line-window chunks), preferring to cut at a blank line; one over-long line is sliced."""
    max_lines = limits.max_lines if kind == "lines" else 1 << 30
    pieces: list[_Piece] = []
    row = start
    while row <= end:
        if len(lines[row]) + 1 > limits.max_chars:  # a minified line: slices of it
            line, step = lines[row], limits.max_chars
            for at in range(0, len(line), step):
                pieces.append(_Piece(row, row, symbol, kind, scope, line[at : at + step]))
            row += 1
            continue
        size, stop = 0, row
        while stop <= end and stop - row < max_lines:
            grown = size + len(lines[stop]) + 1
            if grown > limits.max_chars:
                break
            size, stop = grown, stop + 1
        last = stop - 1
        if stop <= end:  # not the final window: cut at the last blank line of its tail
            blank = next(
                (r for r in range(last, row + (last - row) // 2, -1) if not lines[r].strip()),
                None,
            )
            last = blank if blank is not None else last
        window = _Piece(row, last, symbol, kind, scope)
        if any(line.strip() for line in lines[row : last + 1]):
            pieces.append(window)
        row = last + 1
    return pieces


def _merge(pieces: list[_Piece], lines: list[str], limits: ChunkLimits) -> list[_Piece]:
    """Join neighbours in the same scope while one of them is under ``min_chars``."""

    def size(p: _Piece) -> int:
        return (
            len(p.text)
            if p.text is not None
            else sum(len(line) + 1 for line in lines[p.start : p.end + 1])
        )

    merged: list[_Piece] = []
    for piece in pieces:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.text is None
            and piece.text is None
            and prev.scope == piece.scope
            and (size(prev) < limits.min_chars or size(piece) < limits.min_chars)
            and size(_Piece(prev.start, piece.end, "", "", ())) <= limits.max_chars
        ):
            symbols = [s for s in (*prev.symbol.split(", "), piece.symbol) if s]
            prev.symbol = ", ".join(dict.fromkeys(symbols))
            prev.kind = prev.kind if prev.kind == piece.kind else "group"
            prev.end = piece.end
            continue
        merged.append(piece)
    return merged


def _chunks(
    path: str,
    language: str,
    lines: list[str],
    pieces: list[_Piece],
    imports: list[str],
    limits: ChunkLimits,
) -> list[Chunk]:
    imports_line = "; ".join(imports)
    if len(imports_line) > 300:
        imports_line = imports_line[:297] + "..."
    chunks = []
    for piece in pieces:
        header = [f"path: {path}", *(f"in: {sig}" for sig in piece.scope)]
        if imports_line:
            header.append(f"imports: {imports_line}")
        text = (
            piece.text if piece.text is not None else "\n".join(lines[piece.start : piece.end + 1])
        )
        chunks.append(
            Chunk(
                path=path,
                language=language,
                symbol=piece.symbol,
                kind=piece.kind,
                start_line=piece.start + 1,
                end_line=piece.end + 1,
                text=text,
                context="\n".join(header),
            )
        )
    return chunks
