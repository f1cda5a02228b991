"""The embedded model on the real SmolLM2 file through llama-cpp-python."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from quill.config import ModelSettings
from quill.models.base import GenerationOptions
from quill.models.errors import ModelCapabilityMissing, ModelUnavailable
from quill.models.local import LocalProvider


@pytest.fixture
async def local(gguf_path: Path):
    provider = LocalProvider("local", ModelSettings(context_size=512))
    assert provider.model_path() == gguf_path
    yield provider
    await provider.aclose()


async def test_chat_turn_produces_text(local: LocalProvider) -> None:
    pieces = [
        piece
        async for piece in local.stream_chat(
            [{"role": "user", "content": "Say hello."}], GenerationOptions(max_tokens=16)
        )
    ]
    assert len(pieces) >= 2  # streamed, not one blob
    assert "".join(pieces).strip()


async def test_raw_completion_produces_text(local: LocalProvider) -> None:
    text = "".join(
        [
            piece
            async for piece in local.stream_completion(
                "def add(a, b):\n    return", GenerationOptions(max_tokens=8, temperature=0)
            )
        ]
    )
    assert text.strip()
    assert local.count_tokens("def add(a, b):") not in (None, 0)


async def test_cancellation_stops_generation_within_one_token(local: LocalProvider) -> None:
    stream = local.stream_completion(
        "Write a very long story about a lighthouse keeper.",
        GenerationOptions(max_tokens=400, temperature=0.8),
    )
    seen = 0
    async for _ in stream:
        seen += 1
        if seen == 3:
            break
    await stream.aclose()
    stopped_at = local.tokens_generated
    await local.wait_idle()
    # The worker checks the stop flag after every token: at most one more is produced.
    assert local.tokens_generated - stopped_at <= 1
    assert local.tokens_generated < 20


async def test_cancelling_the_task_stops_the_worker(local: LocalProvider) -> None:
    streaming = asyncio.Event()

    async def consume() -> None:
        async for _ in local.stream_chat(
            [{"role": "user", "content": "Count from one to five hundred."}],
            GenerationOptions(max_tokens=400),
        ):
            if local.tokens_generated >= 3:
                streaming.set()

    task = asyncio.create_task(consume())
    await streaming.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stopped_at = local.tokens_generated
    await local.wait_idle()
    assert local.tokens_generated - stopped_at <= 1


async def test_no_fill_in_the_middle_is_a_clear_error(local: LocalProvider) -> None:
    with pytest.raises(ModelCapabilityMissing, match="fill-in-the-middle"):
        async for _ in local.stream_completion("a", GenerationOptions(), suffix="b"):
            pass


async def test_probe_reports_the_embedded_model(local: LocalProvider) -> None:
    health = await local.probe(generate=True)
    assert health.healthy
    assert health.context_size == 512
    assert health.fim_mode == "continuation"
    assert health.probe_latency_ms is not None


async def test_missing_model_file_is_reported_not_raised(tmp_path: Path) -> None:
    provider = LocalProvider("local", ModelSettings(model_path=str(tmp_path / "none.gguf")))
    health = await provider.probe()
    assert not health.healthy and "not found" in health.message
    with pytest.raises(ModelUnavailable):
        async for _ in provider.stream_chat(
            [{"role": "user", "content": "x"}], GenerationOptions()
        ):
            pass
    await provider.aclose()


async def test_without_llama_cpp_the_message_says_how_to_get_a_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from quill.app import Quill
    from quill.models import local as local_module

    monkeypatch.setattr(local_module, "llama_cpp_available", lambda: False)
    app = Quill()
    try:
        health = await app.check_models()
        assert not health[0].healthy
        assert "llama-cpp-python is not installed" in health[0].message
        assert "make setup" in health[0].message
        status = app.status()
        assert status.kind == "Error" and "make setup" in status.message
    finally:
        await app.aclose()
