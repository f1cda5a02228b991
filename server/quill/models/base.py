"""The provider interface every model (embedded or remote) implements."""

from __future__ import annotations

import abc
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Literal

ChatMessage = dict[str, str]
FimMode = Literal["infill", "template", "chat", "none"]


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


class ModelProvider(abc.ABC):
    """A model that can stream chat answers and raw (or fill-in-the-middle) completions.

    Streams are async generators: closing one (``aclose()``, or cancelling the task that
    iterates it) stops the generation upstream.
    """

    def __init__(self, name: str) -> None:
        self.name = name

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
        """Yield pieces of the assistant's answer."""

    @abc.abstractmethod
    def stream_completion(
        self, prompt: str, options: GenerationOptions, *, suffix: str | None = None
    ) -> AsyncGenerator[str, None]:
        """Yield the continuation of ``prompt`` (with ``suffix``: fill the middle)."""

    @abc.abstractmethod
    async def probe(self, *, generate: bool = False) -> ModelHealth:
        """Check the model; with ``generate`` also time a one-token generation."""

    async def time_one_token(self, health: ModelHealth) -> None:
        """Time a one-token generation into ``health``; a failure marks it not loaded."""
        from quill.models.errors import ModelError

        started = time.perf_counter()
        try:
            async for _ in self.stream_completion("Hello", GenerationOptions(max_tokens=1)):
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
