"""Reasoning models: ``<think>…</think>`` blocks kept out of the answer, and the switch that
asks a model not to think.

:class:`ThinkSplitter` separates a streamed answer into what the user sees and the model's
thinking, also when a tag arrives split across pieces (``"<thi"``, ``"nk>"``). The thinking is
kept (the chat stores it with the message, a front door may show it on request).

The "no thinking" switch: some model families read a soft switch from the prompt (Qwen3:
``/no_think`` in a user or system message; SmolLM3: in the system message). The chat also sets
``GenerationOptions.thinking = False``, which the OpenAI-compatible provider sends as
``chat_template_kwargs: {"enable_thinking": false}`` for servers whose chat templates read it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Callable
from typing import Literal

__all__ = ["CLOSE_TAG", "OPEN_TAG", "ThinkSplitter", "no_think_switch"]

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

#: model-name fragments (lower case) and where their soft "no thinking" switch goes
_SOFT_SWITCHES: tuple[tuple[str, Literal["system", "user"], str], ...] = (
    ("qwen3", "user", "/no_think"),
    ("smollm3", "system", "/no_think"),
)


def no_think_switch(model_id: str) -> tuple[Literal["system", "user"], str] | None:
    """Where and what to add to a prompt so ``model_id`` answers without thinking, or None
    when the model has no known soft switch."""
    name = model_id.lower()
    for fragment, role, text in _SOFT_SWITCHES:
        if fragment in name:
            return role, text
    return None


class ThinkSplitter:
    """Feed streamed pieces; get back the visible part. ``thinking`` collects the rest.

    ``on_thinking`` is called with each piece of thinking as it arrives. The whitespace that
    models put between a closed block and the answer is dropped.
    """

    def __init__(self, on_thinking: Callable[[str], None] | None = None) -> None:
        self._on_thinking = on_thinking
        self._thinking: list[str] = []
        self._inside = False
        self._pending = ""  # the end of the text so far that may be the start of a tag
        self._strip_next = False  # drop whitespace before the answer that follows a block

    @property
    def thinking(self) -> str:
        return "".join(self._thinking).strip()

    @property
    def inside(self) -> bool:
        """True while the stream is inside a ``<think>`` block."""
        return self._inside

    def feed(self, piece: str) -> str:
        """The visible text of ``piece`` (may hold back the start of a possible tag)."""
        text = self._pending + piece
        self._pending = ""
        visible: list[str] = []
        while text:
            tag = CLOSE_TAG if self._inside else OPEN_TAG
            at = text.find(tag)
            if at >= 0:
                self._emit(text[:at], visible)
                text = text[at + len(tag) :]
                self._inside = not self._inside
                if not self._inside:
                    self._strip_next = True
                continue
            keep = _partial_tag_length(text, tag)
            self._emit(text[: len(text) - keep], visible)
            self._pending = text[len(text) - keep :]
            break
        return "".join(visible)

    def flush(self) -> str:
        """The end of the stream: text held back as a possible tag was not one."""
        text, self._pending = self._pending, ""
        visible: list[str] = []
        self._emit(text, visible)
        return "".join(visible)

    def _emit(self, text: str, visible: list[str]) -> None:
        if not text:
            return
        if self._inside:
            self._thinking.append(text)
            if self._on_thinking is not None:
                self._on_thinking(text)
            return
        if self._strip_next:
            text = text.lstrip()
            if not text:
                return
            self._strip_next = False
        visible.append(text)

    async def split(self, pieces: AsyncIterable[str]) -> AsyncGenerator[str, None]:
        """A stream stage (``RoutedStream.pipe``): the visible pieces of ``pieces``; closing
        it closes the upstream."""
        try:
            async for piece in pieces:
                shown = self.feed(piece)
                if shown:
                    yield shown
            rest = self.flush()
            if rest:
                yield rest
        finally:
            close = getattr(pieces, "aclose", None)
            if close is not None:
                await close()


def _partial_tag_length(text: str, tag: str) -> int:
    """The length of the longest end of ``text`` that is a proper start of ``tag``."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:length]):
            return length
    return 0
