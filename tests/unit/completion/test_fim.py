"""FIM templates (every family) and the chat hole filler."""

from __future__ import annotations

import pytest

from quill.completion.answers import extract_hole_filler_answer
from quill.prompts.fim import (
    FILL_MARKER,
    FimTemplate,
    build_hole_filler_messages,
    fim_template_for_family,
    load_fim_templates,
    parse_fim_template,
    select_fim_template,
)

FAMILIES = {
    "qwen2.5-coder": ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    "starcoder2": ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    "deepseek-coder": ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    "codellama": ("<PRE>", "<SUF>", "<MID>"),
    "codestral": ("[PREFIX]", "[SUFFIX]", None),
    "codegemma": ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
}

PREFIX = "def area(width, height):\n    return "
SUFFIX = "\n\nprint(area(2, 3))\n"
CONTEXT = "def helper():\n    return 42\n"


def test_every_family_ships_and_loads() -> None:
    families = {template.family for template in load_fim_templates()}
    assert families == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_render_without_context_fills_every_placeholder(family: str) -> None:
    template = fim_template_for_family(family)
    assert template is not None
    prompt = template.render(PREFIX, SUFFIX, "", "src/geometry.py")
    assert "{{" not in prompt
    assert PREFIX in prompt
    assert SUFFIX in prompt
    for token in FAMILIES[family]:
        if token is not None:
            assert token in prompt
    assert template.stop, "every family declares stop tokens"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_render_puts_context_first_and_the_typed_text_last(family: str) -> None:
    template = fim_template_for_family(family)
    assert template is not None
    prompt = template.render(PREFIX, SUFFIX, CONTEXT, "src/geometry.py")
    assert "{{" not in prompt
    assert "return 42" in prompt
    context_at = prompt.index("return 42")
    prefix_at = prompt.index(PREFIX)
    assert context_at < prefix_at
    if family != "codestral":
        # Prefix-suffix-middle families: the context precedes the whole file.
        assert context_at < prompt.index(SUFFIX)
    else:
        # Suffix-prefix-middle: the prefix (the text being typed) ends the prompt.
        assert prompt.endswith(PREFIX)
    middle = FAMILIES[family][2]
    if middle is not None:
        assert prompt.endswith(middle)
        # Nothing but the suffix sits between the typed text and the middle token.
        assert prompt.index(PREFIX) + len(PREFIX) < prompt.index(SUFFIX)


def test_qwen_repo_level_layout() -> None:
    template = fim_template_for_family("qwen2.5-coder")
    assert template is not None
    files = template.format_context_files([("lib/util.py", "X = 1\n"), ("lib/b.py", "Y = 2")])
    prompt = template.render("a", "b", files, "main.py", repo_name="demo")
    assert prompt == (
        "<|repo_name|>demo\n"
        "<|file_sep|>lib/util.py\nX = 1\n"
        "<|file_sep|>lib/b.py\nY = 2\n"
        "<|file_sep|>main.py\n"
        "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"
    )


def test_plain_context_is_wrapped_as_a_file_for_separator_families() -> None:
    template = fim_template_for_family("starcoder2")
    assert template is not None
    prompt = template.render("a", "b", "X = 1", "main.py", repo_name="demo")
    assert prompt == (
        "<repo_name>demo<file_sep>context\nX = 1\n<file_sep><fim_prefix>main.py\n"
        "a<fim_suffix>b<fim_middle>"
    )


def test_codellama_keeps_its_spaces() -> None:
    template = fim_template_for_family("codellama")
    assert template is not None
    assert template.render("P", "S", "", "x.py") == "<PRE> P <SUF>S <MID>"


def test_context_files_use_comment_for_families_without_separator() -> None:
    template = fim_template_for_family("deepseek-coder")
    assert template is not None
    text = template.format_context_files([("a.js", "let x;")], comment="//")
    assert text == "// a.js\nlet x;\n"


def test_code_that_looks_like_a_placeholder_is_not_expanded() -> None:
    template = fim_template_for_family("qwen2.5-coder")
    assert template is not None
    prompt = template.render("x = '{{suffix}}'", "SUF", "", "a.py")
    assert "x = '{{suffix}}'" in prompt
    assert prompt.count("SUF") == 1


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("Qwen/Qwen2.5-Coder-1.5B", "qwen2.5-coder"),
        ("qwen2.5-coder:7b-base-q4_K_M", "qwen2.5-coder"),
        ("bigcode/starcoder2-3b", "starcoder2"),
        ("deepseek-coder:6.7b-base", "deepseek-coder"),
        ("DeepSeek-Coder-V2-Lite-Base", "deepseek-coder"),
        ("codellama:7b-code", "codellama"),
        ("CodeLlama-13b-hf", "codellama"),
        ("codestral-latest", "codestral"),
        ("google/codegemma-2b", "codegemma"),
        ("smollm2-135m-instruct", None),
        ("gpt-4o-mini", None),
        ("llama3.1:8b", None),
    ],
)
def test_select_by_model_name(model: str, family: str | None) -> None:
    template = select_fim_template(model)
    assert (template.family if template else None) == family


def _toml(**overrides: str) -> str:
    fields = {
        "family": '"x"',
        "model_patterns": "['x']",
        "context_file": '"{{content}}"',
        "template": '"A{{prefix}}B{{suffix}}C"',
        "template_with_context": '"{{context}}A{{prefix}}B{{suffix}}C"',
        "stop": '["C"]',
    }
    fields.update(overrides)
    return "\n".join(f"{key} = {value}" for key, value in fields.items())


def test_parse_accepts_a_minimal_file() -> None:
    template = parse_fim_template(_toml())
    assert isinstance(template, FimTemplate)
    assert template.render("p", "s", "c", "f") == "c\nApBsC"


@pytest.mark.parametrize(
    "overrides",
    [
        {"template": '"A{{prefix}}C"'},
        {"template_with_context": '"A{{prefix}}B{{suffix}}{{context}}C"'},
        {"template": '"{{prefix}}{{suffix}}{{nonsense}}"'},
        {"model_patterns": "['(']"},
        {"stop": '"C"'},
        {"context_file": '"{{path}}"'},
    ],
)
def test_parse_rejects_broken_files(overrides: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        parse_fim_template(_toml(**overrides))


# --- hole filler -----------------------------------------------------------------------------


def test_hole_filler_messages_come_from_data_files() -> None:
    messages = build_hole_filler_messages(PREFIX, SUFFIX, CONTEXT, "python", "geo.py")
    roles = [message["role"] for message in messages]
    # system, then worked examples as earlier turns, then the real request last
    assert roles[0] == "system" and roles[-1] == "user"
    assert roles[1:-1] == ["user", "assistant"] * ((len(roles) - 2) // 2)
    assert len(roles) >= 4
    system, user = messages[0]["content"], messages[-1]["content"]
    assert FILL_MARKER in system
    assert f"{PREFIX}{FILL_MARKER}{SUFFIX}" in user
    assert "geo.py" in user and "python" in user
    # Context first, the file with the hole after it.
    assert user.index("return 42") < user.index(PREFIX)


def test_hole_filler_without_context_has_no_context_section() -> None:
    user = build_hole_filler_messages("a", "b", "  ", "python", "x.py")[-1]["content"]
    assert "<context>" not in user
    assert user.startswith("File x.py (python):")


def test_hole_filler_system_message_does_not_change_with_the_document() -> None:
    first = build_hole_filler_messages("a", "b", "", "python", "x.py")[:-1]
    second = build_hole_filler_messages("zzz", "yyy", "ctx", "go", "y.go")[:-1]
    assert first == second  # everything before the request is a stable, cacheable prefix


@pytest.mark.parametrize(
    ("reply", "prefix", "expected"),
    [
        ("width * height", "", "width * height"),
        ("```python\nwidth * height\n```", "", "width * height"),
        ("```\nwidth * height", "", "width * height"),
        ("Here is the code:\n```py\nwidth * height\n```\nHope it helps!", "", "width * height"),
        ("Sure! Here is the completion:\nwidth * height", "", "width * height"),
        ("<COMPLETION>width * height</COMPLETION>", "", "width * height"),
        ("\n\nwidth * height\n\n", "", "width * height"),
        ("def f(a, b):\n    return a + b", "def f(a, b):\n    ", "return a + b"),
        ("    return a + b", "def f(a, b):\n    ", "return a + b"),
        ("return a + b", "def f(a, b):\n    return ", "a + b"),
        (f"def f():\n    {FILL_MARKER}", "", ""),
        # Not echoes: a partial line, a bracket that merely looks like the prefix's.
        ("1\nb = 2", "a = 1\n", "1\nb = 2"),
        ("(a)", "foo(", "(a)"),
    ],
)
def test_extract_hole_filler_answer(reply: str, prefix: str, expected: str) -> None:
    assert extract_hole_filler_answer(reply, prefix=prefix) == expected
