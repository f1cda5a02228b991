"""The lexical scanner behind the gate's fallback and the bracket balancing."""

from __future__ import annotations

import pytest

from quill.completion.lexical import LexState, bracket_positions, state_at_end, syntax_for
from quill.index.languages import language_specs, lexical_syntax


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("python", "x = 'abc", LexState.STRING),
        ("python", "x = 'abc'", LexState.CODE),
        ("python", 'x = "a\\"b', LexState.STRING),
        ("python", '"""doc\nstill doc', LexState.STRING),
        ("python", '"""doc"""\nx = ', LexState.CODE),
        ("python", "x = 'unterminated\ny = ", LexState.CODE),
        ("python", "x = 1  # note", LexState.COMMENT),
        ("python", "x = a // b", LexState.CODE),
        ("javascript", "x = a // b", LexState.COMMENT),
        ("javascript", "/* open\nstill", LexState.COMMENT),
        ("javascript", "/* closed */ x", LexState.CODE),
        ("javascript", "s = `multi\nline", LexState.STRING),
        ("typescriptreact", "s = 'x' // hi", LexState.COMMENT),
        ("rust", "fn f<'a>(x: &'a str) {", LexState.CODE),
        ("rust", "let c = '{'; let s = \"ab", LexState.STRING),
        ("rust", "#[derive(Debug)]\nstruct S", LexState.CODE),
        ("go", "s := `raw\nstring", LexState.STRING),
        ("lua", "x = 1 -- note", LexState.COMMENT),
        (None, "x = 1 # note", LexState.COMMENT),
        (None, "#[attr] x", LexState.CODE),
        ("unknown-language", "x = 'a", LexState.STRING),
        # Line comments: each language's own marker, and only that one.
        ("go", "x := 1 // x", LexState.COMMENT),
        ("go", "x := 1 # x", LexState.CODE),
        ("python", "x = 1 # x", LexState.COMMENT),
        ("python", "x = 1 // x", LexState.CODE),
        ("java", "int x; // x", LexState.COMMENT),
        ("cpp", "int x; // x", LexState.COMMENT),
        ("c", "#include <stdio.h>\nint x", LexState.CODE),
        ("sql", "select 1 -- x", LexState.COMMENT),
        ("shellscript", "echo 1 # x", LexState.COMMENT),
        ("html", "<p>// not a comment", LexState.CODE),
        ("html", "<!-- open\nstill", LexState.COMMENT),
        ("lua", "--[[ open\nstill", LexState.COMMENT),
        ("lua", "--[[ closed ]] x = 1", LexState.CODE),
        # Rust block comments nest; C's do not.
        ("rust", "/* a /* b */ still", LexState.COMMENT),
        ("rust", "/* a /* b */ c */ let x", LexState.CODE),
        ("rust", "/* a /* b /* c */ */ still", LexState.COMMENT),
        ("c", "/* a /* b */ int x", LexState.CODE),
        # Template and raw strings span lines; a Go raw string has no escapes.
        ("javascript", "s = `a ${x}\nb", LexState.STRING),
        ("typescript", "s = `a\nb` + x", LexState.CODE),
        ("tsx", "s = `a\\` still", LexState.STRING),
        ("go", "s := `C:\\` + x", LexState.CODE),
        ("go", 's := "a\\" still', LexState.STRING),
        ("java", 's = "a\nint x', LexState.CODE),
        # Triple quotes: Python and Kotlin, not JavaScript.
        ("python", "s = '''doc\nstill", LexState.STRING),
        ("python", 's = """doc\n"""\nx = ', LexState.CODE),
        ("kotlin", 'val s = """raw\nstill', LexState.STRING),
        ("javascript", 's = """\nx', LexState.CODE),
        # Rust: a quote that is no character literal is a lifetime or a label.
        ("rust", "'outer: loop {", LexState.CODE),
        ("rust", "let c = '\\u{1F600}'; let s = \"a", LexState.STRING),
        ("rust", 'let s = "multi\nline', LexState.STRING),
    ],
)
def test_state_at_end(language: str | None, text: str, expected: LexState) -> None:
    assert state_at_end(text, syntax_for(language)) is expected


@pytest.mark.parametrize(
    ("alias", "language"),
    [
        ("py", "python"),
        ("python3", "python"),
        ("js", "javascript"),
        ("jsx", "javascript"),
        ("javascriptreact", "javascript"),
        ("ts", "typescript"),
        ("typescriptreact", "tsx"),
        ("golang", "go"),
        ("rs", "rust"),
        ("c++", "cpp"),
        ("h", "c"),
        ("cuda-cpp", "cpp"),
        ("  Python ", "python"),
    ],
)
def test_aliases_reach_the_indexed_languages(alias: str, language: str) -> None:
    assert syntax_for(alias) == language_specs()[language].lexical


def test_every_indexed_language_reads_its_syntax_from_the_table() -> None:
    for name, spec in language_specs().items():
        assert syntax_for(name) is spec.lexical, name
        assert spec.lexical.line_comments, name
        assert spec.lexical.quotes, name


def test_c_like_languages_share_one_syntax() -> None:
    c_like = syntax_for("c")
    for language in ("cpp", "java", "csharp", "swift", "php", "objective-c"):
        assert syntax_for(language) == c_like, language
    assert syntax_for("javascript") == syntax_for("typescript") == syntax_for("tsx")
    assert syntax_for("javascript") != c_like


def test_unknown_languages_get_the_generic_syntax() -> None:
    generic = syntax_for(None)
    assert syntax_for("") == generic
    assert syntax_for("no-such-language") == generic == lexical_syntax(None)
    assert generic.line_comments == ("//", "#")
    assert generic.hash_attribute


def test_bracket_positions_skip_strings_and_comments() -> None:
    text = 'f(a, "(", [1]) # )\n'
    found = bracket_positions(text, syntax_for("python"))
    assert [ch for _, ch in found] == ["(", "[", "]", ")"]
    assert all(text[index] == ch for index, ch in found)


def test_bracket_positions_skip_nested_rust_comments_and_go_raw_strings() -> None:
    rust = "f(/* ( /* [ */ { */ x)"
    assert [ch for _, ch in bracket_positions(rust, syntax_for("rust"))] == ["(", ")"]
    go = "f(`\\`, `(`)"
    assert [ch for _, ch in bracket_positions(go, syntax_for("go"))] == ["(", ")"]
