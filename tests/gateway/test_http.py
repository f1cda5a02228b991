"""The HTTP side against a real server and the real embedded model: the OpenAI-compatible
facade (chat streamed and not, completions with Continue's FIM prompts), the Continue context
provider, /health, /metrics and /openapi.json."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from .conftest import Harness

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(autouse=True)
def _model(gguf_path: Path) -> None:
    """These tests need the embedded model (its absence is a failure, as everywhere)."""


@pytest_asyncio.fixture(loop_scope="module")
async def client(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=harness.base, headers=harness.auth, timeout=120) as c:
        yield c


async def _events(response: httpx.Response) -> list[Any]:
    assert response.headers["content-type"].startswith("text/event-stream")
    events: list[Any] = []
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            data = line.removeprefix("data: ")
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


async def test_models_lists_quill_and_each_model(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models")
    assert response.status_code == 200
    ids = [m["id"] for m in response.json()["data"]]
    assert ids == ["quill", "local"]


async def test_chat_completion(client: httpx.AsyncClient, harness: Harness) -> None:
    before = harness.metric("quill_gateway_tokens_total", feature="openai_chat", kind="prompt")
    response = await client.post(
        "/v1/chat/completions",
        json={
            "model": "quill",
            "messages": [{"role": "user", "content": "What does Circle.area return?"}],
            "max_tokens": 40,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "local"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant" and message["content"].strip()
    assert body["usage"]["prompt_tokens"] > 0
    after = harness.metric("quill_gateway_tokens_total", feature="openai_chat", kind="prompt")
    assert after > before


async def test_chat_completion_adds_codebase_context(harness: Harness) -> None:
    # The same question with and without Quill's context: the context makes the prompt bigger.
    question = [{"role": "user", "content": "What does Circle.area return?"}]
    usage = []
    async with httpx.AsyncClient(base_url=harness.base, headers=harness.auth, timeout=120) as c:
        for extra in ({}, {"quill": {"context": False}}):
            response = await c.post(
                "/v1/chat/completions", json={"messages": question, "max_tokens": 1, **extra}
            )
            usage.append(response.json()["usage"]["prompt_tokens"])
    assert usage[0] > usage[1] + 10


async def test_chat_completion_streamed(client: httpx.AsyncClient) -> None:
    request = {
        "messages": [{"role": "user", "content": "Say hello in one sentence."}],
        "max_tokens": 30,
        "stream": True,
    }
    async with client.stream("POST", "/v1/chat/completions", json=request) as response:
        assert response.status_code == 200
        events = await _events(response)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.strip() and len(chunks) >= 4


async def test_fim_completion_goes_through_the_completion_pipeline(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    prompt = (
        "<|fim_prefix|># Path: shapes.py\nimport math\n\n\ndef double(x: int) -> int:\n"
        "    return <|fim_suffix|>\n<|fim_middle|>"
    )
    response = await client.post(
        "/v1/completions", json={"model": "quill", "prompt": prompt, "max_tokens": 24}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "text_completion"
    assert isinstance(body["choices"][0]["text"], str)
    record = harness.app.completion.last_prompt
    assert record is not None
    assert record.prefix.endswith("def double(x: int) -> int:\n    return ")
    assert "<|fim_prefix|>" not in record.prefix and "<|fim_middle|>" not in record.suffix


async def test_fim_completion_streamed(client: httpx.AsyncClient) -> None:
    request = {
        "prompt": "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>",
        "max_tokens": 16,
        "stream": True,
    }
    async with client.stream("POST", "/v1/completions", json=request) as response:
        assert response.status_code == 200
        events = await _events(response)
    assert events[-1] == "[DONE]"
    assert events[-2]["choices"][0]["finish_reason"] == "stop"


async def test_plain_completion(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/completions", json={"prompt": "The capital of France is", "max_tokens": 8}
    )
    assert response.status_code == 200, response.text
    text = response.json()["choices"][0]["text"]
    assert isinstance(text, str) and text.strip()
    request = {"prompt": "Once upon a time", "max_tokens": 8, "stream": True}
    async with client.stream("POST", "/v1/completions", json=request) as streamed:
        events = await _events(streamed)
    assert events[-1] == "[DONE]" and len(events) >= 3


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", b"{not json"),
        ("/v1/chat/completions", b'{"messages": []}'),
        ("/v1/chat/completions", b'{"messages": [{"role": "x", "content": "hi"}]}'),
        ("/v1/chat/completions", b'{"messages": [{"role": "user"}], "max_tokens": -1}'),
        ("/v1/completions", b'{"prompt": 5}'),
        ("/v1/completions", b'{"prompt": "x", "temperature": 9}'),
    ],
)
async def test_bad_requests_get_openai_errors(
    client: httpx.AsyncClient, path: str, body: bytes
) -> None:
    response = await client.post(path, content=body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_context_provider(client: httpx.AsyncClient, harness: Harness) -> None:
    response = await client.post(
        "/context",
        json={
            "query": "How is Circle.area computed?",
            "fullInput": "How is Circle.area computed?",
            "options": {},
            "workspacePath": str(harness.workspace),
        },
    )
    assert response.status_code == 200
    items = response.json()
    assert items and all(set(i) == {"name", "description", "content"} for i in items)
    assert any("math.pi" in i["content"] for i in items), items
    assert not any("sk-live" in i["content"] for i in items)


async def test_health_reports_each_model(client: httpx.AsyncClient) -> None:
    response = await client.get("/health?refresh=1")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    (model,) = body["models"]
    assert model["name"] == "local"
    assert model["reachable"] is True and model["loaded"] is True
    assert isinstance(model["contextSize"], int) and model["contextSize"] > 0
    assert body["status"]["kind"] in ("Normal", "Warning")


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    await client.get("/v1/models")
    chat = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    assert (await client.post("/v1/chat/completions", json=chat)).status_code == 200
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'quill_gateway_requests_total{method="GET",route="/v1/models",status="200"}' in text
    assert 'quill_gateway_request_seconds_bucket{le="0.005",route="/v1/models"}' in text
    assert "quill_gateway_feature_seconds_count" in text
    assert 'quill_gateway_tokens_total{feature="openai_chat",kind="completion"}' in text
    assert "quill_completion_cache_hit_rate" in text


async def test_openapi_describes_every_http_route(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    for path in ("/", "/health", "/metrics", "/v1/models", "/v1/chat/completions", "/context"):
        assert path in spec["paths"]
    assert "/v1/completions" in spec["paths"]
