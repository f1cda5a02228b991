"""Faults a real server cannot be made to show: each gives a clear error or a fallback."""

from __future__ import annotations

from typing import Any

import pytest

from quill.config import Settings
from quill.models.base import GenerationOptions
from quill.models.errors import ModelStreamInterrupted, NoModelAvailable
from quill.models.openai_compat import normalise_base_url, parse_retry_after
from quill.models.router import ModelRouter
from tests.llama_server import free_port

from .fault_server import FaultServer

OPTIONS = GenerationOptions(max_tokens=8)
MESSAGES = [{"role": "user", "content": "hi"}]


def make_router(
    models: dict[str, str], route: list[str], **model_extra: Any
) -> tuple[ModelRouter, list[float]]:
    settings = Settings.model_validate(
        {
            "models": {
                name: {
                    "provider": "openai",
                    "baseUrl": url,
                    "firstTokenTimeoutSeconds": 1.0,
                    **model_extra,
                }
                for name, url in models.items()
            },
            "routes": {"chat": route, "completion": route},
        }
    )
    delays: list[float] = []

    async def record_sleep(delay: float) -> None:
        delays.append(delay)

    return ModelRouter(settings, sleep=record_sleep), delays


async def test_429_honours_retry_after_then_succeeds() -> None:
    async with FaultServer(["status:429:2", "ok"]) as server:
        router, delays = make_router({"remote": server.base_url}, ["remote"])
        stream = router.stream_chat("chat", MESSAGES, OPTIONS)
        assert await stream.text() == "Hello"
        assert delays == [2.0]
        assert stream.model == "remote"
        await router.aclose()


async def test_retry_after_longer_than_the_cap_moves_to_the_fallback() -> None:
    async with FaultServer(["status:429:600"]) as slow, FaultServer(["ok"]) as backup:
        router, delays = make_router(
            {"remote": slow.base_url, "backup": backup.base_url}, ["remote", "backup"]
        )
        stream = router.stream_chat("chat", MESSAGES, OPTIONS)
        assert await stream.text() == "Hello"
        assert stream.model == "backup"
        assert delays == []
        await router.aclose()


async def test_500_then_success_with_backoff() -> None:
    async with FaultServer(["status:500", "status:503", "ok"]) as server:
        router, delays = make_router({"remote": server.base_url}, ["remote"])
        assert await router.stream_completion("completion", "x", OPTIONS).text() == "Hello"
        assert delays == [0.25, 0.5]
        assert [r.path for r in server.requests] == ["/v1/completions"] * 3
        await router.aclose()


async def test_stream_cut_midway_is_a_clear_error() -> None:
    async with FaultServer(["cut"]) as server:
        router, _ = make_router({"remote": server.base_url}, ["remote"])
        stream = router.stream_chat("chat", MESSAGES, OPTIONS)
        pieces: list[str] = []
        with pytest.raises(ModelStreamInterrupted, match=r"cut off|ended"):
            async for piece in stream:
                pieces.append(piece)
        assert pieces == ["partial "]  # what arrived is kept, nothing repeated elsewhere
        await router.aclose()


async def test_hang_past_timeout_falls_back_and_breaker_skips_it_next_time() -> None:
    async with FaultServer(["hang", "hang"]) as hung, FaultServer(["ok", "ok"]) as backup:
        router, _ = make_router(
            {"remote": hung.base_url, "backup": backup.base_url}, ["remote", "backup"]
        )
        changes: list[str] = []
        router.on_change = lambda: changes.append("changed")
        first = router.stream_chat("chat", MESSAGES, OPTIONS)
        assert await first.text() == "Hello"
        assert first.model == "backup"
        posts_to_hung = len([r for r in hung.requests if r.method == "POST"])
        assert posts_to_hung == 1  # a timeout is not retried
        second = router.stream_chat("chat", MESSAGES, OPTIONS)
        assert await second.text() == "Hello"
        assert second.attempts == ["backup"]  # the open breaker skipped the dead model
        assert len([r for r in hung.requests if r.method == "POST"]) == 1
        assert "remote" in router.paused_models()
        assert changes  # the status listener heard about it
        await router.aclose()


async def test_connection_refused_everywhere_is_one_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    router, delays = make_router({"remote": url}, ["remote"], maxRetries=1)
    with pytest.raises(NoModelAvailable) as info:
        await router.stream_chat("chat", MESSAGES, OPTIONS).text()
    assert "cannot reach" in str(info.value)
    assert delays == [0.25]  # one retry, then give up
    await router.aclose()


async def test_probe_reports_unreachable_and_reachable() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    async with FaultServer(["ok"]) as server:
        router, _ = make_router({"dead": url, "alive": server.base_url}, ["alive"])
        health = {h.name: h for h in await router.probe_all(generate=True)}
        assert not health["dead"].reachable and "cannot reach" in health["dead"].message
        assert health["alive"].healthy
        assert health["alive"].model == "stub-model"
        assert health["alive"].probe_latency_ms is not None
        await router.aclose()


def test_url_and_retry_after_parsing() -> None:
    assert normalise_base_url("localhost:11434") == (
        "http://localhost:11434/v1",
        "http://localhost:11434",
    )
    assert normalise_base_url("http://h/v1/") == ("http://h/v1", "http://h")
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
