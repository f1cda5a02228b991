"""History trimming (oldest first, pinned and keyword messages never), summaries, titles."""

from __future__ import annotations

from quill.chat.history import (
    extractive_summary,
    gist,
    history_messages,
    message_cost,
    title_from,
    trim_history,
)
from quill.chat.records import StoredMessage
from quill.models.tokens import estimate_tokens


def _msg(i: int, content: str, *, role: str | None = None, pinned: bool = False) -> StoredMessage:
    return StoredMessage(
        id=i,
        session_id="s",
        role=role or ("user" if i % 2 else "assistant"),  # type: ignore[arg-type]
        content=content,
        created=float(i),
        pinned=pinned,
    )


def _conversation(n: int) -> list[StoredMessage]:
    return [_msg(i, f"message number {i} " + "word " * 20) for i in range(1, n + 1)]


def test_everything_fits_nothing_trimmed() -> None:
    messages = _conversation(4)
    result = trim_history(messages, 10_000, estimate_tokens)
    assert result.kept == messages
    assert result.trimmed == []
    assert result.tokens == sum(message_cost(m, estimate_tokens) for m in messages)


def test_trimmed_oldest_first_to_the_budget() -> None:
    messages = _conversation(10)
    cost = message_cost(messages[0], estimate_tokens)
    result = trim_history(messages, cost * 4, estimate_tokens)
    assert [m.id for m in result.kept] == [7, 8, 9, 10]
    assert [m.id for m in result.trimmed] == [1, 2, 3, 4, 5, 6]
    assert result.tokens <= cost * 4


def test_pinned_and_keyword_messages_are_never_trimmed() -> None:
    messages = _conversation(10)
    messages[1] = _msg(2, "pinned fact: the port is 8123 " + "word " * 20, pinned=True)
    messages[2] = _msg(3, "Remember: DECISION use sqlite " + "word " * 20)
    cost = message_cost(messages[0], estimate_tokens)
    result = trim_history(messages, cost * 5, estimate_tokens, keywords=["decision"])
    kept = [m.id for m in result.kept]
    assert 2 in kept and 3 in kept
    assert kept[-2:] == [9, 10]
    assert all(m.id not in (2, 3) for m in result.trimmed)
    # even a budget of nothing keeps them
    nothing = trim_history(messages, 0, estimate_tokens, keywords=["decision"])
    assert [m.id for m in nothing.kept] == [2, 3]


def test_an_answer_goes_with_its_question() -> None:
    messages = [
        _msg(1, "question one " + "word " * 30, role="user"),
        _msg(2, "short answer", role="assistant"),
        _msg(3, "question two", role="user"),
        _msg(4, "answer two", role="assistant"),
    ]
    budget = sum(message_cost(m, estimate_tokens) for m in messages[1:])
    result = trim_history(messages, budget, estimate_tokens)
    assert [m.id for m in result.kept] == [3, 4]
    assert [m.id for m in result.trimmed] == [1, 2]


def test_extractive_summary_folds_and_stays_in_budget() -> None:
    first = extractive_summary(
        "",
        [_msg(1, "How do I open the DB? I tried twice."), _msg(2, "Use `sqlite3.connect`.")],
        200,
        estimate_tokens,
    )
    assert first.splitlines() == [
        "- user: How do I open the DB?",
        "- assistant: Use `sqlite3.connect`.",
    ]
    second = extractive_summary(first, [_msg(3, "And WAL mode?")], 200, estimate_tokens)
    assert second.splitlines()[-1] == "- user: And WAL mode?"
    assert second.startswith(first)
    many = [_msg(i, f"fact {i} " + "word " * 30) for i in range(1, 40)]
    small = extractive_summary(second, many, 60, estimate_tokens)
    assert estimate_tokens(small) <= 60
    assert small.splitlines()[-1].startswith("- user: fact 39")


def test_gist_leaves_code_out_and_cuts_long_sentences() -> None:
    assert gist("Here:\n```python\nx = 1\n```\nDone.") == "Here: [code] Done."
    long = "word " * 100
    assert len(gist(long)) <= 200 and gist(long).endswith("…")
    assert gist("   ") == ""


def test_title_from_the_first_line() -> None:
    assert title_from("\n  Why does   the cache miss?\nmore") == "Why does the cache miss?"
    title = title_from("a " * 10 + "averyveryverylongwordattheend " * 5)
    assert len(title) <= 61 and title.endswith("…")
    assert title_from("   ") == "New chat"


def test_history_messages_drop_thinking_and_empty_answers() -> None:
    stored = [
        _msg(1, "hi", role="user"),
        StoredMessage(2, "s", "assistant", "", 2.0, stopped=True),
        StoredMessage(3, "s", "assistant", "hello", 3.0, thinking="secret plan"),
    ]
    assert history_messages(stored) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]
