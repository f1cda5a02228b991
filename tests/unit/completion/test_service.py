"""The completion pipeline end to end with the real embedded model (no LSP)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from quill.app import Quill
from quill.completion.service import CompletionRequest, CompletionService, looks_like_prose
from quill.context.sections import ContextQuery, ContextSection

BODY = "import math\n\n\ndef circle_area(radius):\n    \n"


@pytest.fixture
async def app(gguf_path: Path):
    quill = Quill()
    yield quill
    await quill.aclose()


def request(
    text: str, line: int, character: int, uri: str = "file:///w/shapes.py", invoked: bool = True
) -> CompletionRequest:
    return CompletionRequest(uri, text, line, character, 1, "python", "shapes.py", invoked)


DOCUMENTED = 'import math\n\n\ndef circle_area(radius):\n    """The area of a circle."""\n    \n'


async def test_suggestion_from_the_model_then_type_through(app: Quill) -> None:
    service = app.completion
    first = await service.complete(request(DOCUMENTED, 5, 4))
    assert first.model_called and first.reason == "ok", first.reason
    suggestion = first.suggestions[0].text
    assert suggestion.strip()
    record = service.last_prompt
    assert record is not None and record.mode == "continuation" and record.model == "local"
    # a plain continuation: the file up to the cursor ends the prompt, nothing after it
    assert isinstance(record.prompt, str)
    assert record.prompt.endswith('"""The area of a circle."""\n')  # its blanks come back
    assert "# file: shapes.py\nimport math" in record.prompt
    tokens = record.to_json()["tokens"]
    assert 0 < tokens["total"] <= 384 == tokens["budget"]  # the embedded model's budget

    # The user types the first characters of the suggestion: the rest comes from the cache.
    typed = suggestion[:3]
    lines = DOCUMENTED.split("\n")
    lines[5] = "    " + typed
    second = await service.complete(request("\n".join(lines), 5, 4 + len(typed)))
    assert second.from_cache and not second.model_called
    assert second.suggestions[0].text == suggestion[3:]
    assert service.cache.stats().type_through_hits == 1


async def test_gate_keeps_the_model_out(app: Quill) -> None:
    service = app.completion
    mid_word = await service.complete(request("value = compute_total(x)\n", 0, 10))
    assert not mid_word.model_called and mid_word.reason == "cursor inside an identifier"
    in_string = await service.complete(request('name = "hello wor\n', 0, 17))
    assert not in_string.model_called and in_string.reason == "cursor inside a string"


@pytest.mark.parametrize(
    ("text", "line", "character"),
    [
        ("x = 1\n", 10, 0),  # past the end of the document
        ("x = 1\n", 0, 10_000),  # past the end of the line: clamped, still answered
        ("x" * 10_000_000, 0, 5_000_000),  # a 10 MB single line
        ("a😀b = 1\n", 0, 2),  # the middle of a surrogate pair
    ],
)
async def test_bad_positions_and_huge_lines_give_empty_or_an_answer(
    app: Quill, text: str, line: int, character: int
) -> None:
    outcome = await app.completion.complete(request(text, line, character))
    assert isinstance(outcome.suggestions, list)
    if line == 10:
        assert outcome.reason == "position out of range" and not outcome.model_called
    if len(text) > 1_000_000:
        assert outcome.reason == "line too long" and not outcome.model_called


async def test_changed_document_drops_the_result(app: Quill) -> None:
    outcome = await app.completion.complete(request(BODY, 4, 4), is_current=lambda: False)
    assert outcome.suggestions == [] and outcome.reason == "stale"
    assert not outcome.model_called  # checked before the model was called


async def test_superseded_requests_never_reach_the_model(app: Quill) -> None:
    service = app.completion
    calls: list[int] = []
    tasks = []
    for i in range(5):
        text = BODY.replace("    \n", "    r" + "a" * i + "\n")
        req = request(text, 4, 5 + i, invoked=False)
        tasks.append(
            asyncio.create_task(service.complete(req, on_model_call=lambda i=i: calls.append(i)))
        )
        await asyncio.sleep(0.005)  # faster than any debounce delay
    outcomes = await asyncio.gather(*tasks)
    assert [o.reason for o in outcomes[:-1]] == ["superseded"] * 4
    assert calls == [4]  # only the newest request reached the model


async def test_slow_context_source_is_dropped_fast_one_used(app: Quill) -> None:
    def fast(query: ContextQuery) -> Sequence[ContextSection]:
        return [ContextSection("definition", "# geometry.py\ndef square(x): ...\n", 2.0)]

    def slow(query: ContextQuery) -> Sequence[ContextSection]:
        time.sleep(1.0)
        return [ContextSection("repo_map", "never seen\n", 1.0)]

    service: CompletionService = app.completion
    service.context_sources = [("definitions", fast), ("repo_map", slow)]
    await service.complete(request(BODY, 4, 4))
    record = service.last_prompt
    assert record is not None
    assert record.dropped_sources == ["repo_map"]
    assert [s["source"] for s in record.sections] == ["definition"]
    assert "def square(x)" in str(record.prompt)


def test_prose_is_not_code() -> None:
    assert looks_like_prose("The code is already complete.")
    assert not looks_like_prose("return math.pi * radius ** 2")
    assert not looks_like_prose("this.total = 0;")


async def test_context_is_gathered_once_per_line(app: Quill) -> None:
    calls: list[int] = []

    def counting(query: ContextQuery) -> Sequence[ContextSection]:
        calls.append(query.line)
        return [ContextSection("context", "# geometry.py\n#   def square(x): ...\n", 2.0)]

    service: CompletionService = app.completion
    service.context_sources = [("context", counting)]
    await service.complete(request(BODY, 4, 4))
    typed = BODY.replace("    \n", "    ret\n")
    await service.complete(request(typed, 4, 7))  # same line, more typed: same context
    assert calls == [4]
    other = typed + "\ndef other():\n    \n"
    await service.complete(request(other, 8, 4))  # another line: gathered afresh
    assert calls == [4, 8]
    record = service.last_prompt
    assert record is not None and "def square(x)" in str(record.prompt)


PASSWORD = "hunter2" + "Hunter2" + "x9"


async def test_a_secret_on_the_cursor_line_is_never_split_into_the_prompt(app: Quill) -> None:
    # Cursor inside the value: neither half alone looks like a secret to a detector.
    text = f'DB_PASSWORD = "{PASSWORD}"\n'
    column = text.index(PASSWORD) + 7
    calls: list[int] = []
    outcome = await app.completion.complete(
        request(text, 0, column), on_model_call=lambda: calls.append(1)
    )
    assert outcome.reason == "secret on the cursor line" and not calls


async def test_last_prompt_counts_redactions_and_what_was_sent(app: Quill) -> None:
    text = f'DB_PASSWORD = "{PASSWORD}"\n\n\ndef connect(host):\n    \n'
    outcome = await app.completion.complete(request(text, 4, 4))
    assert outcome.model_called
    record = app.completion.last_prompt
    assert record is not None
    report = record.to_json()
    assert report["redactions"] == 1
    assert PASSWORD not in str(report["prompt"]) and "[REDACTED]" in str(report["prompt"])
    assert report["sentTokens"] >= report["tokens"]["prefix"] > 0


async def test_the_gate_parses_through_the_one_tree_cache(app: Quill) -> None:
    service = app.completion
    base = "import math\n\n\ndef circle_area(radius):\n    return math.pi * "
    first = CompletionRequest(
        "file:///w/shapes.py", base, 4, 27, 1, "python", "shapes.py", True, "shapes.py"
    )
    await service.complete(first)
    assert "shapes.py" in app.trees and app.trees.full_parses == 1
    edited = base.replace("import math", "import math  # circles")  # not type-through
    second = CompletionRequest(
        "file:///w/shapes.py", edited, 4, 27, 2, "python", "shapes.py", True, "shapes.py"
    )
    await service.complete(second)
    assert app.trees.full_parses == 1 and app.trees.incremental_parses >= 1
