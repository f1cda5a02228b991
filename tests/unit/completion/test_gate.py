"""The gate, with real tree-sitter trees and with the lexical fallback."""

from __future__ import annotations

import pytest
import tree_sitter
import tree_sitter_javascript
import tree_sitter_python

from quill.completion.gate import (
    REASON_IN_COMMENT,
    REASON_IN_STRING,
    REASON_MID_IDENTIFIER,
    REASON_MID_LINE,
    REASON_OUT_OF_RANGE,
    decide,
)

PYTHON = tree_sitter.Language(tree_sitter_python.language())
JAVASCRIPT = tree_sitter.Language(tree_sitter_javascript.language())
CURSOR = "|"


def _parse(language: tree_sitter.Language, text: str) -> tree_sitter.Tree:
    return tree_sitter.Parser(language).parse(text.encode("utf-8"))


def _split(marked: str) -> tuple[str, int, int]:
    """Text without the cursor mark, and the mark's line and column (a string index)."""
    offset = marked.index(CURSOR)
    text = marked[:offset] + marked[offset + 1 :]
    before = marked[:offset]
    line = before.count("\n")
    line_start = before.rfind("\n") + 1
    return text, line, offset - line_start


# (marked source, should_complete, multiline, reason or None)
PYTHON_CASES = [
    ("x = |", True, False, None),
    ("print(|)", True, False, None),
    ("foo(a, |)\n", True, False, None),
    ("d = {'a': |}\n", True, False, None),
    ("x = foo|", True, False, None),
    ("x = fo|o\n", False, False, REASON_MID_IDENTIFIER),
    ("x = |foo\n", False, False, REASON_MID_IDENTIFIER),
    ("x = | + y\n", False, False, REASON_MID_LINE),
    ("x = 'ab|c'\n", False, False, REASON_IN_STRING),
    ('x = "abc|"\n', False, False, REASON_IN_STRING),
    ('x = "abc"|\n', True, False, None),
    ('x = f"{b|}"\n', True, False, None),
    ('def f():\n    """Doc\n    |\n    """\n', False, False, REASON_IN_STRING),
    ("x = 1  # note|\n", False, False, REASON_IN_COMMENT),
    ("# a comment |\nx = 1\n", False, False, REASON_IN_COMMENT),
    ("def f():|\n", True, True, None),
    ("def f():\n    |\n", True, True, None),
    ("def f():\n|\n", True, True, None),
    ("class A:\n    x = 1\n\n    |\n", True, True, None),
    ("def f():\n    a = 1\n|\n    return a\n", True, True, None),
    ("import os\n\n|\n", True, False, None),
    ("if x:\n    pass\nelse:\n    |", True, True, None),
    ("for i in range(3):\n    total += |\n", True, False, None),
]


@pytest.mark.parametrize(("marked", "complete", "multiline", "reason"), PYTHON_CASES)
def test_python_with_tree(marked: str, complete: bool, multiline: bool, reason: str | None) -> None:
    text, line, character = _split(marked)
    decision = decide(text, line, character, tree=_parse(PYTHON, text), language="python")
    assert decision.should_complete is complete, decision
    assert decision.multiline is multiline, decision
    if reason is not None:
        assert decision.reason == reason


# The lexical fallback cannot see code inside f-strings.
LEXICAL_CASES = [case for case in PYTHON_CASES if 'f"' not in case[0]]


@pytest.mark.parametrize(("marked", "complete", "multiline", "reason"), LEXICAL_CASES)
def test_python_without_tree_agrees_on_whether_to_complete(
    marked: str, complete: bool, multiline: bool, reason: str | None
) -> None:
    text, line, character = _split(marked)
    decision = decide(text, line, character, tree=None, language="python")
    assert decision.should_complete is complete, decision
    if reason is not None:
        assert decision.reason == reason


JAVASCRIPT_CASES = [
    ("const x = |;\n", True, False, None),
    ("foo(|);\n", True, False, None),
    ("function f() {|\n}\n", True, True, None),
    ("function f() {\n  |\n}\n", True, True, None),
    ("function f() {\n|\n}\n", True, True, None),
    ("class A {\n  m() {\n    |\n  }\n}\n", True, True, None),
    ("let s = 'ab|';\n", False, False, REASON_IN_STRING),
    ("let s = `a ${|}`;\n", True, False, None),
    ("let s = `line one\nline |two`;\n", False, False, REASON_IN_STRING),
    ("// todo |\nlet x = 1;\n", False, False, REASON_IN_COMMENT),
    ("/* block |\n comment */\n", False, False, REASON_IN_COMMENT),
    ("/* done */ |\n", True, False, None),
    ("let a = b|c;\n", False, False, REASON_MID_IDENTIFIER),
    ("let x = 1;\n|\n", True, False, None),
]


@pytest.mark.parametrize(("marked", "complete", "multiline", "reason"), JAVASCRIPT_CASES)
def test_javascript_with_tree(
    marked: str, complete: bool, multiline: bool, reason: str | None
) -> None:
    text, line, character = _split(marked)
    tree = _parse(JAVASCRIPT, text)
    decision = decide(text, line, character, tree=tree, language="javascript")
    assert decision.should_complete is complete, decision
    assert decision.multiline is multiline, decision
    if reason is not None:
        assert decision.reason == reason


def test_comments_allowed_when_asked() -> None:
    text, line, character = _split("x = 1  # note|\n")
    tree = _parse(PYTHON, text)
    decision = decide(text, line, character, tree=tree, language="python", in_comments_allowed=True)
    assert decision.should_complete
    # Strings stay off limits.
    text, line, character = _split("x = 'ab|'\n")
    decision = decide(
        text,
        line,
        character,
        tree=_parse(PYTHON, text),
        language="python",
        in_comments_allowed=True,
    )
    assert not decision.should_complete


def test_unterminated_string_is_caught_although_the_tree_is_broken() -> None:
    text, line, character = _split('def f():\n    x = "abc|\n    return 1\n')
    decision = decide(text, line, character, tree=_parse(PYTHON, text), language="python")
    assert not decision.should_complete
    assert decision.reason == REASON_IN_STRING


def test_non_ascii_line_columns_are_characters() -> None:
    # "😀" is one column; the cursor sits after "+ " on the second line.
    text = 's = "😀"\nt = "é😀" + \n'
    line_text = text.split("\n")[1]
    decision = decide(text, 1, len(line_text), tree=_parse(PYTHON, text), language="python")
    assert decision.should_complete
    decision = decide(text, 1, 6, tree=_parse(PYTHON, text), language="python")
    assert decision.reason == REASON_IN_STRING


@pytest.mark.parametrize(("line", "character"), [(5, 0), (-1, 0)])
def test_position_out_of_range(line: int, character: int) -> None:
    decision = decide("x = 1\n", line, character, tree=None, language="python")
    assert not decision.should_complete
    assert decision.reason == REASON_OUT_OF_RANGE


def test_character_past_end_of_line_is_clamped() -> None:
    decision = decide("x = \n", 0, 99, tree=None, language="python")
    assert decision.should_complete
