from __future__ import annotations

from collections.abc import AsyncGenerator

from quill.chat.repetition import stop_on_repetition


async def pieces(parts: list[str], closed: list[bool]) -> AsyncGenerator[str, None]:
    try:
        for part in parts:
            yield part
    finally:
        closed.append(True)


async def collect(parts: list[str]) -> tuple[str, bool]:
    closed: list[bool] = []
    out = "".join([p async for p in stop_on_repetition(pieces(parts, closed))])
    return out, bool(closed)


async def test_a_repeated_long_line_ends_the_answer() -> None:
    line = "The script uses a queue to manage its tasks.\n"
    out, closed = await collect(
        [
            "Intro line that is long enough.\n",
            line[:10],
            line[10:],
            "\n",
            line,
            line,
            "never reached\n",
        ]
    )
    assert out == "Intro line that is long enough.\n" + line + "\n"
    assert closed


async def test_short_lines_and_partial_tails_pass() -> None:
    out, _ = await collect(["}\n", "}\n", "return x\n", "return x\n", "tail without newline"])
    assert out == "}\n}\nreturn x\nreturn x\ntail without newline"


async def test_a_repeated_sentence_inside_a_paragraph_ends_it() -> None:
    a = "The script creates a list of tasks to run."
    b = "It also logs every status change to a file."
    out, closed = await collect([f"{a} {b}\n", "\n", f"{a} Something new here too.\n"])
    assert out == f"{a} {b}\n\n"
    assert closed


async def test_a_near_repeat_counts() -> None:
    a = "The script is designed to create a list of tasks run by asyncio."
    b = "The script is also designed to create a list of tasks run by asyncio."
    out, _ = await collect([f"{a}\n", f"{b}\n"])
    assert out == f"{a}\n"
