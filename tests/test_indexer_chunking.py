"""Chunk boundaries per language, size bounds, fallbacks, and the lexical tokens."""

from __future__ import annotations

import itertools
import textwrap

import pytest

from indexer.chunking import ChunkLimits, chunk_text
from indexer.files import FileLimits, decode, language_for
from indexer.lexical import code_tokens, sparse_vector
from indexer.types import Chunk

EXACT = ChunkLimits(max_chars=4000, min_chars=0)  # no merging: one chunk per definition


def shape(chunks: list[Chunk]) -> list[tuple[str, str, int, int]]:
    return [(c.symbol, c.kind, c.start_line, c.end_line) for c in chunks]


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_python_functions_classes_decorators_and_module_code() -> None:
    code = src('''
        import os
        from pathlib import Path

        LIMIT = 3


        @cache
        def load(path):
            """Load it."""
            return Path(path).read_text()


        class Store(Base):
            kind = "x"

            def get(self, key):
                return key


        if __name__ == "__main__":
            load("x")
        ''')
    chunks, problem = chunk_text("pkg/store.py", code, "python", EXACT)
    assert problem is None
    assert shape(chunks) == [
        ("", "module", 1, 4),
        ("load", "function", 7, 10),
        ("Store", "class", 13, 17),
        ("", "module", 20, 21),
    ]
    header = chunks[1].context
    assert "path: pkg/store.py" in header
    assert "imports: import os; from pathlib import Path" in header
    assert chunks[1].text.startswith("@cache\ndef load(path):")


def test_a_big_class_splits_into_methods_under_its_signature() -> None:
    body = "\n".join(
        f"    def method_{i}(self, value):\n"
        f'        """Method {i}."""\n' + "        value += 1\n" * 8 + "        return value\n"
        for i in range(4)
    )
    code = f'class Big(Base, metaclass=Meta):\n    """Doc."""\n\n    size = 1\n\n{body}'
    chunks, _ = chunk_text("big.py", code, "python", ChunkLimits(max_chars=400, min_chars=0))
    symbols = [c.symbol for c in chunks]
    assert symbols == ["Big", "Big.method_0", "Big.method_1", "Big.method_2", "Big.method_3"]
    assert chunks[0].kind == "class" and (chunks[0].start_line, chunks[0].end_line) == (1, 4)
    assert all(c.kind == "method" for c in chunks[1:])
    assert all("in: class Big(Base, metaclass=Meta):" in c.context for c in chunks)
    assert all(len(c.text) <= 400 for c in chunks)


def test_javascript_functions_arrows_classes_and_doc_comments() -> None:
    code = src("""
        import { x } from "y";

        /** Adds two numbers. */
        export function add(a, b) {
          return a + b;
        }

        export const mul = (a, b) => {
          return a * b;
        };

        class Shape extends Base {
          area() { return 0; }
        }
        """)
    chunks, problem = chunk_text("lib/math.js", code, "javascript", EXACT)
    assert problem is None
    assert shape(chunks) == [
        ("", "module", 1, 1),
        ("add", "function", 3, 6),
        ("mul", "function", 8, 10),
        ("Shape", "class", 12, 14),
    ]
    assert chunks[1].text.startswith("/** Adds two numbers. */")
    assert 'imports: import { x } from "y";' in chunks[1].context


def test_typescript_interfaces_types_and_big_class_methods() -> None:
    methods = "\n".join(
        f"  method{i}(value: number): number {{\n"
        + "    value += 1;\n" * 6
        + "    return value;\n  }"
        for i in range(3)
    )
    code = (
        src("""
        import type { T } from "./t";

        export interface Point {
          x: number;
          y: number;
        }

        type Id = string;

        """)
        + f"export class Service implements Api {{\n{methods}\n}}\n"
    )
    chunks, problem = chunk_text("src/svc.ts", code, "typescript", ChunkLimits(300, 0))
    assert problem is None
    got = shape(chunks)
    assert got[:3] == [("", "module", 1, 1), ("Point", "type", 3, 6), ("Id", "type", 8, 8)]
    assert [s for s, *_ in got[3:]] == [
        "Service",
        "Service.method0",
        "Service.method1",
        "Service.method2",
    ]
    assert all("in: class Service implements Api" in c.context for c in chunks[4:])


def test_java_methods_constructors_and_nested_classes() -> None:
    methods = "\n".join(
        f"    public int m{i}(int v) {{\n" + "        v += 1;\n" * 6 + "        return v;\n    }"
        for i in range(2)
    )
    code = (
        "package a.b;\nimport java.util.List;\n\n/** The thing. */\n"
        "public class Thing extends Base {\n    private int f;\n\n"
        "    public Thing() { f = 1; }\n\n"
        f"{methods}\n\n    static class Inner {{ void q() {{}} }}\n}}\n"
    )
    chunks, problem = chunk_text("a/b/Thing.java", code, "java", ChunkLimits(300, 0))
    assert problem is None
    symbols = [(c.symbol, c.kind) for c in chunks]
    assert ("Thing.Thing", "method") in symbols
    assert ("Thing.m0", "method") in symbols and ("Thing.m1", "method") in symbols
    assert ("Thing.Inner", "class") in symbols
    head = chunks[0]
    assert head.symbol == "" and head.kind == "module"  # package + import
    thing = next(c for c in chunks if c.symbol == "Thing")
    assert thing.start_line == 4  # the Javadoc goes with the class
    assert "imports: package a.b;; import java.util.List;" in thing.context


def test_go_functions_methods_with_receivers_and_types() -> None:
    code = src("""
        package shop

        import "fmt"

        // Cart holds items.
        type Cart struct {
            items []string
        }

        // Add puts an item in the cart.
        func (c *Cart) Add(item string) {
            c.items = append(c.items, item)
        }

        func Total(c Cart) int {
            return len(c.items)
        }
        """)
    chunks, problem = chunk_text("shop/cart.go", code, "go", EXACT)
    assert problem is None
    assert shape(chunks) == [
        ("", "module", 1, 3),
        ("Cart", "type", 5, 8),
        ("Cart.Add", "method", 10, 13),
        ("Total", "function", 15, 17),
    ]


def test_tiny_neighbours_merge_and_huge_ones_split() -> None:
    tiny = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(6))
    chunks, _ = chunk_text("t.py", tiny, "python", ChunkLimits(max_chars=1000, min_chars=200))
    assert len(chunks) == 1
    assert chunks[0].symbol == "f0, f1, f2, f3, f4, f5" and chunks[0].kind == "function"
    huge = "def big():\n" + "".join(f"    x{i} = {i}\n" for i in range(300))
    chunks, _ = chunk_text("h.py", huge, "python", ChunkLimits(max_chars=500, min_chars=100))
    assert len(chunks) > 5
    assert all(c.symbol == "big" and len(c.text) <= 500 for c in chunks)
    assert chunks[0].start_line == 1 and chunks[-1].end_line == 301
    assert all(a.end_line + 1 == b.start_line for a, b in itertools.pairwise(chunks))
    minified = "var a=" + "1+" * 3000 + "1;\n"
    chunks, _ = chunk_text("m.js", minified, "javascript", ChunkLimits(max_chars=500))
    assert "".join(c.text for c in chunks) == minified.rstrip("\n")
    assert all(len(c.text) <= 500 for c in chunks)


def test_syntax_errors_and_unknown_languages_fall_back_to_line_windows() -> None:
    broken = "def ok():\n    return 1\n\ndef broken(:\n    pass\n"
    chunks, problem = chunk_text("b.py", broken, "python")
    assert problem is not None and "syntax error near line 4" in problem
    assert chunks and all(c.kind == "lines" for c in chunks)
    notes = "\n".join(f"line {i} of the notes" for i in range(200))
    chunks, problem = chunk_text("notes.md", notes, "markdown", ChunkLimits(max_lines=60))
    assert problem is None
    assert [c.start_line for c in chunks][:2] == [1, 61]
    assert chunks[-1].end_line == 200
    assert chunk_text("empty.py", "\n\n", "python") == ([], None)


def test_file_classification_and_decoding() -> None:
    limits = FileLimits(max_bytes=1000, exclude=("docs/**",))
    assert limits.skip_reason("src/a.py", 10) is None
    assert "vendored" in (limits.skip_reason("node_modules/x/index.js", 10) or "")
    assert "vendored" in (limits.skip_reason("a/vendor/b.go", 10) or "")
    assert limits.skip_reason("package-lock.json", 10) == "lock file"
    assert limits.skip_reason("app.min.js", 10) == "generated or minified file"
    assert limits.skip_reason("docs/x.md", 10) == "excluded by pattern"
    assert "too large" in (limits.skip_reason("big.py", 5000) or "")
    assert decode(b"\x89PNG\0\0") == (None, "binary")
    text, problem = decode("café".encode("latin-1"))
    assert text == "café" and problem is not None and "not UTF-8" in problem
    assert decode(b"# @generated by tool\nx = 1\n")[0] is None
    assert language_for("a/b.tsx") == "tsx" and language_for("x.unknown") == "text"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("parseHTTPResponse", ["parsehttpresponse", "parse", "http", "response"]),
        ("max_retry_count = 3", ["max_retry_count", "max", "retry", "count"]),
        ("getV2Config", ["getv2config", "get", "v2", "config"]),
        ("a = b", []),
    ],
)
def test_code_tokens_split_snake_and_camel_case(text: str, expected: list[str]) -> None:
    assert code_tokens(text) == expected


def test_sparse_vectors_saturate_term_frequency() -> None:
    indices, values = sparse_vector("retry retry retry other")
    assert len(indices) == 2 and max(values) < 2.2 and min(values) == pytest.approx(1.0)
    q_indices, q_values = sparse_vector("retry retry", query=True)
    assert len(q_indices) == 1 and q_values == [1.0]
