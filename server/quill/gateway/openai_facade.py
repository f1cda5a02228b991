"""An OpenAI-compatible facade, for Continue and any OpenAI client.

* ``GET /v1/models``: ``quill`` (the configured routes) and every configured model by name.
* ``POST /v1/chat/completions``: the client's messages, with Quill's codebase context added
  to the last user message (``"quill": {"context": false}`` turns that off), secrets redacted,
  routed like chat; streamed as server-sent events with ``"stream": true``.
* ``POST /v1/completions``: a prompt with FIM tokens (or ``prompt`` + ``suffix``) goes through
  Quill's completion pipeline; any other prompt is continued by the completion route.

The Continue ``http`` context provider (``POST /context``) is in
:mod:`quill.gateway.context_provider`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from quill.app import Quill
from quill.completion.service import CompletionRequest
from quill.config import Feature
from quill.gateway.chat_adapter import with_context
from quill.gateway.codebase import codebase_context, render_items
from quill.gateway.core import Gateway
from quill.gateway.fim import FimSplit, split_fim_prompt
from quill.gateway.workspace import display_name, workspace_rel
from quill.models.base import ChatMessage, GenerationOptions
from quill.models.errors import (
    ModelError,
    ModelRequestRejected,
    ModelTimeout,
    NoModelAvailable,
)
from quill.models.router import RoutedStream
from quill.safety.secrets import redact

log = logging.getLogger(__name__)
ALIAS = "quill"
MAX_TOKENS_LIMIT = 32_768


class BadRequest(Exception):
    pass


def openai_error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status
    )


def model_error_response(exc: ModelError) -> JSONResponse:
    if isinstance(exc, NoModelAvailable):
        return openai_error(503, str(exc), "server_error", "no_model")
    if isinstance(exc, ModelRequestRejected):
        return openai_error(400, str(exc), "invalid_request_error", "rejected")
    if isinstance(exc, ModelTimeout):
        return openai_error(504, str(exc), "server_error", "timeout")
    return openai_error(502, str(exc), "server_error", "model_error")


async def json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _models_for(app: Quill, feature: Feature, requested: Any) -> list[str]:
    if isinstance(requested, str) and requested in app.router.providers:
        return [requested]
    return app.router.route(feature)


def _options(body: dict[str, Any], max_default: int, temp_default: float, priority: Any) -> Any:
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens")) or max_default
    temperature = body.get("temperature", temp_default)
    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise BadRequest("`max_tokens` must be a positive integer")
    if not isinstance(temperature, int | float) or not 0 <= temperature <= 2:
        raise BadRequest("`temperature` must be a number from 0 to 2")
    if not isinstance(stop, list | tuple) or not all(isinstance(s, str) for s in stop):
        raise BadRequest("`stop` must be a string or a list of strings")
    return GenerationOptions(
        max_tokens=min(max_tokens, MAX_TOKENS_LIMIT),
        temperature=float(temperature),
        stop=tuple(stop)[:4],
        priority=priority,
    )


def _content(value: Any) -> str:
    """A message's content: a string, or the text parts of a list of parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            p.get("text", "") for p in value if isinstance(p, dict) and p.get("type") == "text"
        )
    if value is None:
        return ""
    raise BadRequest("a message's `content` must be a string or a list of parts")


def _messages(body: dict[str, Any]) -> list[ChatMessage]:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise BadRequest("`messages` must be a non-empty list")
    out: list[ChatMessage] = []
    for m in raw:
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "tool"):
            raise BadRequest("each message needs a `role` (system, user or assistant)")
        role = "user" if m["role"] == "tool" else str(m["role"])
        out.append({"role": role, "content": redact(_content(m.get("content")))})
    return out


def _sse(data: Any) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def _first(stream: RoutedStream) -> tuple[str | None, AsyncIterator[str]]:
    """Wait for the first piece, so a model that cannot answer becomes an HTTP error."""
    it = aiter(stream)
    try:
        return await anext(it), it
    except StopAsyncIteration:
        return None, it


class Facade:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.app = gateway.app

    async def models(self, request: Request) -> Response:
        created = int(time.time())
        data = [{"id": ALIAS, "object": "model", "created": created, "owned_by": "quill"}]
        data += [
            {"id": name, "object": "model", "created": created, "owned_by": "quill"}
            for name in self.app.router.providers
        ]
        return JSONResponse({"object": "list", "data": data})

    async def chat_completions(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            body = await json_object(request)
            messages = _messages(body)
            chat = self.app.settings.chat
            options = _options(body, chat.max_tokens, chat.temperature, "chat")
        except BadRequest as exc:
            return openai_error(400, str(exc), "invalid_request_error")
        extra = body.get("quill")
        if not isinstance(extra, dict) or extra.get("context", True):
            messages = await self._with_context(messages)
        names = _models_for(self.app, "chat", body.get("model"))
        prompt_tokens = sum(self.app.count_tokens(m["content"]) for m in messages)
        stream = self.app.router.stream(
            "chat", lambda p: p.stream_chat(messages, options), models=names
        )
        ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"

        def chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": stream.model or body.get("model") or ALIAS,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        if body.get("stream"):
            return await self._stream_response(
                stream,
                "openai_chat",
                prompt_tokens,
                started,
                lambda piece: chunk({"content": piece}),
                chunk({}, "stop"),
                chunk({"role": "assistant", "content": ""}),
            )
        try:
            text = await stream.text()
        except ModelError as exc:
            return model_error_response(exc)
        finally:
            await stream.aclose()
        completion_tokens = self.app.count_tokens(text)
        self._record("openai_chat", started, prompt_tokens, completion_tokens)
        return JSONResponse(
            {
                "id": ident,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": stream.model or ALIAS,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(prompt_tokens, completion_tokens),
            }
        )

    async def completions(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            body = await json_object(request)
            prompt = body.get("prompt")
            if isinstance(prompt, list) and len(prompt) == 1:
                prompt = prompt[0]
            if not isinstance(prompt, str):
                raise BadRequest("`prompt` must be a string")
            suffix = body.get("suffix")
            if suffix is not None and not isinstance(suffix, str):
                raise BadRequest("`suffix` must be a string")
            settings = self.app.settings.completion
            options = _options(body, settings.max_tokens, 0.0, "completion")
        except BadRequest as exc:
            return openai_error(400, str(exc), "invalid_request_error")
        split = FimSplit(prompt, suffix, "suffix") if suffix else split_fim_prompt(prompt)
        ident = f"cmpl-{uuid.uuid4().hex[:24]}"
        model = body.get("model") or ALIAS

        def chunk(text: str, finish: str | None = None) -> dict[str, Any]:
            return {
                "id": ident,
                "object": "text_completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}],
            }

        if split is None:
            names = _models_for(self.app, "completion", body.get("model"))
            clean = redact(prompt)
            stream = self.app.router.stream(
                "completion", lambda p: p.stream_completion(clean, options), models=names
            )
            tokens = self.app.count_tokens(clean, "completion")
            if body.get("stream"):
                return await self._stream_response(
                    stream, "openai_completion", tokens, started, chunk, chunk("", "stop")
                )
            try:
                text = await stream.text()
            except ModelError as exc:
                return model_error_response(exc)
            finally:
                await stream.aclose()
        else:
            text = await self._fill(split)
            tokens = self.app.count_tokens(split.prefix + split.suffix, "completion")
        completion_tokens = self.app.count_tokens(text, "completion")
        self._record("openai_completion", started, tokens, completion_tokens)
        if body.get("stream"):

            async def once() -> AsyncIterator[bytes]:
                if text:
                    yield _sse(chunk(text))
                yield _sse(chunk("", "stop"))
                yield b"data: [DONE]\n\n"

            return StreamingResponse(once(), media_type="text/event-stream")
        result = chunk(text, "stop")
        result["usage"] = _usage(tokens, completion_tokens)
        return JSONResponse(result)

    # ------------------------------------------------------------------ pieces

    async def _with_context(self, messages: list[ChatMessage]) -> list[ChatMessage]:
        last = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=None)
        if last is None:
            return messages
        items = await codebase_context(self.app, messages[last]["content"])
        if not items:
            return messages
        out = list(messages)
        content = with_context(messages[last]["content"], render_items(items))
        out[last] = {"role": "user", "content": redact(content)}
        return out

    async def _fill(self, split: FimSplit) -> str:
        rel = workspace_rel(self.app, split.path) if split.path else None
        name = rel or (display_name(split.path) if split.path else None)
        lines = split.prefix.split("\n")
        outcome = await self.app.completion.complete(
            CompletionRequest(
                uri=f"quill-gateway://openai/{name or 'untitled'}",
                text=split.prefix + split.suffix,
                line=len(lines) - 1,
                column=len(lines[-1]),
                language=split.language,
                path=name,
                invoked=True,
                workspace_path=rel,
            )
        )
        log.debug("FIM completion (%s): %s", split.family, outcome.reason)
        return outcome.suggestions[0].text if outcome.suggestions else ""

    async def _stream_response(
        self,
        stream: RoutedStream,
        feature: str,
        prompt_tokens: int,
        started: float,
        piece_chunk: Callable[[str], dict[str, Any]],
        final_chunk: dict[str, Any],
        opening: dict[str, Any] | None = None,
    ) -> Response:
        try:
            first, rest = await _first(stream)
        except ModelError as exc:
            await stream.aclose()
            return model_error_response(exc)
        metrics = self.gateway.metrics

        async def events() -> AsyncIterator[bytes]:
            pieces: list[str] = []
            metrics.open_streams.inc()
            try:
                if opening is not None:
                    yield _sse(opening)
                if first:
                    pieces.append(first)
                    yield _sse(piece_chunk(first))
                if first is not None:
                    async for piece in rest:
                        if piece:
                            pieces.append(piece)
                            yield _sse(piece_chunk(piece))
                yield _sse(final_chunk)
            except ModelError as exc:
                yield _sse({"error": {"message": str(exc), "type": "server_error"}})
            finally:
                await stream.aclose()
                metrics.open_streams.dec()
                text = "".join(pieces)
                self._record(feature, started, prompt_tokens, self.app.count_tokens(text))
            yield b"data: [DONE]\n\n"

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )

    def _record(self, feature: str, started: float, prompt: int, completion: int) -> None:
        metrics = self.gateway.metrics
        metrics.observe_feature(feature, time.perf_counter() - started)
        metrics.count_tokens(feature, prompt, completion)


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
