"""The action service with the real embedded model, and its answer parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from quill.actions.edits import RewriteRejected
from quill.actions.service import ActionInput, SecretCodeRefused, parse_findings
from quill.actions.targets import find_target, syntax_errors
from quill.app import Quill

SOURCE = "def average(values):\n    return sum(values) / len(values)\n"
TOKEN = "ghp_" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2"


@pytest.fixture
async def app(gguf_path: Path):
    quill = Quill()
    yield quill
    await quill.aclose()


def _input(text: str = SOURCE, path: str = "stats.py") -> ActionInput:
    target = find_target(text, "python", (1, 4))
    assert target is not None
    return ActionInput(path=path, language="python", document=text, target=target)


@pytest.mark.model
async def test_explain_answers_in_markdown(app: Quill) -> None:
    answer = await app.actions.explain(_input())
    assert answer.strip() and answer != "The model gave no explanation."


@pytest.mark.model
async def test_a_docstring_rewrite_parses_or_is_refused_with_a_reason(app: Quill) -> None:
    inp = _input()
    try:
        edits = await app.actions.rewrite("addDocstring", inp)
    except RewriteRejected as exc:
        assert str(exc)  # a reason for the user; the buffer is left alone
        return
    assert edits
    lines = SOURCE.split("\n")
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        (sl, _), (el, _) = edit.start, edit.end
        lines[sl:el] = edit.new_text.rstrip("\n").split("\n") if edit.new_text else []
    assert syntax_errors("\n".join(lines), "python") == 0


async def test_secrets_are_redacted_and_secret_files_refused(app: Quill) -> None:
    text = f'TOKEN = "{TOKEN}"\n\n\ndef call(client):\n    return client.get(TOKEN)\n'
    target = find_target(text, "python", (0, 0), (4, 0))
    assert target is not None
    inp = ActionInput(path="api.py", language="python", document=text, target=target)
    messages = await app.actions._messages("explain", inp)
    assert TOKEN not in str(messages) and "[REDACTED]" in str(messages)
    with pytest.raises(SecretCodeRefused):
        await app.actions._messages("explain", _input(path="config/.env"))


def test_review_answers_are_validated() -> None:
    target = find_target(SOURCE, "python", (1, 4))
    assert target is not None
    good = 'Here: [{"line": 2, "message": "divides by zero on an empty list"}]'
    assert [(f.line, f.message) for f in parse_findings(good, target) or []] == [
        (1, "divides by zero on an empty list")
    ]
    assert parse_findings('[{"line": 99, "message": "elsewhere"}]', target) == []
    assert parse_findings("no bugs!", target) is None
    assert parse_findings('[{"line": "two", "message": "x"}]', target) is None
    assert parse_findings("[1, 2]", target) is None
