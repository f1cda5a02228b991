"""Quill's one typed settings tree.

Every setting has a default, so an empty configuration is a working one. On the wire and in
files keys are camelCase; snake_case is accepted too. Where settings come from, how the
layers merge and which of them a workspace may set: :mod:`quill.settings_sources`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

Feature = Literal["completion", "chat", "actions"]
FEATURES: tuple[Feature, ...] = ("completion", "chat", "actions")


class _Section(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        validate_default=True,
    )


class ModelSettings(_Section):
    """One named model: the embedded local model or an OpenAI-compatible endpoint."""

    provider: Literal["local", "openai"] = Field(
        "local", description="`local` (embedded llama.cpp) or `openai` (any compatible URL)."
    )
    base_url: str | None = Field(
        None, description="OpenAI-compatible base URL, e.g. `http://127.0.0.1:8080/v1`."
    )
    model: str = Field("", description="Model name sent to the endpoint (`openai`).")
    model_path: str | None = Field(
        None, description="GGUF file for `local`; default: the embedded SmolLM2-135M-Instruct."
    )
    api_key: SecretStr | None = Field(None, description="API key sent as a Bearer token.")
    api_key_env: str | None = Field(
        None, description="Environment variable holding the API key (instead of `apiKey`)."
    )
    context_size: int = Field(
        2048, ge=256, le=1_048_576, description="Context window in tokens (`local` loads it)."
    )
    threads: int | None = Field(
        None, ge=1, le=256, description="CPU threads for `local` (default: half the cores)."
    )
    fim: Literal["auto", "infill", "template", "chat", "continuation"] = Field(
        "auto",
        description="Fill-in-the-middle mode: probe (`auto`), llama.cpp `/infill`, FIM "
        "tokens in the prompt (`template`), a chat hole-filler prompt (`chat`), or a plain "
        "continuation of the file up to the cursor (`continuation`; `auto` picks it for the "
        "embedded model).",
    )
    quantization: Literal["auto", "as-is", "q4_0", "q8_0"] = Field(
        "auto",
        description="Weights format for `local`, converted once into the cache: `auto` "
        "converts the embedded model to Q4_0 (about 2.6x faster prompt reading on a CPU "
        "than the Q4_1 it ships as) and loads any other file as it is.",
    )
    connect_timeout_seconds: float = Field(
        3.0, gt=0, le=120, description="Connection timeout for `openai`."
    )
    first_token_timeout_seconds: float = Field(
        20.0, gt=0, le=600, description="Longest wait for the first token before giving up."
    )
    timeout_seconds: float = Field(
        120.0, gt=0, le=3600, description="Longest time one request may take in total."
    )
    max_retries: int = Field(
        2, ge=0, le=10, description="Retries on 429/5xx/connection errors before falling back."
    )


class RouteSettings(_Section):
    """Which named models serve each feature, in fallback order."""

    completion: list[str] = Field(
        default_factory=lambda: ["local"], description="Models for completions, in order."
    )
    chat: list[str] = Field(
        default_factory=lambda: ["local"], description="Models for chat, in order."
    )
    actions: list[str] = Field(
        default_factory=lambda: ["local"], description="Models for code actions, in order."
    )


class RouterSettings(_Section):
    retry_base_delay_seconds: float = Field(
        0.25, ge=0, le=60, description="First retry delay; doubles on each retry."
    )
    retry_max_delay_seconds: float = Field(
        8.0,
        ge=0,
        le=600,
        description="Longest wait before a retry; a longer Retry-After "
        "moves on to the next model instead.",
    )
    circuit_breaker_cooldown_seconds: float = Field(
        30.0, ge=0, le=3600, description="How long a failed model is skipped before a retry."
    )


class LspSettings(_Section):
    max_message_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest LSP message accepted, in bytes."
    )
    parent_process_poll_seconds: float = Field(
        2.0, gt=0, le=60, description="How often to check that the editor process is alive."
    )


class CompletionSettings(_Section):
    enabled: bool = Field(True, description="Offer AI completions.")
    max_tokens: int = Field(64, ge=1, le=4096, description="Longest completion, in tokens.")
    context_tokens: int = Field(
        1024, ge=64, le=131_072, description="Token budget for the completion prompt."
    )
    embedded_context_tokens: int = Field(
        384,
        ge=64,
        le=131_072,
        description="Token budget for the completion prompt when the embedded model answers "
        "(small: on a CPU every prompt token costs time).",
    )
    invoked_wait_seconds: float = Field(
        3.0,
        ge=0,
        le=60,
        description="How long a list completion the user asked for (the completion key) waits "
        "for the model before answering; automatic requests answer from the cache at once.",
    )


class ChatSettings(_Section):
    max_tokens: int = Field(512, ge=1, le=32_768, description="Longest chat answer, in tokens.")
    context_tokens: int = Field(
        1024, ge=64, le=1_048_576, description="Token budget for file context in a chat turn."
    )
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature for chat.")
    history_tokens: int = Field(
        1024,
        ge=0,
        le=1_048_576,
        description="Token budget for the earlier turns of a chat sent with a new message "
        "(trimmed oldest first; always within the model's context window).",
    )
    keep_keywords: list[str] = Field(
        default_factory=list,
        description="Chat messages containing one of these words (case-insensitive) are never "
        "trimmed from the history, like pinned ones.",
    )
    summary_tokens: int = Field(
        256,
        ge=0,
        le=8192,
        description="Longest running summary of the turns trimmed from a chat's history, in "
        "tokens (0: trimmed turns are forgotten).",
    )
    summarize_with_model: bool = Field(
        True,
        description="Let the model rewrite the running summary in the background after an "
        "answer (otherwise, and when it fails, the summary is extractive).",
    )
    thinking: bool = Field(
        True,
        description="Let reasoning models think before answering (the thinking is hidden from "
        "the answer and kept with the message). `false` sends the model's no-thinking switch "
        "where one is known (`/no_think` for Qwen3 and SmolLM3), and "
        "`chat_template_kwargs.enable_thinking: false` to OpenAI-compatible servers other "
        "than OpenAI's own.",
    )
    search_results: int = Field(
        4,
        ge=0,
        le=50,
        description="Definitions from the index that match the names in a chat question, sent "
        "with it.",
    )
    repo_map_tokens: int = Field(
        192,
        ge=0,
        le=65_536,
        description="Tokens of a chat question's context budget that the repo map may use "
        "(0: no repo map).",
    )


class ActionsSettings(_Section):
    max_tokens: int = Field(
        768, ge=1, le=32_768, description="Longest answer of a code action, in tokens."
    )
    context_tokens: int = Field(
        1024,
        ge=64,
        le=1_048_576,
        description="Token budget for the code and its context in a code action's prompt.",
    )
    temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature for actions.")
    static_rules: bool = Field(
        True, description="Report the static bug rules (no model) as diagnostics."
    )
    disabled_rules: list[str] = Field(
        default_factory=list, description="Ids of static rules not to report."
    )


class GatewaySettings(_Section):
    enabled: bool = Field(
        True,
        description="With `quill lsp`, also serve the chat page, the WebSocket and the "
        "OpenAI-compatible API on a random 127.0.0.1 port (announced in `quill/status`).",
    )


class IndexSettings(_Section):
    enabled: bool = Field(True, description="Index the workspace with tree-sitter.")
    max_file_bytes: int = Field(
        1_000_000, ge=1024, description="Files larger than this are not indexed."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Extra gitignore-style patterns to skip."
    )
    cache_dir: str | None = Field(
        None, description="Where the index database lives (default: the user cache dir)."
    )


class Settings(_Section):
    """The whole settings tree."""

    endpoint: str | None = Field(
        None,
        description="One setting to use any OpenAI-compatible server: its base URL. It "
        "becomes the model `endpoint`, first for every feature, with `local` as fallback.",
    )
    endpoint_model: str = Field("", description="Model name to request from `endpoint`.")
    api_key: SecretStr | None = Field(
        None, description="API key for `endpoint` (or set `OPENAI_API_KEY`)."
    )
    models: dict[str, ModelSettings] = Field(
        default_factory=lambda: {"local": ModelSettings()},
        description="Named models; `local` is the embedded model.",
    )
    routes: RouteSettings = Field(default_factory=RouteSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)
    lsp: LspSettings = Field(default_factory=LspSettings)
    completion: CompletionSettings = Field(default_factory=CompletionSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    actions: ActionsSettings = Field(default_factory=ActionsSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the server log (stderr or `--log-file`)."
    )
    trusted_workspaces: list[str] = Field(
        default_factory=list,
        description="Folders (glob patterns, `~` allowed, e.g. `~/work/*`) whose `.quill.toml` "
        "may set where code and keys go (`endpoint`, `apiKey`, `routes`, `models.*.baseUrl`, "
        "`apiKey`, `apiKeyEnv`, `modelPath`, `provider`, `index.cacheDir`). Read from the "
        "user's own config, the environment and the editor only.",
    )

    def effective_models(self) -> dict[str, ModelSettings]:
        """Named models with `endpoint` folded in and `local` always present."""
        models = dict(self.models)
        models.setdefault("local", ModelSettings())
        if self.endpoint:
            models["endpoint"] = ModelSettings(
                provider="openai",
                base_url=self.endpoint,
                model=self.endpoint_model,
                api_key=self.api_key,
                api_key_env=None if self.api_key else "OPENAI_API_KEY",
            )
        return models

    def route(self, feature: Feature) -> list[str]:
        """Model names serving ``feature``, in fallback order, unknown names dropped."""
        names: list[str] = list(getattr(self.routes, feature))
        if self.endpoint and "endpoint" not in names:
            names.insert(0, "endpoint")
        known = self.effective_models()
        out: list[str] = []
        for name in names:
            if name in known and name not in out:
                out.append(name)
        return out or ["local"]
