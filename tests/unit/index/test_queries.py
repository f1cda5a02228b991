"""Every tags query compiles against its grammar and finds known symbols in its fixture."""

from __future__ import annotations

import pytest
import tree_sitter

from quill.index.languages import (
    get_language,
    get_parser,
    get_tags_query,
    language_for_path,
    language_specs,
    load_query_source,
    supported_languages,
)
from quill.index.tags import DEFINITION_KINDS, REFERENCE_KINDS, extract_file, extract_tags

from .conftest import FIXTURES

ALL_LANGUAGES = ["c", "cpp", "go", "java", "javascript", "python", "rust", "tsx", "typescript"]

# language -> (fixture, expected definitions (name, kind, scope), expected references (name, kind))
CASES: dict[str, tuple[str, list[tuple[str, str, str | None]], list[tuple[str, str]]]] = {
    "python": (
        "sample.py",
        [
            ("Layout", "class", None),
            ("update_dimensions", "method", "Layout"),
            ("clamp", "function", "Layout.update_dimensions"),
            ("compute_area", "function", None),
            ("MAX_WIDTH", "constant", None),
            ("default_height", "variable", None),
            ("margin", "variable", "Layout"),
        ],
        [("compute_area", "call"), ("Base", "type"), ("OrderedDict", "import"), ("join", "call")],
    ),
    "javascript": (
        "sample.js",
        [
            ("Layout", "class", None),
            ("updateDimensions", "method", "Layout"),
            ("clamp", "function", None),
            ("render", "function", None),
            ("MAX_WIDTH", "constant", None),
        ],
        [("clamp", "call"), ("formatSize", "import"), ("Panel", "call"), ("Base", "type")],
    ),
    "typescript": (
        "sample.ts",
        [
            ("Sized", "interface", None),
            ("resize", "method", "Sized"),
            ("Layout", "class", None),
            ("resize", "method", "Layout"),
            ("clamp", "function", None),
            ("Dimensions", "interface", None),
            ("Geometry", "module", None),
            ("area", "function", "Geometry"),
        ],
        [("clamp", "call"), ("Dimensions", "type"), ("Sized", "type"), ("formatSize", "import")],
    ),
    "tsx": (
        "sample.tsx",
        [
            ("Panel", "function", None),
            ("Toolbar", "class", None),
            ("render", "method", "Toolbar"),
            ("PanelProps", "interface", None),
        ],
        [("Frame", "call"), ("Label", "call"), ("PanelProps", "type"), ("React", "import")],
    ),
    "go": (
        "sample.go",
        [
            ("geometry", "module", None),
            ("Layout", "class", None),
            ("Sized", "interface", None),
            ("Resize", "method", "Layout"),
            ("Clamp", "function", None),
            ("MaxWidth", "constant", None),
        ],
        [("Clamp", "call"), ("Println", "call"), ("fmt", "import"), ("Layout", "type")],
    ),
    "rust": (
        "sample.rs",
        [
            ("Layout", "class", None),
            ("Sized", "interface", None),
            ("resize", "method", "Sized"),
            ("resize", "method", "Layout"),
            ("new", "method", "Layout"),
            ("clamp", "function", None),
            ("MAX_WIDTH", "constant", None),
            ("units", "module", None),
            ("scale", "function", "units"),
        ],
        [("clamp", "call"), ("HashMap", "import"), ("format_size", "call"), ("Layout", "type")],
    ),
    "java": (
        "Sample.java",
        [
            ("com.example.geometry", "module", None),
            ("Layout", "class", None),
            ("resize", "method", "Layout"),
            ("clamp", "method", "Layout"),
            ("MAX_WIDTH", "constant", "Layout"),
            ("Sized", "interface", None),
        ],
        [("clamp", "call"), ("List", "import"), ("ArrayList", "call"), ("Sized", "type")],
    ),
    "c": (
        "sample.c",
        [
            ("clamp", "function", None),
            ("layout_resize", "function", None),
            ("Layout", "class", None),
            ("Point", "class", None),
            ("x", "variable", "Point"),
            ("MAX_WIDTH", "constant", None),
            ("counter", "variable", None),
        ],
        [("clamp", "call"), ("format_size", "call"), ("Layout", "type"), ("format.h", "import")],
    ),
    "cpp": (
        "sample.cpp",
        [
            ("geometry", "module", None),
            ("Layout", "class", "geometry"),
            ("resize", "method", "geometry.Layout"),
            ("area", "method", "geometry.Layout"),
            ("clamp", "function", "geometry"),
            ("MAX_WIDTH", "constant", "geometry"),
        ],
        [("clamp", "call"), ("format_area", "call"), ("Sized", "type"), ("format.hpp", "import")],
    ),
}


def test_every_language_is_registered_and_supported() -> None:
    assert sorted(language_specs()) == ALL_LANGUAGES
    assert supported_languages() == ALL_LANGUAGES
    assert sorted(CASES) == ALL_LANGUAGES


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_query_compiles_with_known_captures(language: str) -> None:
    lang = get_language(language)
    assert lang is not None
    source = load_query_source(language)
    assert source
    query = tree_sitter.Query(lang, source)  # raises on any error in the query
    assert get_tags_query(language) is not None
    allowed = {f"definition.{k}" for k in DEFINITION_KINDS}
    allowed |= {f"reference.{k}" for k in REFERENCE_KINDS}
    allowed |= {"name", "scope", "module", "alias"}
    names = {query.capture_name(i) for i in range(query.capture_count)}
    assert {n for n in names if not n.startswith("_")} <= allowed


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_fixture_definitions_and_references(language: str) -> None:
    fixture, defs, refs = CASES[language]
    path = FIXTURES / fixture
    assert language_for_path(path) == language
    result = extract_file(path.read_bytes(), language, fixture)
    assert not result.has_error, f"{fixture} should parse cleanly"
    found_defs = {(t.name, t.kind, t.scope) for t in result.tags if t.is_definition}
    found_refs = {(t.name, t.kind) for t in result.tags if not t.is_definition}
    for expected in defs:
        assert expected in found_defs, f"{language}: missing definition {expected}"
    for expected_ref in refs:
        assert expected_ref in found_refs, f"{language}: missing reference {expected_ref}"
    for tag in result.tags:
        if tag.is_definition:
            assert tag.signature
            assert tag.extent is not None
            assert (tag.extent[0], tag.extent[1]) <= (tag.start_line, tag.start_col)
        else:
            assert tag.signature is None


def test_python_method_scope_signature_and_positions() -> None:
    source = (FIXTURES / "sample.py").read_bytes()
    tags = extract_tags(source, "python")
    (method,) = [t for t in tags if t.name == "update_dimensions"]
    assert method.kind == "method"
    assert method.scope == "Layout"
    assert method.signature == "def update_dimensions(self, width: int) -> None:"
    line = source.split(b"\n")[method.start_line]
    assert line[method.start_col : method.end_col] == b"update_dimensions"
    (cls,) = [t for t in tags if t.name == "Layout" and t.is_definition]
    assert cls.signature == "class Layout(Base):"
    # The decorated method's extent starts at `def`, its signature is the def line.
    (prop,) = [t for t in tags if t.name == "area" and t.is_definition]
    assert prop.signature == "def area(self) -> int:"
    # Tags come in document order.
    assert tags == sorted(tags, key=lambda t: (t.start_line, t.start_col, not t.is_definition))


def test_python_imports_record_module_and_alias() -> None:
    source = b"import os.path as p\nfrom .pkg.mod import (a as b, c)\nfrom . import x\n"
    result = extract_file(source, "python")
    got = [(i.module, i.name, i.alias, i.line) for i in result.imports]
    assert got == [
        ("os.path", "os.path", "p", 0),
        (".pkg.mod", "a", "b", 1),
        (".pkg.mod", "c", None, 1),
        (".", "x", None, 2),
    ]


def test_c_signature_joins_return_type_line() -> None:
    tags = extract_tags((FIXTURES / "sample.c").read_bytes(), "c")
    sigs = {t.signature for t in tags if t.name == "clamp" and t.is_definition}
    assert sigs == {"int clamp(int value);", "int clamp(int value)"}


def test_columns_are_utf8_byte_offsets() -> None:
    source = "s = 'é'; x = f(1)\ndef g():\n    return 'ü' + h()\n".encode()
    tags = extract_tags(source, "python")
    (h,) = [t for t in tags if t.name == "h"]
    line = source.split(b"\n")[h.start_line]
    assert line[h.start_col : h.end_col] == b"h"
    assert h.start_col == len("    return 'ü' + ".encode())


@pytest.mark.parametrize(
    "source",
    [
        b"",
        b"\xff\xfe\x00garbage\x80\x81",
        b"def broken(:\n    class\n  x = = 1\ndef ok(): pass\n",
        "def naïve_ünïcode(): pass\n".encode("latin-1"),
    ],
)
def test_bad_input_never_raises(source: bytes) -> None:
    tags = extract_tags(source, "python", "bad.py")
    assert isinstance(tags, list)


def test_partial_parse_keeps_what_it_can() -> None:
    source = b"def broken(:\n    pass\n\ndef fine(a, b):\n    return helper(a)\n"
    result = extract_file(source, "python")
    assert result.has_error
    assert "fine" in {t.name for t in result.tags if t.is_definition}


def test_unknown_language_gives_nothing() -> None:
    assert extract_tags(b"whatever", "cobol") == []
    assert get_parser("cobol") is None
    assert language_for_path("notes.txt") is None
    assert language_for_path("Makefile") is None
    assert language_for_path("x/y/Widget.TSX") == "tsx"
    assert language_for_path("lib.h") == "c"
