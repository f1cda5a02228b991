"""The provider interface every model (embedded or remote) implements."""

from __future__ import annotations

import abc
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from quill.models.tokens import TokenCounter

ChatMessage = dict[str, str]
FimMode = Literal["infill", "template", "chat", "continuation", "none"]
#: Who is waiting for an answer. A provider that queues requests (the embedded model) serves
#: ``completion`` first (someone is typing), then ``chat`` and ``actions`` in arrival order.
Priority = Literal["completion", "chat", "actions"]


class KeepAlive(str):
    """The type of :data:`KEEPALIVE`: an empty piece that carries no text."""

    __slots__ = ()


#: Yielded by a provider stream while its request waits for the model (queued, or preempted
#: by a more urgent request) instead of being worked on. It is an empty ``str``, so joining
#: the pieces is unaffected; the router drops it, restarts its per-piece timer on it and
#: does not count the wait toward any timeout.
KEEPALIVE: Final = KeepAlive()


def is_keepalive(piece: str) -> bool:
    return isinstance(piece, KeepAlive)


@dataclass
class ModelHealth:
    """What a probe found out about one model."""

    name: str
    provider: str
    reachable: bool
    loaded: bool
    model: str = ""
    context_size: int | None = None
    fim_mode: FimMode = "none"
    probe_latency_ms: float | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.reachable and self.loaded

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "provider": self.provider,
            "healthy": self.healthy,
            "reachable": self.reachable,
            "loaded": self.loaded,
            "model": self.model,
            "contextSize": self.context_size,
            "fimMode": self.fim_mode,
            "probeLatencyMs": self.probe_latency_ms,
            "message": self.message,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 256
    temperature: float = 0.2
    stop: Sequence[str] = ()
    #: how urgent the request is; see :data:`Priority`
    priority: Priority = "chat"
    #: False asks a reasoning model not to think, where the server takes a switch for it
    #: (``chat_template_kwargs.enable_thinking``); None leaves the model's default
    thinking: bool | None = None


class ModelProvider(abc.ABC):
    """A model that can stream chat answers and raw (or fill-in-the-middle) completions.

    Streams are async generators: closing one (``aclose()``, or cancelling the task that
    iterates it) stops the generation upstream. A stream may yield :data:`KEEPALIVE` (an
    empty piece) while its request waits its turn; consumers other than the router must
    treat it as an empty piece.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        #: the one token counter for this model (calibrated against :meth:`count_tokens`)
        self.tokens = TokenCounter(self.count_tokens)

    @property
    @abc.abstractmethod
    def provider(self) -> str: ...

    @property
    def model_id(self) -> str:
        """A stable identifier of the weights behind this provider (cache keys use it)."""
        return self.name

    @abc.abstractmethod
    def stream_chat(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncGenerator[str, None]:
        """Yield pieces of the assistant's answer (and :data:`KEEPALIVE` while waiting)."""

    @abc.abstractmethod
    def stream_completion(
        self, prompt: str, options: GenerationOptions, *, suffix: str | None = None
    ) -> AsyncGenerator[str, None]:
        """Yield the continuation of ``prompt`` (with ``suffix``: fill the middle), and
        :data:`KEEPALIVE` while waiting."""

    @abc.abstractmethod
    async def probe(self, *, generate: bool = False) -> ModelHealth:
        """Check the model; with ``generate`` also time a one-token generation."""

    async def time_one_token(self, health: ModelHealth) -> None:
        """Time a one-token generation into ``health``; a failure marks it not loaded."""
        from quill.models.errors import ModelError

        started = time.perf_counter()
        try:
            async for _ in self.stream_completion(
                "Hello", GenerationOptions(max_tokens=1, priority="completion")
            ):
                pass
        except ModelError as exc:
            health.loaded = False
            health.message = str(exc)
            return
        health.probe_latency_ms = (time.perf_counter() - started) * 1000

    def fim_mode(self) -> FimMode:
        """How this model fills the middle, as far as known without probing."""
        return "none"

    def count_tokens(self, text: str) -> int | None:
        """Exact token count when a tokenizer is at hand, else ``None``."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections, threads and weights."""


async def failed_stream(error: Exception) -> AsyncGenerator[str, None]:
    """A stream that fails with ``error`` when first read."""
    raise error
    yield ""  # pragma: no cover - makes this an async generator
