"""Routing of a feature's request over its named models.

For each model of the feature's route, in order: skip it while its circuit breaker is open;
start the stream and wait for the first piece within ``firstTokenTimeoutSeconds``; on a
retryable failure (429, 5xx, connection error) retry with exponential backoff that honours
Retry-After; when retries are spent, open the breaker and fall back to the next model. Once a
piece has been yielded the answer is committed to that model: a later failure is raised, not
silently restarted elsewhere (that would repeat text).

A provider whose request waits in a queue (the embedded model) yields ``KEEPALIVE`` while it
waits. The router never passes one on and never commits on one; each restarts the per-piece
timer (``firstTokenTimeoutSeconds``), and the time up to it is added to the total deadline
(``timeoutSeconds``), so waiting for one's turn neither times out nor opens the breaker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from quill.config import Feature, ModelSettings, Settings
from quill.models.base import (
    ChatMessage,
    GenerationOptions,
    ModelHealth,
    ModelProvider,
    is_keepalive,
)
from quill.models.errors import (
    ModelCapabilityMissing,
    ModelError,
    ModelTimeout,
    NoModelAvailable,
)
from quill.models.local import LocalProvider
from quill.models.openai_compat import OpenAIProvider

log = logging.getLogger(__name__)

StreamStarter = Callable[[ModelProvider], AsyncGenerator[str, None]]


def build_provider(name: str, settings: ModelSettings) -> ModelProvider:
    if settings.provider == "openai":
        return OpenAIProvider(name, settings)
    return LocalProvider(name, settings)


@dataclass
class CircuitBreaker:
    """Skips a model for ``cooldown`` seconds after it failed; then lets one request try."""

    cooldown: float
    open_until: float = 0.0
    last_error: str = ""
    failures: int = 0

    def allow(self, now: float) -> bool:
        return now >= self.open_until

    def is_open(self, now: float) -> bool:
        return now < self.open_until

    def record_failure(self, error: str, now: float) -> None:
        self.failures += 1
        self.last_error = error
        self.open_until = now + self.cooldown

    def record_success(self) -> bool:
        """Close the breaker; True when it had failed before (a state change)."""
        changed = self.failures > 0
        self.failures = 0
        self.open_until = 0.0
        self.last_error = ""
        return changed


class RoutedStream:
    """An answer streamed by whichever model of the route could serve it.

    Iterate it for text pieces; ``model`` names the model that answered (set once the first
    piece arrived). ``aclose()`` stops the upstream generation.
    """

    def __init__(self, router: ModelRouter, names: Sequence[str], start: StreamStarter) -> None:
        self.model: str | None = None
        self.attempts: list[str] = []
        self._gen = router._run(self, names, start)

    def __aiter__(self) -> AsyncGenerator[str, None]:
        return self._gen

    def pipe(
        self, stage: Callable[[AsyncGenerator[str, None]], AsyncGenerator[str, None]]
    ) -> RoutedStream:
        """Pass the pieces through ``stage`` (a filter over the stream); returns self."""
        self._gen = stage(self._gen)
        return self

    async def aclose(self) -> None:
        await self._gen.aclose()

    async def text(self) -> str:
        """Collect the whole answer."""
        return "".join([piece async for piece in self._gen])


async def _first_piece(gen: AsyncGenerator[str, None], per_piece: float) -> str:
    """The first real piece of ``gen``; each keep-alive restarts the ``per_piece`` timer."""
    while True:
        async with asyncio.timeout(per_piece):
            piece = await anext(gen)
        if not is_keepalive(piece):
            return piece


class ModelRouter:
    def __init__(
        self,
        settings: Settings,
        providers: dict[str, ModelProvider] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.model_settings = settings.effective_models()
        if providers is None:
            providers = {}
            for name, ms in self.model_settings.items():
                try:
                    providers[name] = build_provider(name, ms)
                except ModelError as exc:
                    log.warning("model %s unusable: %s", name, exc)
        self.providers = providers
        self.clock = clock
        self.sleep = sleep
        cooldown = settings.router.circuit_breaker_cooldown_seconds
        self.breakers = {name: CircuitBreaker(cooldown) for name in providers}
        #: called (without arguments) when a model's state changes; the app publishes status
        self.on_change = on_change

    def route(self, feature: Feature) -> list[str]:
        return [n for n in self.settings.route(feature) if n in self.providers]

    def primary(self, feature: Feature) -> ModelProvider | None:
        names = self.route(feature)
        return self.providers[names[0]] if names else None

    def settings_for(self, name: str) -> ModelSettings:
        return self.model_settings.get(name) or ModelSettings()

    # ------------------------------------------------------------ streaming

    def stream_chat(
        self, feature: Feature, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> RoutedStream:
        return self.stream(feature, lambda p: p.stream_chat(messages, options))

    def stream_completion(
        self,
        feature: Feature,
        prompt: str,
        options: GenerationOptions,
        *,
        suffix: str | None = None,
    ) -> RoutedStream:
        return self.stream(feature, lambda p: p.stream_completion(prompt, options, suffix=suffix))

    def stream(
        self, feature: Feature, start: StreamStarter, *, models: Sequence[str] | None = None
    ) -> RoutedStream:
        return RoutedStream(self, list(models) if models else self.route(feature), start)

    def _backoff(self, attempt: int, retry_after: float | None) -> float | None:
        rs = self.settings.router
        delay = (
            retry_after if retry_after is not None else (rs.retry_base_delay_seconds * (2**attempt))
        )
        if delay > rs.retry_max_delay_seconds:
            return None
        return delay

    def _notify(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:
                log.exception("status listener failed")

    async def _run(
        self, stream: RoutedStream, names: Sequence[str], start: StreamStarter
    ) -> AsyncGenerator[str, None]:
        errors: list[str] = []
        for name in names:
            provider = self.providers.get(name)
            if provider is None:
                continue
            breaker = self.breakers[name]
            if not breaker.allow(self.clock()):
                errors.append(f"{name}: paused after an error ({breaker.last_error})")
                continue
            ms = self.settings_for(name)
            attempt = 0
            while True:
                stream.attempts.append(name)
                gen = start(provider)
                try:
                    first: str | None = await _first_piece(gen, ms.first_token_timeout_seconds)
                except StopAsyncIteration:
                    first = None
                except TimeoutError:
                    await gen.aclose()
                    err: ModelError = ModelTimeout(
                        f"{name}: no answer within {ms.first_token_timeout_seconds:g}s",
                        model=name,
                    )
                    self._fail(name, breaker, err, errors)
                    break
                except ModelError as exc:
                    await gen.aclose()
                    if exc.retryable and attempt < ms.max_retries:
                        delay = self._backoff(attempt, getattr(exc, "retry_after", None))
                        if delay is not None:
                            log.info("%s: %s; retry in %.2fs", name, exc, delay)
                            attempt += 1
                            await self.sleep(delay)
                            continue
                    self._fail(name, breaker, exc, errors)
                    break
                # The model answered: the stream is committed to it.
                if breaker.record_success():
                    self._notify()
                stream.model = name
                try:
                    if first:
                        yield first
                    if first is not None:
                        last = self.clock()
                        deadline = last + ms.timeout_seconds
                        while True:
                            remaining = deadline - self.clock()
                            if remaining <= 0:
                                raise ModelTimeout(
                                    f"{name}: answer exceeded {ms.timeout_seconds:g}s",
                                    model=name,
                                )
                            try:
                                async with asyncio.timeout(
                                    min(remaining, ms.first_token_timeout_seconds)
                                ):
                                    piece = await anext(gen)
                            except StopAsyncIteration:
                                break
                            except TimeoutError as exc:
                                raise ModelTimeout(
                                    f"{name}: the answer stalled", model=name
                                ) from exc
                            now = self.clock()
                            if is_keepalive(piece):
                                deadline += now - last  # it was waiting for its turn
                                last = now
                                continue
                            last = now
                            yield piece
                finally:
                    await gen.aclose()
                return
        raise NoModelAvailable(
            "no model could answer: " + "; ".join(errors)
            if errors
            else "no model is configured for this feature"
        )

    def _fail(self, name: str, breaker: CircuitBreaker, exc: ModelError, errors: list[str]) -> None:
        log.warning("model %s failed: %s", name, exc)
        errors.append(str(exc) if str(exc).startswith(name) else f"{name}: {exc}")
        if isinstance(exc, ModelCapabilityMissing):
            return  # about this request, not about the model's health
        was_open = breaker.failures > 0
        breaker.record_failure(str(exc), self.clock())
        if not was_open:
            self._notify()

    # --------------------------------------------------------------- health

    async def probe_all(self, *, generate: bool = False) -> list[ModelHealth]:
        results: list[ModelHealth] = []
        for name, provider in self.providers.items():
            try:
                health = await provider.probe(generate=generate)
            except Exception as exc:  # a probe must never take the server down
                log.exception("probe of %s failed", name)
                health = ModelHealth(name, provider.provider, False, False, message=str(exc))
            breaker = self.breakers[name]
            if health.healthy:
                if breaker.record_success():
                    self._notify()
            else:
                breaker.record_failure(health.message, self.clock())
            results.append(health)
        return results

    def paused_models(self) -> dict[str, str]:
        now = self.clock()
        return {n: b.last_error for n, b in self.breakers.items() if b.is_open(now)}

    async def aclose(self) -> None:
        for provider in self.providers.values():
            try:
                await provider.aclose()
            except Exception:
                log.exception("closing %s failed", provider.name)
