"""A chat session written out: Markdown for people, JSON for programs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from quill.chat.records import ChatSession, StoredMessage

__all__ = ["EXPORT_VERSION", "export_json", "export_markdown"]

#: the ``version`` of the JSON export's shape
EXPORT_VERSION = 1


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def export_markdown(
    session: ChatSession, messages: Sequence[StoredMessage], *, thinking: bool = False
) -> str:
    """The session as a Markdown document: a heading per message, its context listed, the
    thinking folded in ``<details>`` when ``thinking``."""
    out = [f"# {session.title}", ""]
    out.append(f"_Started {_when(session.created)}; {len(messages)} messages._")
    out.append("")
    if session.summary.strip():
        out += ["> **Summary of earlier turns**", ">"]
        out += [f"> {line}" for line in session.summary.strip().splitlines()]
        out.append("")
    for message in messages:
        who = "You" if message.role == "user" else "Quill"
        marks = [_when(message.created)]
        if message.model and message.role == "assistant":
            marks.append(message.model)
        if message.pinned:
            marks.append("pinned")
        if message.stopped:
            marks.append("stopped")
        out += [f"## {who} ({', '.join(marks)})", ""]
        if thinking and message.thinking.strip():
            out += ["<details><summary>Thinking</summary>", "", message.thinking.strip(), ""]
            out += ["</details>", ""]
        out += [message.content.strip() or "_(no answer)_", ""]
        if message.context:
            used = ", ".join(
                f"`{item.path}` ({item.name})" if item.name else f"`{item.path}`"
                for item in message.context
            )
            out += [f"_Context: {used}_", ""]
    return "\n".join(out).rstrip() + "\n"


def export_json(
    session: ChatSession, messages: Sequence[StoredMessage], *, thinking: bool = True
) -> str:
    """The session and its messages as JSON (``{"version", "session", "messages"}``)."""
    data = {
        "version": EXPORT_VERSION,
        "session": session.to_json(),
        "messages": [m.to_json(thinking=thinking) for m in messages],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
