"""Any OpenAI-compatible endpoint: llama.cpp server, Ollama, LM Studio, vLLM, OpenAI.

Streams use server-sent events over httpx; closing the stream closes the HTTP response, so a
cancelled request stops the upstream generation. A probe learns what the server is:
``/v1/models``, llama.cpp's ``/props`` and ``/infill``, Ollama's ``/api/show``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import httpx

from quill.config import ModelSettings
from quill.models.base import (
    ChatMessage,
    FimMode,
    GenerationOptions,
    ModelHealth,
    ModelProvider,
    failed_stream,
)
from quill.models.errors import (
    ModelCapabilityMissing,
    ModelError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelServerError,
    ModelStreamInterrupted,
    ModelTimeout,
    ModelUnavailable,
    ModelUnreachable,
)

log = logging.getLogger(__name__)

OLLAMA_NUM_CTX_WARNING = (
    "Ollama's OpenAI endpoint cannot set num_ctx: prompts longer than the model's loaded "
    "context ({ctx} tokens) are silently truncated; raise it with OLLAMA_CONTEXT_LENGTH or "
    "a Modelfile `PARAMETER num_ctx`"
)


def normalise_base_url(url: str) -> tuple[str, str]:
    """Return (api base ending in /v1, server root) for a user-given base URL."""
    base = url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        base = "http://" + base
    if base.endswith("/v1"):
        return base, base[: -len("/v1")]
    return base + "/v1", base


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


#: hosted APIs that refuse request fields they do not know
_STRICT_HOSTS = ("api.openai.com",)


def takes_template_kwargs(base_url: str) -> bool:
    """Whether ``chat_template_kwargs`` may be sent to ``base_url``: any server but the hosted
    APIs that refuse unknown fields (local servers take the field or ignore it)."""
    host = (httpx.URL(base_url).host or "").lower()
    return not any(host == h or host.endswith("." + h) for h in _STRICT_HOSTS)


class OpenAIProvider(ModelProvider):
    def __init__(self, name: str, settings: ModelSettings) -> None:
        super().__init__(name)
        if not settings.base_url:
            raise ModelUnavailable(f"model `{name}` has no baseUrl", model=name)
        self.settings = settings
        self.base_url, self.root_url = normalise_base_url(settings.base_url)
        self.model = settings.model
        self._client: httpx.AsyncClient | None = None
        self._fim: FimMode | None = None if settings.fim == "auto" else settings.fim
        self.context_size: int | None = None

    @property
    def provider(self) -> str:
        return "openai"

    @property
    def model_id(self) -> str:
        return f"openai:{self.base_url}:{self.model}"

    def fim_mode(self) -> FimMode:
        return self._fim or "none"

    def _api_key(self) -> str | None:
        if self.settings.api_key is not None:
            return self.settings.api_key.get_secret_value()
        if self.settings.api_key_env:
            return os.environ.get(self.settings.api_key_env) or None
        return None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"User-Agent": "quill-lsp"}
            key = self._api_key()
            if key:
                headers["Authorization"] = f"Bearer {key}"
            s = self.settings
            self._client = httpx.AsyncClient(
                headers=headers,
                timeout=httpx.Timeout(
                    connect=s.connect_timeout_seconds,
                    read=s.first_token_timeout_seconds,
                    write=10.0,
                    pool=s.connect_timeout_seconds,
                ),
                trust_env=False,
            )
        return self._client

    # ------------------------------------------------------------------ errors

    def _transport_error(self, exc: httpx.HTTPError, started: bool) -> ModelError:
        where = self.base_url
        if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError | httpx.PoolTimeout):
            return ModelUnreachable(f"cannot reach {where}: {_reason(exc)}", model=self.name)
        if isinstance(exc, httpx.TimeoutException):
            what = "no further tokens" if started else "no answer"
            return ModelTimeout(
                f"{where}: {what} within {self.settings.first_token_timeout_seconds:g}s",
                model=self.name,
            )
        if started:
            return ModelStreamInterrupted(
                f"{where}: the answer was cut off ({_reason(exc)})", model=self.name
            )
        return ModelUnreachable(f"{where}: {_reason(exc)}", model=self.name)

    async def _status_error(self, response: httpx.Response) -> ModelError:
        try:
            body = (await response.aread()).decode("utf-8", "replace")
        except httpx.HTTPError:
            body = ""
        detail = _error_detail(body)
        code = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        prefix = f"{self.base_url} answered {code}"
        if code == 429:
            return ModelRateLimited(
                f"{prefix} (rate limited){detail}", model=self.name, retry_after=retry_after
            )
        if code >= 500:
            return ModelServerError(f"{prefix}{detail}", model=self.name, retry_after=retry_after)
        if code in (401, 403):
            return ModelRequestRejected(f"{prefix}: check the API key{detail}", model=self.name)
        if code == 404:
            return ModelRequestRejected(
                f"{prefix}: not found; check `baseUrl` and the model name{detail}",
                model=self.name,
            )
        return ModelRequestRejected(f"{prefix}{detail}", model=self.name)

    # -------------------------------------------------------------- streaming

    async def _sse(
        self, url: str, payload: dict[str, Any], pick: Callable[[dict[str, Any]], str | None]
    ) -> AsyncGenerator[str, None]:
        started = False
        finished = False
        try:
            async with self.client.stream("POST", url, json=payload) as response:
                if response.status_code >= 400:
                    raise await self._status_error(response)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        finished = True
                        break
                    try:
                        event = json.loads(data)
                    except ValueError as exc:
                        raise ModelStreamInterrupted(
                            f"{self.base_url}: malformed stream data", model=self.name
                        ) from exc
                    if not isinstance(event, dict):
                        continue
                    if "error" in event:
                        raise ModelServerError(
                            f"{self.base_url}: {_error_detail(json.dumps(event)).lstrip(': ')}",
                            model=self.name,
                        )
                    text = pick(event)
                    if _is_final(event):
                        finished = True
                    if text:
                        started = True
                        yield text
                    if finished and event.get("stop") is True:
                        break
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, started) from exc
        if not finished:
            raise ModelStreamInterrupted(
                f"{self.base_url}: the answer ended without finishing", model=self.name
            )

    def stream_chat(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncGenerator[str, None]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "stream": True,
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
        }
        if options.stop:
            payload["stop"] = list(options.stop)
        if options.thinking is False and takes_template_kwargs(self.base_url):
            # llama.cpp's server, vLLM and SGLang pass these to the chat template, where
            # Qwen3, SmolLM3 and other reasoning families read their switch
            payload["chat_template_kwargs"] = {"enable_thinking": False}
        return self._sse(f"{self.base_url}/chat/completions", payload, _pick_chat)

    def stream_completion(
        self, prompt: str, options: GenerationOptions, *, suffix: str | None = None
    ) -> AsyncGenerator[str, None]:
        if suffix is not None:
            if self._fim != "infill":
                return failed_stream(
                    ModelCapabilityMissing(
                        f"{self.base_url} has no /infill; put FIM tokens in the prompt",
                        model=self.name,
                    )
                )
            infill: dict[str, Any] = {
                "input_prefix": prompt,
                "input_suffix": suffix,
                "n_predict": options.max_tokens,
                "temperature": options.temperature,
                "stream": True,
                "cache_prompt": True,
            }
            if options.stop:
                infill["stop"] = list(options.stop)
            return self._sse(f"{self.root_url}/infill", infill, _pick_infill)
        payload: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "stream": True,
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
        }
        if options.stop:
            payload["stop"] = list(options.stop)
        return self._sse(f"{self.base_url}/completions", payload, _pick_completion)

    # ----------------------------------------------------------------- probing

    async def _get_json(self, method: str, url: str, **kw: Any) -> Any | None:
        try:
            response = await self.client.request(method, url, **kw)
        except httpx.HTTPError:
            return None
        if response.status_code >= 400:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    async def probe(self, *, generate: bool = False) -> ModelHealth:
        health = ModelHealth(
            name=self.name, provider="openai", reachable=False, loaded=False, model=self.model
        )
        try:
            response = await self.client.get(f"{self.base_url}/models")
        except httpx.HTTPError as exc:
            health.message = str(self._transport_error(exc, started=False))
            return health
        health.reachable = True
        if response.status_code >= 400:
            health.message = str(await self._status_error(response))
            return health
        ids: list[str] = []
        try:
            data = response.json().get("data", [])
            ids = [str(m.get("id")) for m in data if isinstance(m, dict)]
        except (ValueError, AttributeError):
            health.warnings.append("/v1/models did not return a model list")
        if not self.model and ids:
            self.model = ids[0]
        elif self.model and ids and self.model not in ids:
            health.warnings.append(f"model `{self.model}` not in the server's list: {ids[:5]}")
        health.model = self.model
        health.loaded = True

        props = await self._get_json("GET", f"{self.root_url}/props")
        if isinstance(props, dict):  # llama.cpp server
            settings = props.get("default_generation_settings")
            ctx = props.get("n_ctx")
            if isinstance(settings, dict):
                ctx = settings.get("n_ctx", ctx)
            if isinstance(ctx, int):
                self.context_size = ctx
            if self.settings.fim == "auto":
                infill = await self._get_json(
                    "POST",
                    f"{self.root_url}/infill",
                    json={"input_prefix": "def ", "input_suffix": "", "n_predict": 1},
                )
                self._fim = "infill" if isinstance(infill, dict) else None
        else:
            show = await self._get_json(
                "POST", f"{self.root_url}/api/show", json={"model": self.model}
            )
            if isinstance(show, dict):  # Ollama
                ctx = _ollama_context_length(show)
                if ctx:
                    self.context_size = ctx
                health.warnings.append(OLLAMA_NUM_CTX_WARNING.format(ctx=ctx or "default"))
        health.context_size = self.context_size
        health.fim_mode = self.fim_mode()
        health.message = f"{len(ids)} model(s) listed" if ids else "reachable"
        if generate:
            await self.time_one_token(health)
        return health

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    return text.splitlines()[0][:200]


def _error_detail(body: str) -> str:
    body = body.strip()
    if not body:
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return ": " + body[:200]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or json.dumps(err)[:200]
            return f": {str(msg)[:200]}"
        return f": {str(err)[:200]}"
    return ": " + body[:200]


def _is_final(event: dict[str, Any]) -> bool:
    if event.get("stop") is True:
        return True
    choices = event.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0].get("finish_reason") is not None
    return False


def _pick_chat(event: dict[str, Any]) -> str | None:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    delta = choices[0].get("delta") or {}
    text = delta.get("content") if isinstance(delta, dict) else None
    return text if isinstance(text, str) else None


def _pick_completion(event: dict[str, Any]) -> str | None:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    text = choices[0].get("text")
    return text if isinstance(text, str) else None


def _pick_infill(event: dict[str, Any]) -> str | None:
    text = event.get("content")
    return text if isinstance(text, str) else None


def _ollama_context_length(show: dict[str, Any]) -> int | None:
    info = show.get("model_info")
    if isinstance(info, dict):
        for key, value in info.items():
            if key.endswith(".context_length") and isinstance(value, int):
                return value
    return None
