"""The OpenAI-compatible provider against a real server: llama-cpp-python's own
`python -m llama_cpp.server`, serving the embedded GGUF on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from quill.config import ModelSettings, Settings
from quill.models.base import ChatMessage, GenerationOptions
from quill.models.openai_compat import OpenAIProvider, takes_template_kwargs
from quill.models.router import ModelRouter
from tests.llama_server import llama_server as serve_gguf


@pytest.fixture(scope="module")
def llama_server(gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_gguf(gguf_path, tmp_path_factory.mktemp("llama-server") / "server.log") as url:
        yield url


@pytest.fixture
async def provider(llama_server: str):
    p = OpenAIProvider("remote", ModelSettings(provider="openai", base_url=llama_server))
    yield p
    await p.aclose()


async def test_probe_finds_the_served_model(provider: OpenAIProvider) -> None:
    health = await provider.probe(generate=True)
    assert health.healthy, health.message
    assert health.model == "smollm2"  # picked from /v1/models when none was configured
    assert health.probe_latency_ms is not None
    assert health.fim_mode == "none"  # llama-cpp-python's server has no /infill


async def test_chat_streams(provider: OpenAIProvider) -> None:
    pieces = [
        p
        async for p in provider.stream_chat(
            [{"role": "user", "content": "Say hello."}], GenerationOptions(max_tokens=16)
        )
    ]
    assert len(pieces) >= 2 and "".join(pieces).strip()


async def test_completion_streams(provider: OpenAIProvider) -> None:
    text = "".join(
        [p async for p in provider.stream_completion("def add(a, b):\n", GenerationOptions(16))]
    )
    assert text.strip()


async def test_cancellation_closes_the_stream_and_the_server_keeps_serving(
    provider: OpenAIProvider,
) -> None:
    stream = provider.stream_completion(
        "Once upon a time", GenerationOptions(max_tokens=1000, temperature=0.9)
    )
    got = 0
    async for _ in stream:
        got += 1
        if got == 2:
            break
    await stream.aclose()
    # The next request is answered: the cancelled generation did not keep the server busy
    # for a thousand tokens (that would exceed the first-token timeout below).
    quick = OpenAIProvider(
        "quick",
        ModelSettings(
            provider="openai", base_url=provider.settings.base_url, first_token_timeout_seconds=10
        ),
    )
    text = "".join([p async for p in quick.stream_completion("Hi", GenerationOptions(4))])
    assert text
    await quick.aclose()


async def test_one_setting_routes_every_feature_to_the_endpoint(llama_server: str) -> None:
    router = ModelRouter(Settings(endpoint=llama_server))
    stream = router.stream_chat(
        "chat", [{"role": "user", "content": "Hi"}], GenerationOptions(max_tokens=8)
    )
    assert (await stream.text()).strip()
    assert stream.model == "endpoint"
    await router.aclose()


async def test_no_thinking_is_sent_as_a_chat_template_switch_the_server_accepts(
    provider: OpenAIProvider,
) -> None:
    sent: list[dict[str, object]] = []

    async def record(request: httpx.Request) -> None:
        if request.url.path.endswith("/chat/completions"):
            sent.append(json.loads(request.content))

    provider.client.event_hooks["request"].append(record)
    messages: list[ChatMessage] = [{"role": "user", "content": "Say hello."}]
    for thinking in (False, None):
        options = GenerationOptions(max_tokens=8, thinking=thinking)
        text = "".join([p async for p in provider.stream_chat(messages, options)])
        assert text.strip()  # the real server took the request
    assert sent[0]["chat_template_kwargs"] == {"enable_thinking": False}
    assert "chat_template_kwargs" not in sent[1]


def test_openai_itself_is_never_sent_fields_it_refuses() -> None:
    assert not takes_template_kwargs("https://api.openai.com/v1")
    assert takes_template_kwargs("http://127.0.0.1:8080/v1")
    assert takes_template_kwargs("https://models.example.com/v1")
