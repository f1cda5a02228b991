"""What an instruct model answers to the hole-filler prompt, cleaned to the code alone."""

from __future__ import annotations

import logging
import re

from quill.prompts.fim import FILL_MARKER

__all__ = ["extract_hole_filler_answer", "looks_like_prose"]

logger = logging.getLogger(__name__)

_MAX_ECHO = 4000
_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n?", re.MULTILINE)
_TAGS = ("COMPLETION", "completion", "answer", "ANSWER", "code")
_CHATTER = re.compile(
    r"^\s*(?:here(?:'s| is)\b|sure\b|certainly\b|the (?:code|answer|completion|missing)\b"
    r"|answer\b|reply\b|output\b|completion\b)[^\n]*:\s*(?:\n|$)",
    re.IGNORECASE,
)


def _inside_tags(text: str) -> str:
    for tag in _TAGS:
        start = text.find(f"<{tag}>")
        if start >= 0:
            body = text[start + len(tag) + 2 :]
            end = body.find(f"</{tag}>")
            return body if end < 0 else body[:end]
    return text


def _inside_fence(text: str) -> str:
    match = _FENCE.search(text)
    if match is None:
        return text
    body = text[match.end() :]
    closing = _FENCE.search(body)
    return body if closing is None else body[: closing.start()]


def _strip_prefix_echo(answer: str, prefix: str) -> str:
    if not prefix:
        return answer
    cursor_line = prefix.rsplit("\n", 1)[-1]
    # The longest end of the prefix that the answer starts with, if it covers the whole
    # cursor line and starts at a line start: the model re-typed whole lines before the hole.
    for k in range(min(len(prefix), len(answer), _MAX_ECHO), max(len(cursor_line), 1) - 1, -1):
        start = len(prefix) - k
        if (start == 0 or prefix[start - 1] == "\n") and prefix.endswith(answer[:k]):
            return answer[k:]
    typed = cursor_line.lstrip()
    if typed and answer.startswith(typed):
        return answer[len(typed) :]
    return answer


def extract_hole_filler_answer(text: str, *, prefix: str = "") -> str:
    """The completion inside a hole-filler reply, without fences, tags, chatter or echoes.

    ``prefix`` is the document before the hole; when given, an answer that repeats the code
    in front of the hole has that repetition removed. Re-typed suffix text is left to
    :func:`quill.completion.postfilter.postprocess`, which knows brackets. An answer that
    still contains the marker (the model copied the file) gives ``""``.
    """
    answer = text.replace("\r\n", "\n")
    answer = _inside_tags(answer)
    answer = _inside_fence(answer)
    answer = _CHATTER.sub("", answer, count=1)
    answer = _inside_fence(answer)
    if FILL_MARKER in answer:
        logger.debug("hole filler answer repeats the marker; dropped")
        return ""
    answer = answer.rstrip()
    # Leading blank lines are formatting, not code.
    while answer.startswith("\n") or answer.lstrip(" \t").startswith("\n"):
        answer = answer.split("\n", 1)[1] if "\n" in answer else ""
    return _strip_prefix_echo(answer, prefix)


_PROSE_OPENERS = (
    "the ",
    "this ",
    "here ",
    "here's",
    "sure",
    "i ",
    "i'm",
    "it ",
    "there ",
    "you ",
    "note",
    "your ",
    "no ",
    "yes",
    "as an",
    "to ",
)


def looks_like_prose(text: str) -> bool:
    """An instruct model explaining instead of coding ("The code is already complete.")."""
    first = text.strip().split("\n", 1)[0].strip()
    if not first:
        return False
    lowered = first.lower()
    if not lowered.startswith(_PROSE_OPENERS):
        return False
    words = first.split()
    code_marks = sum(first.count(c) for c in "()[]{}=:;<>\"'")
    return len(words) >= 3 and code_marks == 0
