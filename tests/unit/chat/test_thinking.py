"""<think> blocks hidden from the answer, also when their tags arrive split across pieces."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from quill.chat.thinking import ThinkSplitter, no_think_switch

TEXT = "<think>The user wants a sum.\nUse sum().</think>\n\nUse `sum(xs)`."


def _run(pieces: list[str]) -> tuple[str, str, list[str]]:
    thoughts: list[str] = []
    splitter = ThinkSplitter(on_thinking=thoughts.append)
    shown = "".join(splitter.feed(p) for p in pieces) + splitter.flush()
    return shown, splitter.thinking, thoughts


def test_a_whole_block_is_hidden_and_kept() -> None:
    shown, thinking, thoughts = _run([TEXT])
    assert shown == "Use `sum(xs)`."
    assert thinking == "The user wants a sum.\nUse sum()."
    assert "".join(thoughts).strip() == thinking


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_tags_split_across_pieces_at_every_position(size: int) -> None:
    pieces = [TEXT[i : i + size] for i in range(0, len(TEXT), size)]
    shown, thinking, _ = _run(pieces)
    assert shown == "Use `sum(xs)`."
    assert thinking == "The user wants a sum.\nUse sum()."


def test_every_single_cut_point() -> None:
    for cut in range(len(TEXT) + 1):
        shown, thinking, _ = _run([TEXT[:cut], TEXT[cut:]])
        assert shown == "Use `sum(xs)`.", cut
        assert thinking == "The user wants a sum.\nUse sum().", cut


def test_text_that_only_looks_like_a_tag_is_shown() -> None:
    shown, thinking, _ = _run(["a <th", "ing> b <", "/think> c <thi"])
    assert shown == "a <thing> b </think> c <thi"
    assert thinking == ""


def test_several_blocks_and_an_unterminated_one() -> None:
    shown, thinking, _ = _run(["A<think>one</think>B<think>two", " still"])
    assert shown == "AB"
    assert thinking == "onetwo still"


def test_no_block_passes_through_unchanged() -> None:
    shown, thinking, _ = _run(["plain ", "answer\n", "  indented"])
    assert shown == "plain answer\n  indented"
    assert thinking == ""


async def test_the_stream_stage_hides_thinking_and_closes_upstream() -> None:
    closed: list[bool] = []

    async def upstream() -> AsyncGenerator[str, None]:
        try:
            for piece in ["<thi", "nk>hm", "m</th", "ink>Hi", " there"]:
                yield piece
        finally:
            closed.append(True)

    splitter = ThinkSplitter()
    out = [piece async for piece in splitter.split(upstream())]
    assert "".join(out) == "Hi there"
    assert splitter.thinking == "hmm"
    assert closed == [True]


def test_no_think_switch_only_where_a_model_has_one() -> None:
    assert no_think_switch("openai:http://127.0.0.1:8080/v1:Qwen3-8B") == ("user", "/no_think")
    assert no_think_switch("local:SmolLM3-3B.gguf") == ("system", "/no_think")
    assert no_think_switch("local:smollm2-135m-instruct.q4_1.gguf") is None
    assert no_think_switch("openai:https://api.openai.com/v1:gpt-4o") is None
