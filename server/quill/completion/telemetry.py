"""What completions report about themselves: the last prompt sent (``quill.lastPrompt``)
and the counters behind ``quill/status`` (acceptance, latency, overhead, cache hits)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quill.context.prompt import PromptMode, joined_text
from quill.models.tokens import estimate_tokens
from quill.stats import percentile

if TYPE_CHECKING:
    from quill.completion.service import CompletionOutcome

CountTokens = Callable[[str], int]


@dataclass
class PromptRecord:
    """The last prompt sent, with where its parts came from (``quill.lastPrompt``).

    Exact token counts are made when the record is read, not on the typing path.
    """

    uri: str
    model: str
    mode: PromptMode
    prompt: str | list[dict[str, str]]
    sections: list[dict[str, Any]]
    prefix: str
    suffix: str
    context: str
    budget_tokens: int
    dropped_sources: list[str] = field(default_factory=list)
    #: secrets replaced by ``[REDACTED]`` in what was sent
    redactions: int = 0
    completion: str = ""
    count_tokens: CountTokens = estimate_tokens  # exact where the model's tokenizer is at hand

    def to_json(self) -> dict[str, Any]:
        count = self.count_tokens
        prefix, suffix = count(self.prefix), count(self.suffix)
        context = count(self.context) if self.context else 0
        return {
            "sentTokens": count(joined_text(self.prompt)),
            "uri": self.uri,
            "model": self.model,
            "mode": self.mode,
            "prompt": self.prompt,
            "sections": [dict(s, tokens=count(s["text"])) for s in self.sections],
            "tokens": {
                "prefix": prefix,
                "suffix": suffix,
                "context": context,
                "total": prefix + suffix + context,
                "budget": self.budget_tokens,
            },
            "droppedSources": self.dropped_sources,
            "redactions": self.redactions,
            "completion": self.completion,
        }


class CompletionMetrics:
    """Counters behind ``quill/status``: acceptance, latency, cache hit rate."""

    def __init__(self, window: int = 500) -> None:
        self.latencies_ms: deque[float] = deque(maxlen=window)
        self.overheads_ms: deque[float] = deque(maxlen=window)
        self.requests = 0
        self.model_calls = 0
        self.shown = 0
        self.accepted = 0
        self.partially_accepted = 0

    def record(self, outcome: CompletionOutcome) -> None:
        self.requests += 1  # model_calls is counted when the call starts
        if outcome.suggestions:
            self.latencies_ms.append(outcome.total_ms)
        if outcome.model_called or outcome.from_cache:
            # Time spent in Quill itself: everything but the model's own generation and the
            # debounce wait (which is a deliberate pause, not work).
            self.overheads_ms.append(max(0.0, outcome.overhead_ms - outcome.debounce_ms))

    def to_json(self, cache_hit_rate: float) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "modelCalls": self.model_calls,
            "shown": self.shown,
            "accepted": self.accepted,
            "partiallyAccepted": self.partially_accepted,
            "acceptanceRate": (self.accepted / self.shown) if self.shown else None,
            "latencyMsP50": percentile(self.latencies_ms, 50),
            "latencyMsP95": percentile(self.latencies_ms, 95),
            "overheadMsP50": percentile(self.overheads_ms, 50),
            "overheadMsP99": percentile(self.overheads_ms, 99),
            "cacheHitRate": cache_hit_rate,
        }
