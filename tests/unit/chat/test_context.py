"""The context of a chat question: mentions resolved, paths outside the workspace and secret
files refused, secrets redacted, everything within the token budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from quill.chat.gather import ContextGatherer
from quill.chat.mentions import (
    FileRefused,
    confine,
    find_mentions,
    identifiers,
    plain_words,
    read_workspace_file,
)
from quill.context.prompt import chat_messages
from quill.index.service import WorkspaceIndex
from quill.models.tokens import estimate_tokens
from tests.unit.chat.conftest import GEOMETRY


def test_mentions_are_found_without_emails_or_trailing_punctuation() -> None:
    text = "See @pkg/geometry.py, @Circle.circumference and @area. Mail me@example.com `@not`"
    assert [m.text for m in find_mentions(text)] == [
        "pkg/geometry.py",
        "Circle.circumference",
        "area",
    ]
    assert find_mentions("@a @a")[0].text == "a" and len(find_mentions("@a @a")) == 1
    assert find_mentions("@../up")[0].path_like and not find_mentions("@area")[0].path_like


def test_identifiers_and_plain_words() -> None:
    text = "Why does `WorkspaceIndex` call parse_file() and retryCount when Router breaks?"
    assert identifiers(text)[:3] == ["WorkspaceIndex", "parse_file", "retryCount"]
    assert "Router" in plain_words(text) and "does" not in plain_words(text)


def test_paths_outside_the_workspace_are_refused(workspace: Path, tmp_path: Path) -> None:
    assert confine(workspace, "pkg/geometry.py") == (workspace / "pkg" / "geometry.py").resolve()
    for bad in ["../outside.py", "/etc/passwd", "~/x", "pkg/../../outside.py", "link.py", "C:/x"]:
        assert confine(workspace, bad) is None, bad
        with pytest.raises(FileRefused, match="outside the workspace"):
            read_workspace_file(workspace, bad)


def test_files_that_cannot_be_sent(workspace: Path) -> None:
    with pytest.raises(FileRefused, match="secrets"):
        read_workspace_file(workspace, ".env")
    with pytest.raises(FileRefused, match="binary"):
        read_workspace_file(workspace, "blob.bin")
    with pytest.raises(FileRefused, match="not a file"):
        read_workspace_file(workspace, "missing.py")
    with pytest.raises(FileRefused, match="larger"):
        read_workspace_file(workspace, "big.py", max_bytes=1000)
    with pytest.raises(FileRefused, match="no workspace"):
        read_workspace_file(None, "pkg/geometry.py")


def test_an_open_buffer_is_read_before_the_disk(workspace: Path) -> None:
    buffers = {"pkg/geometry.py": "def area(): return 0  # unsaved\n"}
    path, text = read_workspace_file(workspace, "./pkg/geometry.py", buffers.get)
    assert (path, text) == ("pkg/geometry.py", buffers["pkg/geometry.py"])


def _gatherer(workspace: Path, index: WorkspaceIndex | None, budget: int = 2000) -> ContextGatherer:
    return ContextGatherer(root=workspace, index=index, count=estimate_tokens, budget=budget)


def test_file_and_symbol_mentions_resolved(workspace: Path, index: WorkspaceIndex) -> None:
    gatherer = _gatherer(workspace, index)
    gatherer.add_mentions(
        "Compare @pkg/geometry.py with @load_settings, @.env, @../outside.py, @nope"
    )
    result = gatherer.result
    assert [(i.source, i.path) for i in result.items] == [
        ("file", "pkg/geometry.py"),
        ("symbol", "pkg/settings.py"),
    ]
    assert result.items[1].name.startswith("function load_settings")
    assert "def load_settings" in result.blocks[1]["text"]
    assert result.blocks[0]["language"] == "python"
    notes = " ".join(result.notes)
    assert "`@.env` holds secrets" in notes
    assert "`@../outside.py` is outside the workspace" in notes
    assert "`@nope` names no file or symbol" in notes
    assert all("sk-live" not in b["text"] for b in result.blocks)


def test_a_qualified_symbol_mention(workspace: Path, index: WorkspaceIndex) -> None:
    gatherer = _gatherer(workspace, index)
    gatherer.add_mentions("what does @Circle.circumference return")
    assert [i.name for i in gatherer.result.items] == ["method Circle.circumference, line 13"]
    assert gatherer.result.blocks[0]["text"].strip().startswith("def circumference")


def test_secrets_in_context_are_redacted(workspace: Path, index: WorkspaceIndex) -> None:
    gatherer = _gatherer(workspace, index)
    gatherer.add_mentions("@pkg/settings.py")
    assert gatherer.result.redacted >= 1
    text = gatherer.result.blocks[0]["text"]
    assert "ghp_abcdefghij" not in text and "[REDACTED]" in text and "API_TOKEN" in text


def test_selection_current_file_and_search(workspace: Path, index: WorkspaceIndex) -> None:
    gatherer = _gatherer(workspace, index)
    gatherer.add_selection("width * height", "pkg/geometry.py")
    gatherer.add_current("pkg/geometry.py", GEOMETRY, 4)
    gatherer.add_search("why does load_settings() take a path?", limit=3)
    sources = [(i.source, i.path) for i in gatherer.result.items]
    assert sources == [
        ("selection", "pkg/geometry.py"),
        ("current", "pkg/geometry.py"),
        ("search", "pkg/settings.py"),
    ]
    assert gatherer.result.items[1].name == "around line 5"


def test_a_secret_current_file_and_its_selection_are_not_sent(workspace: Path) -> None:
    gatherer = _gatherer(workspace, None)
    gatherer.add_selection("API_KEY=sk-live", ".env")
    gatherer.add_current(".env", "API_KEY=sk-live-0123456789abcdef\n", 0)
    assert gatherer.result.items == []
    assert any("holds secrets" in n for n in gatherer.result.notes)


def test_the_budget_is_kept(workspace: Path, index: WorkspaceIndex) -> None:
    budget = 300
    gatherer = _gatherer(workspace, index, budget)
    gatherer.add_mentions("@big.py @pkg/geometry.py @load_settings")
    gatherer.add_current("big.py", "y = 2\n" * 4000, 2000)
    gatherer.add_search("area and Circle", limit=5)
    gatherer.add_map("area", None, 200)
    result = gatherer.result
    assert result.tokens <= budget
    assert result.items[0].path == "big.py" and "(cut)" in result.blocks[0]["text"]
    rendered = chat_messages("q", context=result.blocks)[-1]["content"]
    assert estimate_tokens(rendered) <= budget + 40


def test_the_repo_map_leaves_out_files_shown_whole(workspace: Path, index: WorkspaceIndex) -> None:
    gatherer = _gatherer(workspace, index, 4000)
    gatherer.add_mentions("@pkg/geometry.py")
    gatherer.add_map("area load_settings", None, 400)
    assert [i.source for i in gatherer.result.items] == ["file", "map"]
    repo_map = gatherer.result.blocks[1]["text"]
    assert "load_settings" in repo_map and "circumference" not in repo_map


def test_chat_messages_render_history_summary_context_and_switch() -> None:
    messages = chat_messages(
        "What now?",
        history=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        summary="- user: asked about caching",
        context=[{"path": "a.py", "name": "file", "language": "python", "text": "x = 1"}],
        switch=("user", "/no_think"),
    )
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "asked about caching" in messages[0]["content"]
    last = messages[-1]["content"]
    assert last.startswith("Context from the workspace:")
    assert "`a.py` (file):\n```python\nx = 1\n```" in last
    assert last.endswith("What now? /no_think")
    system_switch = chat_messages("q", switch=("system", "/no_think"))
    assert system_switch[0]["content"].endswith("/no_think") and system_switch[1]["content"] == "q"
    # text from the user's files never fills a placeholder
    injected = chat_messages(
        "{{question}}",
        context=[{"path": "p", "name": "{{text}}", "language": "", "text": "{{summary}}"}],
    )
    assert "{{question}}" in injected[-1]["content"] and "{{summary}}" in injected[-1]["content"]


def test_chat_messages_for_a_summary() -> None:
    messages = chat_messages(
        "",
        history=[{"role": "user", "content": "use WAL"}, {"role": "assistant", "content": "ok"}],
        summary="- user: earlier",
        purpose="summary",
        max_words=50,
    )
    assert len(messages) == 2
    user = messages[1]["content"]
    assert "Summary so far:\n- user: earlier" in user
    assert "user: use WAL\nassistant: ok" in user and "50 words" in user
