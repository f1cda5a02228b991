"""Targets (the function around the cursor, or the selection) and rewrites as minimal edits."""

from __future__ import annotations

import pytest

from quill.actions.edits import (
    RewriteRejected,
    TextReplacement,
    extract_code,
    minimal_replacements,
    rewrite_target,
)
from quill.actions.targets import find_target, syntax_errors

SOURCE = """import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    @property
    def area(self):
        return math.pi * self.radius ** 2


def perimeter(circle):
    return 2 * math.pi * circle.radius
"""


def test_cursor_in_a_method_targets_the_method_with_its_decorator() -> None:
    target = find_target(SOURCE, "python", (9, 12))
    assert target is not None
    assert (target.kind, target.name, target.start_line, target.end_line) == (
        "method",
        "area",
        7,
        9,
    )
    assert target.text.startswith("    @property\n") and target.title == "method area"


def test_cursor_on_a_class_line_and_in_a_function() -> None:
    cls = find_target(SOURCE, "python", (3, 0))
    assert cls is not None and (cls.kind, cls.name, cls.end_line) == ("class", "Circle", 9)
    fn = find_target(SOURCE, "python", (13, 4))
    assert fn is not None and (fn.kind, fn.name, fn.start_line) == ("function", "perimeter", 12)


def test_a_selection_is_its_whole_lines() -> None:
    target = find_target(SOURCE, "python", (4, 8), (6, 0))
    assert target is not None and target.kind == "selection"
    assert (target.start_line, target.end_line) == (4, 5)
    assert target.text == "    def __init__(self, radius):\n        self.radius = radius\n"


@pytest.mark.parametrize(
    ("text", "language", "at"),
    [("import math\n", "python", (0, 3)), ("", "python", (0, 0)), ("x = 1\n", None, (0, 0))],
)
def test_no_target_outside_definitions_or_without_a_grammar(
    text: str, language: str | None, at: tuple[int, int]
) -> None:
    assert find_target(text, language, at) is None


def test_javascript_and_go_targets() -> None:
    js = "class A {\n  area() {\n    return 1;\n  }\n}\nconst f = (x) => x * 2;\n"
    method = find_target(js, "javascript", (2, 4))
    assert method is not None and (method.kind, method.name) == ("method", "area")
    go = "package m\n\nfunc Area(r float64) float64 {\n\treturn r * r\n}\n"
    fn = find_target(go, "go", (3, 2))
    assert fn is not None and (fn.kind, fn.name, fn.start_line, fn.end_line) == (
        "function",
        "Area",
        2,
        4,
    )


def test_extract_code_from_fences_and_chatter() -> None:
    assert extract_code("Sure! Here is the code:\n```python\nx = 1\n```\nHope it helps.") == (
        "x = 1\n"
    )
    assert extract_code("```py\na\n```\ntext\n```py\nlonger = 2\nmore = 3\n```") == (
        "longer = 2\nmore = 3\n"
    )
    assert extract_code("```python\ncut = True\n") == "cut = True\n"  # unclosed fence
    assert extract_code("   \n") == ""


def test_minimal_replacements_touch_only_changed_lines() -> None:
    old = "a\nb\nc\nd\n"
    new = "a\nB\nc\nd\ne\n"
    assert minimal_replacements(old, new, 10) == [
        TextReplacement((11, 0), (12, 0), "B\n"),
        TextReplacement((14, 0), (14, 0), "e\n"),
    ]


def test_rewrite_reindents_a_method_and_keeps_the_rest() -> None:
    target = find_target(SOURCE, "python", (9, 12))
    assert target is not None
    reply = (
        "```python\n@property\ndef area(self):\n"
        '    """The area."""\n    return math.pi * self.radius ** 2\n```'
    )
    edits = rewrite_target(SOURCE, target, reply, "python")
    assert edits == [TextReplacement((9, 0), (9, 0), '        """The area."""\n')]


def test_rewrites_that_break_the_syntax_or_change_nothing_are_refused() -> None:
    target = find_target(SOURCE, "python", (13, 4))
    assert target is not None
    with pytest.raises(RewriteRejected, match="does not parse"):
        rewrite_target(
            SOURCE, target, "```python\ndef perimeter(circle:\n    return\n```", "python"
        )
    with pytest.raises(RewriteRejected, match="changed nothing"):
        rewrite_target(SOURCE, target, f"```python\n{target.text}```", "python")
    with pytest.raises(RewriteRejected, match="no code"):
        rewrite_target(SOURCE, target, "", "python")


def test_syntax_errors_counts() -> None:
    assert syntax_errors(SOURCE, "python") == 0
    assert (syntax_errors("def f(:\n", "python") or 0) >= 1
    assert syntax_errors("x", None) is None


def test_a_docstring_request_keeps_only_the_documentation() -> None:
    source = "import math\n\n\ndef circle_area(radius):\n    return math.pi * radius ** 2\n"
    target = find_target(source, "python", (4, 8))
    assert target is not None
    reply = (
        "```python\ndef circle_area(radius: float) -> float:\n"
        '    """The area of a circle."""\n'
        "    if radius <= 0:\n        raise ValueError(radius)\n"
        "    return math.pi * radius ** 2\n```"
    )
    edits = rewrite_target(source, target, reply, "python", documentation_only_=True)
    assert edits == [TextReplacement((4, 0), (4, 0), '    """The area of a circle."""\n')]
    with pytest.raises(RewriteRejected, match="no documentation"):
        rewrite_target(
            source,
            target,
            "```python\ndef circle_area(r):\n    return r\n```",
            "python",
            documentation_only_=True,
        )
    go = "package m\n\nfunc Area(r float64) float64 {\n\treturn r * r\n}\n"
    go_target = find_target(go, "go", (3, 2))
    assert go_target is not None
    go_reply = "```go\n// Area returns r squared.\nfunc Area(r int) int {\n\treturn r\n}\n```"
    assert rewrite_target(go, go_target, go_reply, "go", documentation_only_=True) == [
        TextReplacement((2, 0), (2, 0), "// Area returns r squared.\n")
    ]


def test_a_word_range_inside_a_line_counts_as_the_cursor() -> None:
    # eglot sends the bounds of the word under the cursor as the code action's range
    target = find_target(SOURCE, "python", (13, 15), (13, 19))
    assert target is not None and (target.kind, target.name) == ("function", "perimeter")
    whole_line = find_target(SOURCE, "python", (13, 4), (13, 38))
    assert whole_line is not None and whole_line.kind == "selection"
