"""The post-filters, one table per rule, and the whole chain."""

from __future__ import annotations

import pytest

from quill.completion.postfilter import (
    balance_brackets,
    cut_at_dedent,
    cut_at_suffix_overlap,
    drop_repeated_lines,
    first_line_only,
    fix_relative_indentation,
    normalize_indent_chars,
    normalize_newlines,
    postprocess,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\nb", "a\nb"),
    ],
)
def test_normalize_newlines(text: str, expected: str) -> None:
    assert normalize_newlines(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x + 1\ny = 2", "x + 1"),
        ("x + 1", "x + 1"),
        ("\nnext line", ""),
    ],
)
def test_first_line_only(text: str, expected: str) -> None:
    assert first_line_only(text) == expected


@pytest.mark.parametrize(
    ("text", "prefix", "unit", "expected"),
    [
        # Tabs from the model, spaces in the file.
        ("if x:\n\treturn 1", "    ", "    ", "if x:\n    return 1"),
        # Spaces from the model, tabs in the file.
        ("if x {\n        y()\n    }", "\t", "\t", "if x {\n\t\ty()\n\t}"),
        ("a {\n  b\n}", "", "\t", "a {\n\tb\n}"),
        # The first line is only touched when the cursor is in the indentation.
        ("\tx", "foo = ", "    ", "\tx"),
        ("\tx", "", "    ", "    x"),
        # No unit known: nothing changes.
        ("\tx\n\ty", "", None, "\tx\n\ty"),
    ],
)
def test_normalize_indent_chars(text: str, prefix: str, unit: str | None, expected: str) -> None:
    assert normalize_indent_chars(text, prefix, unit) == expected


@pytest.mark.parametrize(
    ("text", "prefix", "expected"),
    [
        # A block written from column 0 while the cursor is indented.
        (
            "if x:\n    return 1\nreturn 2",
            "def f(x):\n    ",
            "if x:\n        return 1\n    return 2",
        ),
        ("a = 1\nb = 2", "def f():\n    ", "a = 1\n    b = 2"),
        # One nested line, written one level deep relative to column 0.
        ("if x:\n    return 1", "def f(x):\n    ", "if x:\n        return 1"),
        # Already absolute: untouched.
        (
            "if x:\n        return 1\n    return 2",
            "def f(x):\n    ",
            "if x:\n        return 1\n    return 2",
        ),
        # A block that ends and goes on at top level (absolute indentation): untouched.
        ("return x\n\ndef g():\n    pass", "def f(x):\n    ", "return x\n\ndef g():\n    pass"),
        # Cursor at column 0: nothing to shift by.
        ("a = 1\nb = 2", "", "a = 1\nb = 2"),
        ("single line", "    ", "single line"),
    ],
)
def test_fix_relative_indentation(text: str, prefix: str, expected: str) -> None:
    assert fix_relative_indentation(text, prefix) == expected


@pytest.mark.parametrize(
    ("text", "prefix", "suffix", "expected"),
    [
        # The model re-typed the rest of the cursor line.
        ("a, b)", "foo(", ")", "a, b"),
        ("a, b) -> int:\n    return a", "def f(", ") -> int:\n    pass", "a, b"),
        (")", "foo(x", ")\n", ""),
        (" > 0:", "if x", ":\n    pass", " > 0"),
        # The last ")" closes the completion's own call: not a re-typed suffix.
        ("foo(1) + bar(2)", "x = max(", ")\n", "foo(1) + bar(2)"),
        ("a, g(b)) -> int:", "def f(", ") -> int:\n", "a, g(b)"),
        # The model re-typed the line below the cursor.
        ("x = 1\n    return x", "def f():\n    ", "\n    return x\n", "x = 1"),
        ("return 1;\n}", "function f() {\n  ", "\n}\n", "return 1;"),
        # Same text, other indentation: a nested closer, not the suffix's one.
        ("if (a) {\n    b();\n  }", "function f() {\n  ", "\n}\n", "if (a) {\n    b();\n  }"),
        # The first line itself repeats the next line.
        ("return x", "def f():\n    ", "\n    return x\n", ""),
        # No overlap at all.
        ("x = 1", "", "\nprint(y)\n", "x = 1"),
        ("x = 1", "", "", "x = 1"),
    ],
)
def test_cut_at_suffix_overlap(text: str, prefix: str, suffix: str, expected: str) -> None:
    assert cut_at_suffix_overlap(text, prefix, suffix) == expected


@pytest.mark.parametrize(
    ("text", "prefix", "expected"),
    [
        # A loop: the same line again and again.
        ("x += 1\nx += 1\nx += 1", "", "x += 1"),
        # The lines just above the cursor, re-typed.
        ("a = compute()\nc = 3", "a = compute()\nb = other()\n", "\nc = 3"),
        ("    b = other()\n    c = 3", "def f():\n    b = other()\n", "\n    c = 3"),
        # The cursor line completed into the line above it.
        ("compute()", "a = compute()\na = ", ""),
        # Short structural lines may repeat.
        ("}\n}", "", "}\n}"),
        ("end\nend", "", "end\nend"),
        # Different lines stay.
        ("a = 1\nb = 2", "c = 3\n", "a = 1\nb = 2"),
        # Far above the window: allowed again.
        ("a = compute()", "a = compute()\nq = 1\nr = 2\ns = 3\n", "a = compute()"),
    ],
)
def test_drop_repeated_lines(text: str, prefix: str, expected: str) -> None:
    assert drop_repeated_lines(text, prefix) == expected


@pytest.mark.parametrize(
    ("text", "prefix", "expected"),
    [
        # Python: the body ends where the next top-level statement starts.
        ("\n    return 1\n\ndef g():\n    pass", "def f():", "\n    return 1\n"),
        # Cursor in a body: leaving the body stops the completion.
        ("return x\nprint(x)", "def f(x):\n    ", "return x"),
        # Braces: the closing brace of the block opened on the cursor line is kept.
        ("\n  return 1;\n}\nfunction g() {}", "function f() {", "\n  return 1;\n}"),
        # Deeper lines are the block's own.
        ("if x:\n        y()\n    z()", "def f():\n    ", "if x:\n        y()\n    z()"),
        ("one line", "    ", "one line"),
    ],
)
def test_cut_at_dedent(text: str, prefix: str, expected: str) -> None:
    assert cut_at_dedent(text, prefix) == expected


@pytest.mark.parametrize(
    ("text", "prefix", "suffix", "expected"),
    [
        # The suffix already closes the call: the model's ")" goes.
        ("a, b)", "foo(", ")", "a, b"),
        # Nothing right of the cursor closes it: the model's ")" stays.
        ("a, b)", "foo(", "", "a, b)"),
        ("a, b)", "foo(", "\nbar()\n", "a, b)"),
        # Brackets the completion opens itself are fine.
        ("bar(1), [2]", "foo(", ")", "bar(1), [2]"),
        # A closer matching nothing is cut.
        ("x = 1)", "", "", "x = 1"),
        ("x = [1)", "", "", "x = [1"),
        # The enclosing block's brace is already in the suffix.
        ("a();\n}", "function f() {\n  ", "\n}\n", "a();"),
        # The suffix closes the outer brace only: the inner call may be closed.
        ("a, b);\n}", "function f() {\n  g(", "\n}\n", "a, b);"),
        # Brackets in strings and comments do not count.
        ('")"', "print(", "", '")"'),
        ("1  # )", "x = (", "", "1  # )"),
        # Brackets inside the prefix's strings do not count either.
        ("x)", 'print("(", ', ")", "x"),
    ],
)
def test_balance_brackets(text: str, prefix: str, suffix: str, expected: str) -> None:
    assert balance_brackets(text, prefix, suffix, language="python") == expected


def test_balance_brackets_rust_lifetimes_are_not_strings() -> None:
    prefix = "fn f<'a>(x: &'a str) -> &'a str {\n    g("
    assert balance_brackets("x)", prefix, "\n}\n", language="rust") == "x)"
    assert balance_brackets("x)", prefix, ")\n}\n", language="rust") == "x"


@pytest.mark.parametrize(
    ("completion", "prefix", "suffix", "multiline", "expected"),
    [
        ("   \n\t\n", "x = ", "", True, ""),
        ("", "x = ", "", False, ""),
        ("1\ny = 2", "x = ", "", False, "1"),
        ("a, b)\n", "foo(", ")\n", False, "a, b"),
        ("foo(1) + bar(2))", "x = max(", ")\n", False, "foo(1) + bar(2)"),
        ("foo(1) + bar(2)", "x = max(", ")\n", False, "foo(1) + bar(2)"),
        (
            "\n    if x:\n        return 1\n    return 2\n\ndef g():\n    pass\n",
            "def f(x):",
            "\n",
            True,
            "\n    if x:\n        return 1\n    return 2",
        ),
        (
            "return total\n\n\n",
            "def f():\n    total = 0\n    ",
            "\n\nprint(f())\n",
            True,
            "return total",
        ),
        ("  y = 2  ", "x = 1\n", "", False, "  y = 2"),
        ("x = 1\r\nx = 1\r\nx = 1", "", "", True, "x = 1"),
    ],
)
def test_postprocess(
    completion: str, prefix: str, suffix: str, multiline: bool, expected: str
) -> None:
    result = postprocess(
        completion, prefix=prefix, suffix=suffix, multiline=multiline, language="python"
    )
    assert result == expected


def test_postprocess_indentation_with_indent_unit() -> None:
    result = postprocess(
        "if x:\n\treturn 1",
        prefix="def f(x):\n    ",
        suffix="",
        multiline=True,
        indent_unit="    ",
    )
    assert result == "if x:\n        return 1"
