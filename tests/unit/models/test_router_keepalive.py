"""The router's handling of keep-alives, with a scripted provider (pure router logic)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence

import pytest

from quill.config import Settings
from quill.models.base import (
    KEEPALIVE,
    ChatMessage,
    GenerationOptions,
    ModelHealth,
    ModelProvider,
    is_keepalive,
)
from quill.models.errors import ModelError, NoModelAvailable
from quill.models.router import ModelRouter

MESSAGES = [{"role": "user", "content": "hi"}]
OPTIONS = GenerationOptions(max_tokens=8)

#: one step of a script: a piece to yield, a pause, or an error to raise
Step = str | float | Exception


class ScriptedProvider(ModelProvider):
    """Plays ``script`` for every request; ``on_keepalive`` runs before each keep-alive."""

    def __init__(
        self, name: str, script: Sequence[Step], on_keepalive: Callable[[], None] | None = None
    ) -> None:
        super().__init__(name)
        self.script = list(script)
        self.on_keepalive = on_keepalive
        self.requests = 0

    @property
    def provider(self) -> str:
        return "scripted"

    async def _play(self) -> AsyncGenerator[str, None]:
        self.requests += 1
        for step in self.script:
            if isinstance(step, Exception):
                raise step
            if isinstance(step, float):
                await asyncio.sleep(step)
                continue
            if is_keepalive(step) and self.on_keepalive is not None:
                self.on_keepalive()
            yield step

    def stream_chat(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncGenerator[str, None]:
        return self._play()

    def stream_completion(
        self, prompt: str, options: GenerationOptions, *, suffix: str | None = None
    ) -> AsyncGenerator[str, None]:
        return self._play()

    async def probe(self, *, generate: bool = False) -> ModelHealth:
        return ModelHealth(self.name, "scripted", True, True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_router(
    providers: dict[str, ModelProvider],
    *,
    first_token: float = 0.2,
    total: float = 30.0,
    clock: Callable[[], float] | None = None,
) -> ModelRouter:
    settings = Settings.model_validate(
        {
            "models": {
                name: {
                    "provider": "openai",
                    "baseUrl": "http://127.0.0.1:9/v1",
                    "firstTokenTimeoutSeconds": first_token,
                    "timeoutSeconds": total,
                    "maxRetries": 0,
                }
                for name in providers
            },
            "routes": {"chat": list(providers), "completion": list(providers)},
        }
    )
    if clock is None:
        return ModelRouter(settings, providers)
    return ModelRouter(settings, providers, clock=clock)


async def test_keepalives_are_dropped_and_restart_the_first_token_timer() -> None:
    # 0.6 s of waiting before the first piece, with a 0.2 s first-token timeout.
    script: list[Step] = [KEEPALIVE, 0.1] * 6 + ["Hello", KEEPALIVE, 0.1, " world"]
    router = make_router({"local": ScriptedProvider("local", script)})
    stream = router.stream_chat("chat", MESSAGES, OPTIONS)
    pieces = [piece async for piece in stream]
    assert pieces == ["Hello", " world"]
    assert not any(is_keepalive(p) for p in pieces)
    assert stream.model == "local"
    assert router.paused_models() == {}
    await router.aclose()


async def test_silence_after_a_keepalive_still_times_out() -> None:
    router = make_router({"local": ScriptedProvider("local", [KEEPALIVE, 1.0, "late"])})
    with pytest.raises(NoModelAvailable, match="no answer within"):
        await router.stream_chat("chat", MESSAGES, OPTIONS).text()
    assert "local" in router.paused_models()
    await router.aclose()


async def test_keepalives_do_not_commit_to_the_model() -> None:
    failing = ScriptedProvider("local", [KEEPALIVE, KEEPALIVE, ModelError("boom", model="local")])
    backup = ScriptedProvider("backup", ["from backup"])
    router = make_router({"local": failing, "backup": backup})
    stream = router.stream_chat("chat", MESSAGES, OPTIONS)
    assert await stream.text() == "from backup"
    assert stream.model == "backup"
    assert stream.attempts == ["local", "backup"]
    await router.aclose()


async def test_waiting_extends_the_total_deadline() -> None:
    clock = FakeClock()

    def wait_a_second() -> None:
        clock.now += 1.0  # the request sat in the queue for a second

    script: list[Step] = ["a", *[KEEPALIVE] * 5, "b"]
    provider = ScriptedProvider("local", script, on_keepalive=wait_a_second)
    router = make_router({"local": provider}, total=2.0, clock=clock)
    assert await router.stream_chat("chat", MESSAGES, OPTIONS).text() == "ab"
    await router.aclose()


async def test_generating_past_the_total_deadline_still_fails() -> None:
    clock = FakeClock()

    class SlowPieces(ScriptedProvider):
        async def _play(self) -> AsyncGenerator[str, None]:
            for piece in ["a", "b", "c", "d"]:
                yield piece
                clock.now += 1.0  # a second of real generation per piece

    router = make_router({"local": SlowPieces("local", [])}, total=2.0, clock=clock)
    with pytest.raises(ModelError, match="exceeded"):
        await router.stream_chat("chat", MESSAGES, OPTIONS).text()
    await router.aclose()
