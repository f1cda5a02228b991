"""The lexical scanner behind the gate's fallback and the bracket balancing."""

from __future__ import annotations

import pytest

from quill.completion.lexical import LexState, bracket_positions, state_at_end, syntax_for


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
    ],
)
def test_state_at_end(language: str | None, text: str, expected: LexState) -> None:
    assert state_at_end(text, syntax_for(language)) is expected


def test_bracket_positions_skip_strings_and_comments() -> None:
    text = 'f(a, "(", [1]) # )\n'
    found = bracket_positions(text, syntax_for("python"))
    assert [ch for _, ch in found] == ["(", "[", "]", ")"]
    assert all(text[index] == ch for index, ch in found)
