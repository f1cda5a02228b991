"""The plain continuation prompt: context first, the file up to the cursor last, nothing after
the cursor; trailing blanks are cut from the prompt and taken off the answer again."""

from __future__ import annotations

from quill.context.prompt import CompletionPrompt, completion_prompt


def _continue(prefix: str, path: str = "f.py", language: str = "python") -> CompletionPrompt:
    return completion_prompt(
        "continuation", None, prefix=prefix, suffix="", context="", path=path, language=language
    )


def test_context_then_the_file_header_then_the_prefix_and_nothing_after_the_cursor() -> None:
    context = "# Code from other files:\n# def area(r): ...\n"
    rendered = completion_prompt(
        "continuation",
        None,
        prefix="import math\ndef circle(r):\n    return ",
        suffix="\n\nprint(circle(2))\n",
        context=context,
        path="pkg/shapes.py",
        language="python",
    )
    assert rendered.mode == "continuation" and rendered.suffix is None
    assert rendered.prompt == (
        context + "# file: pkg/shapes.py\nimport math\ndef circle(r):\n    return"
    )
    assert "print(circle(2))" not in rendered.prompt
    assert rendered.stop == ("\n\n",)


def test_the_comment_marker_follows_the_language() -> None:
    rendered = _continue("let x = 1;\n", "a.ts", "typescript")
    assert rendered.prompt == "// file: a.ts\nlet x = 1;\n"


def test_blanks_cut_from_the_prompt_are_taken_off_the_answer() -> None:
    rendered = _continue("def f():\n    ", "f.py", "python")
    assert rendered.prompt.endswith("def f():\n") and rendered.healed == "    "
    assert rendered.answer("    return 1") == "return 1"
    assert rendered.answer("  return 1") == "return 1"  # other blanks: the typed ones stay
    mid_line = _continue("x = ", "f.py", "python")
    assert mid_line.prompt.endswith("x =") and mid_line.answer(" 42") == "42"
    plain = _continue("x =", "f.py", "python")
    assert plain.healed == "" and plain.answer(" 42") == " 42"


def test_text_from_the_file_never_fills_placeholders() -> None:
    rendered = _continue("s = '{{context}} {{prefix}}'\n", "f.py", "python")
    assert rendered.prompt.endswith("s = '{{context}} {{prefix}}'\n")


def test_blank_lines_before_the_first_line_of_code_are_dropped_at_a_line_start() -> None:
    at_start = _continue("def f():\n    ", "f.py", "python")
    assert at_start.line_start
    assert at_start.answer("\n\n    return 1") == "return 1"
    mid_line = _continue("x = ", "f.py", "python")
    assert not mid_line.line_start and mid_line.answer("\n1") == "\n1"
