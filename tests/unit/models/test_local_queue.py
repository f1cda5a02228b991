"""One queue for the embedded model: completions go first, chat resumes intact, waiting is
never mistaken for a dead model. All on the real SmolLM2 file; assertions are on the order of
events, never on how long anything took."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path

import pytest

from quill.config import ModelSettings, Settings
from quill.models.base import GenerationOptions, is_keepalive
from quill.models.local import LocalProvider
from quill.models.local_queue import PREFILL_CHUNK
from quill.models.router import ModelRouter

pytestmark = pytest.mark.model

STORY = [{"role": "user", "content": "Write a long story about a lighthouse keeper and his cat."}]
GREEDY_CHAT = GenerationOptions(max_tokens=200, temperature=0)
QUICK = GenerationOptions(max_tokens=12, temperature=0, priority="completion")
ADD = "def add(a, b):\n    return"
#: a raw prompt the model continues for as long as it is allowed to
COUNTING = "Count: 1, 2, 3, 4, 5, 6, 7, 8,"
ENDLESS = GenerationOptions(max_tokens=900, temperature=0, priority="completion")


def make_provider(context_size: int = 1024) -> LocalProvider:
    return LocalProvider("local", ModelSettings(context_size=context_size))


@pytest.fixture
async def local(gguf_path: Path) -> AsyncIterator[LocalProvider]:
    provider = make_provider()
    assert provider.model_path() == gguf_path
    yield provider
    await provider.aclose()


async def warm_up(provider: LocalProvider) -> None:
    """Load both contexts with one tiny chat turn."""
    async for _ in provider.stream_chat(
        [{"role": "user", "content": "Hi"}], GenerationOptions(max_tokens=1, temperature=0)
    ):
        pass


async def alone(
    messages: list[dict[str, str]], options: GenerationOptions, *, warm: bool = False
) -> str:
    """The answer of a fresh provider with nothing else to do."""
    provider = make_provider()
    try:
        if warm:
            await warm_up(provider)
        return "".join([piece async for piece in provider.stream_chat(messages, options)])
    finally:
        await provider.aclose()


async def next_piece(stream: AsyncGenerator[str, None]) -> str:
    """The next piece that carries text (keep-alives skipped)."""
    while True:
        piece = await anext(stream)
        if piece and not is_keepalive(piece):
            return piece


async def test_completion_preempts_chat_which_resumes_with_the_same_text(
    local: LocalProvider,
) -> None:
    expected = await alone(STORY, GREEDY_CHAT)
    events: list[str] = []
    chat_pieces: list[str] = []
    chatting = asyncio.Event()

    async def chat() -> None:
        async for piece in local.stream_chat(STORY, GREEDY_CHAT):
            if piece:
                chat_pieces.append(piece)
                events.append("chat")
                if len(chat_pieces) == 3:
                    chatting.set()
        events.append("chat-end")

    async def completion() -> None:
        await chatting.wait()
        async for piece in local.stream_completion(ADD, QUICK):
            if piece:
                events.append("completion")
        events.append("completion-end")

    await asyncio.gather(chat(), completion())
    first, end = events.index("completion"), events.index("completion-end")
    assert first < events.index("chat-end")  # it did not wait for the chat
    assert events[first:end].count("chat") <= 1  # the chat gave way within a token
    assert "chat" in events[end:]  # and resumed afterwards
    assert "".join(chat_pieces) == expected  # with its text intact
    assert local.scheduler.job_count() == 0


async def test_completion_preempts_a_chat_while_it_reads_its_prompt(
    local: LocalProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = "\n".join(f"def f{i}(x):\n    return x * {i} + {i * 7}" for i in range(30))
    messages = [{"role": "user", "content": f"Explain this code:\n{code}"}]
    options = GenerationOptions(max_tokens=24, temperature=0)
    expected = await alone(messages, options, warm=True)
    await warm_up(local)  # so that the chat's first step is its prompt, not loading
    chat_context = local._contexts["chat"]
    evals: list[int] = []  # tokens per evaluation on the chat context (worker thread)
    reading = threading.Event()
    real_eval = chat_context.eval

    def recording_eval(tokens: list[int]) -> None:
        real_eval(tokens)
        evals.append(len(tokens))
        reading.set()

    monkeypatch.setattr(chat_context, "eval", recording_eval)
    events: list[str] = []

    async def chat() -> str:
        pieces: list[str] = []
        async for piece in local.stream_chat(messages, options):
            if piece:
                if not pieces:
                    events.append("chat")  # its first token
                pieces.append(piece)
        return "".join(pieces)

    async def completion() -> None:
        assert await asyncio.to_thread(reading.wait, 60)  # the chat reads its prompt
        stream = local.stream_completion(ADD, QUICK)
        assert await next_piece(stream)
        events.append("completion")
        await stream.aclose()

    text, _ = await asyncio.gather(chat(), completion())
    assert events == ["completion", "chat"]  # the completion did not wait for the prompt
    assert evals[0] <= PREFILL_CHUNK < sum(evals)  # the prompt was read in chunks
    assert text == expected


async def test_waiting_behind_others_neither_times_out_nor_opens_the_breaker(
    gguf_path: Path,
) -> None:
    settings = Settings.model_validate(
        {"models": {"local": {"contextSize": 1024, "firstTokenTimeoutSeconds": 1.0}}}
    )
    router = ModelRouter(settings)
    provider = router.providers["local"]
    assert isinstance(provider, LocalProvider)
    await warm_up(provider)  # loading is model time; this test is about waiting
    events: list[str] = []
    chat = router.stream_chat("chat", STORY, GenerationOptions(max_tokens=40, temperature=0))
    hog = router.stream_completion("completion", COUNTING, ENDLESS)
    quick = router.stream_completion("completion", ADD, QUICK)
    try:
        chat_iter = aiter(chat)
        chat_text = [await anext(chat_iter)]
        assert await anext(aiter(hog))  # the hog runs, the chat gave way
        events.append("hog-running")

        async def finish_quick() -> str:
            text = await quick.text()
            events.append("quick-done")
            return text

        quick_task = asyncio.create_task(finish_quick())
        # While the hog runs on (longer than the first-token timeout), the quick completion
        # waits behind it (first come, first served) and the chat behind both.
        loop = asyncio.get_running_loop()
        until = loop.time() + 2.5
        async for _ in hog:
            if loop.time() > until:
                break
        events.append("hog-closed")
        await hog.aclose()
        chat_text += [piece async for piece in chat_iter]
        events.append("chat-done")
        assert (await quick_task).strip()
        assert "".join(chat_text).strip()
        assert events.index("quick-done") > events.index("hog-closed")
        assert chat.model == quick.model == "local"
        assert router.paused_models() == {}
        assert router.breakers["local"].failures == 0
    finally:
        await router.aclose()


async def test_cancelling_a_queued_job_releases_it_at_once(local: LocalProvider) -> None:
    hog = local.stream_completion(COUNTING, ENDLESS)
    assert await next_piece(hog)
    queued = local.stream_chat(STORY, GenerationOptions(max_tokens=50))
    assert is_keepalive(await anext(queued))  # waiting its turn, and saying so
    assert local.scheduler.job_count() == 2
    await queued.aclose()
    assert local.scheduler.job_count() == 1  # gone before the worker ever saw it
    await hog.aclose()
    await local.wait_idle()
    assert local.scheduler.job_count() == 0
    assert local.loaded_contexts() == ["completion"]  # the chat one was never needed


async def test_chat_and_actions_are_served_in_arrival_order(local: LocalProvider) -> None:
    await local.ensure_loaded()
    order: list[str] = []

    async def ask(name: str, options: GenerationOptions) -> None:
        async for piece in local.stream_chat(STORY, options):
            if piece:
                order.append(name)

    first = asyncio.create_task(ask("chat", GenerationOptions(max_tokens=20, temperature=0)))
    await asyncio.sleep(0)  # queued first
    second = asyncio.create_task(
        ask("actions", GenerationOptions(max_tokens=20, temperature=0, priority="actions"))
    )
    await asyncio.gather(first, second)
    assert order == sorted(order, key=["chat", "actions"].index)  # never interleaved
