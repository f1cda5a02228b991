"""The running summary of trimmed turns, written by the model (in the background, after an
answer). The extractive summary (:func:`quill.chat.history.extractive_summary`) is stored
first and stays when the model fails."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from quill.chat.history import MESSAGE_OVERHEAD_TOKENS, extractive_summary, history_messages
from quill.chat.records import StoredMessage
from quill.chat.repetition import stop_on_repetition
from quill.chat.thinking import ThinkSplitter
from quill.context.budget import file_window
from quill.context.prompt import chat_messages
from quill.models.base import GenerationOptions
from quill.models.errors import ModelError
from quill.models.router import ModelRouter
from quill.safety.secrets import redact_with_count

__all__ = ["SUMMARY_PROMPT_TOKENS", "model_summary"]

log = logging.getLogger(__name__)

#: what the summary request costs besides the turns and the previous summary
SUMMARY_PROMPT_TOKENS = 160


async def model_summary(
    router: ModelRouter,
    previous: str,
    folded: Sequence[StoredMessage],
    budget: int,
    count: Callable[[str], int],
    room: int,
) -> str | None:
    """``previous`` with ``folded`` folded in by the chat model, at most ``budget`` tokens;
    None when the model fails or says nothing. Only the newest turns that fit ``room`` tokens
    are sent; older ones are folded into ``previous`` extractively first."""
    recent: list[StoredMessage] = []
    spent = 0
    for message in reversed(folded):
        spent += count(message.content) + MESSAGE_OVERHEAD_TOKENS
        if spent > room and recent:
            break
        recent.insert(0, message)
    older = folded[: len(folded) - len(recent)]
    if older:
        previous = extractive_summary(previous, older, budget, count)
    turns = [
        {"role": m["role"], "content": redact_with_count(m["content"])[0]}
        for m in history_messages(recent)
    ]
    messages = chat_messages(
        "",
        history=turns,
        summary=redact_with_count(previous)[0],
        purpose="summary",
        max_words=max(20, budget * 2 // 3),
    )
    options = GenerationOptions(max_tokens=budget, temperature=0.1, priority="chat")
    try:
        stream = router.stream_chat("chat", messages, options)
        text = await stream.pipe(ThinkSplitter().split).pipe(stop_on_repetition).text()
    except ModelError as exc:
        log.info("chat summary by the model failed (%s); the extractive one stays", exc)
        return None
    return file_window(text.strip(), None, budget, count).strip() or None
