"""The completion pipeline, end to end and transport-free.

``CompletionService.complete(request)`` runs: cache (exact and type-through) → gate → debounce
→ context (prefix/suffix, context sources raced against a deadline, recent edits) → prompt for
the model's fill-in-the-middle mode (llama.cpp ``/infill``, a FIM template, or a chat
hole-filler) → model stream (closed early in single-line mode) → post-filters → cache. The LSP
server and any other front door call it with plain values and get plain values back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from quill.completion.answers import extract_hole_filler_answer, looks_like_prose
from quill.completion.cache import CompletionCache
from quill.completion.debounce import AdaptiveDebouncer, RequestSupervisor
from quill.completion.gate import decide
from quill.completion.line_context import LineContext
from quill.completion.postfilter import postprocess
from quill.completion.recent_edits import RecentEdits
from quill.completion.telemetry import CompletionMetrics, PromptRecord
from quill.config import CompletionSettings
from quill.context.budget import cut_prefix_suffix, fit_sections, rough_window, snap_to_line_grid
from quill.context.prompt import completion_prompt, prompt_mode_for
from quill.context.sections import ContextQuery, ContextSection, ContextSource
from quill.index.trees import TreeCache
from quill.models.base import GenerationOptions, ModelProvider
from quill.models.errors import ModelError
from quill.models.router import ModelRouter
from quill.safety.secrets import is_secret_file, redact_with_count

log = logging.getLogger(__name__)

CountTokens = Callable[[str], int]

#: lines of the document around the cursor that the gate's parse looks at
GATE_WINDOW_ABOVE = 60
GATE_WINDOW_BELOW = 20
#: a line longer than this (minified or generated code) gets no completion
MAX_LINE_CHARS = 4000
#: characters around the cursor the post-filters look at
POSTFILTER_WINDOW = 1000
#: the prompt's first line moves in steps of this many lines, so that while the user types
#: the prompt keeps its beginning and the model's prefix (KV) cache keeps hitting
PREFIX_START_GRID = 16
#: context that changes as the user types; placed after the file in chat prompts
#: how long an explicitly invoked completion waits for its context sources
INVOKED_CONTEXT_DEADLINE_S = 0.25
VOLATILE_SOURCES = frozenset({"recent_edit"})


@dataclass(frozen=True)
class CompletionRequest:
    uri: str
    text: str
    line: int
    column: int  # characters (a Python string index) into the line; the front door converts
    version: int | None = None
    language: str | None = None  # tree-sitter language name (python, tsx, ...)
    path: str | None = None  # workspace-relative path, for the prompt
    invoked: bool = False  # asked for explicitly: no debounce
    workspace_path: str | None = None  # workspace-relative; None outside the workspace


@dataclass
class Suggestion:
    id: str
    text: str
    line: int
    column: int


@dataclass
class CompletionOutcome:
    suggestions: list[Suggestion]
    reason: str
    from_cache: bool = False
    model_called: bool = False
    model_ms: float = 0.0
    total_ms: float = 0.0
    debounce_ms: float = 0.0

    @property
    def overhead_ms(self) -> float:
        return max(0.0, self.total_ms - self.model_ms)


class CompletionService:
    def __init__(
        self,
        router: Callable[[], ModelRouter],
        settings: Callable[[], CompletionSettings],
        *,
        context_sources: Sequence[tuple[str, ContextSource]] = (),
        read_document: Callable[[str], str | None] | None = None,
        parser_for: Callable[[str], Any] | None = None,
        trees: TreeCache | None = None,
        context_deadline_s: float = 0.02,
    ) -> None:
        self._router = router
        self._settings = settings
        self.context_sources: list[tuple[str, ContextSource]] = list(context_sources)
        self.read_document = read_document or (lambda uri: None)
        self.parser_for = parser_for
        self.trees = trees
        self.context_deadline_s = context_deadline_s
        self.cache = CompletionCache()
        self.debouncer = AdaptiveDebouncer()
        self.recent_edits = RecentEdits()
        self.metrics = CompletionMetrics()
        self.last_prompt: PromptRecord | None = None
        self.line_context = LineContext(self.recent_edits, self.read_document)
        #: one live request per document: a newer one cancels the older
        self.supervisor = RequestSupervisor()
        self._shown: dict[str, Suggestion] = {}

    # ------------------------------------------------------------- public

    async def complete(
        self,
        request: CompletionRequest,
        *,
        is_current: Callable[[], bool] = lambda: True,
        on_model_call: Callable[[], None] = lambda: None,
    ) -> CompletionOutcome:
        started = time.perf_counter()
        timing = {"debounce_ms": 0.0}
        outcome = await self._complete(request, is_current, on_model_call, timing)
        outcome.total_ms = (time.perf_counter() - started) * 1000
        outcome.debounce_ms = timing["debounce_ms"]
        self.metrics.record(outcome)
        for s in outcome.suggestions:
            self._shown[s.id] = s
            if len(self._shown) > 256:
                self._shown.pop(next(iter(self._shown)))
        return outcome

    def note_shown(self, suggestion_id: str | None) -> None:
        self.metrics.shown += 1

    def note_accepted(self, suggestion_id: str | None) -> None:
        self.metrics.accepted += 1

    def note_partially_accepted(self, suggestion_id: str | None) -> None:
        self.metrics.partially_accepted += 1

    def status(self) -> dict[str, Any]:
        out = self.metrics.to_json(self.cache.stats().hit_rate)
        stats = self.supervisor.stats()
        out["superseded"] = stats.superseded
        out["supersededAfterModelCall"] = stats.superseded_after_model_call
        return out

    # ------------------------------------------------------------ pipeline

    async def _complete(
        self,
        req: CompletionRequest,
        is_current: Callable[[], bool],
        on_model_call: Callable[[], None],
        timing: dict[str, float],
    ) -> CompletionOutcome:
        settings = self._settings()
        if not settings.enabled:
            return CompletionOutcome([], "disabled")
        lines = req.text.split("\n")
        if req.line < 0 or req.line >= len(lines):
            return CompletionOutcome([], "position out of range")
        line_text = lines[req.line].removesuffix("\r")
        if len(line_text) > MAX_LINE_CHARS:
            return CompletionOutcome([], "line too long")
        column = max(0, min(req.column, len(line_text)))
        offset = sum(map(len, lines[: req.line])) + req.line + column
        prefix, suffix = req.text[:offset], req.text[offset:]

        if is_secret_file(req.path):
            return CompletionOutcome([], "secret file")
        if redact_with_count(line_text)[1]:
            # Split at the cursor, a secret on this line would reach the model in two halves
            # that no detector recognises; a completion there is not wanted anyway.
            return CompletionOutcome([], "secret on the cursor line")
        choice = self._choose_model()
        if choice is None:
            return CompletionOutcome([], "no model available")
        name, provider = choice
        model_id = provider.model_id

        hit = self.cache.get(req.uri, prefix, suffix, model_id)
        if hit is not None:
            suggestions = [self._suggestion(hit.text, req)] if hit.text else []
            return CompletionOutcome(suggestions, "cache", from_cache=True)

        decision = self._gate(req, lines)
        if not decision.should_complete:
            return CompletionOutcome([], decision.reason)

        # Context is gathered while the debounce waits, so its cost hides behind the pause.
        mode, template = prompt_mode_for(provider)
        local = provider.provider == "local"
        budget = settings.embedded_context_tokens if local else settings.context_tokens
        context_budget = int(budget * (0.25 if local else 0.5))
        count = provider.tokens
        head, tail = rough_window(prefix, suffix, budget * 8)
        if req.invoked:  # asked for explicitly: worth waiting a little longer for context
            deadline = INVOKED_CONTEXT_DEADLINE_S
        else:
            at_start = not line_text[:column].strip()
            deadline = self.debouncer.delay_ms(at_start) / 1000 + self.context_deadline_s
        query = ContextQuery(
            req.uri, req.path, req.language, req.text, req.line, head, context_budget, count
        )
        gathering = self.line_context.gather(query, self.context_sources, deadline)

        if not req.invoked:
            at_line_start = not line_text[:column].strip()
            waited = time.perf_counter()
            current = await self.debouncer.wait(req.uri, at_line_start)
            timing["debounce_ms"] = (time.perf_counter() - waited) * 1000
            if not current:
                return CompletionOutcome([], "superseded")
        if not is_current():
            return CompletionOutcome([], "stale")

        sections, dropped = await asyncio.shield(gathering)
        kept = fit_sections(sections, context_budget, count) if sections else []
        redactions = 0
        for i, section in enumerate(kept):
            clean, found = redact_with_count(section.text)
            if found:
                redactions += found
                kept[i] = dataclasses.replace(section, text=clean)
        context_text = "".join(_section_text(x) for x in kept)
        used_context = count(context_text) if context_text else 0
        # Everything after the cursor is evaluated again on every keystroke (the prefix cache
        # stops at the cursor), so on a CPU model the suffix gets a small share.
        # A plain continuation sends nothing after the cursor.
        share = 1.0 if mode == "continuation" else 0.92 if local else 0.8
        cut_prefix, cut_suffix = cut_prefix_suffix(
            head, tail, budget - used_context, count, prefix_share=share
        )
        cut_prefix = snap_to_line_grid(cut_prefix, req.line, PREFIX_START_GRID)
        self._calibrate_later(provider, cut_prefix)
        cut_prefix, found = redact_with_count(cut_prefix)
        redactions += found
        cut_suffix, found = redact_with_count(cut_suffix)
        redactions += found

        # The context is fixed for the line being typed on (see LineContext), so it goes
        # first and the model's prefix cache covers everything up to the cursor.
        rendered = completion_prompt(
            mode,
            template,
            prefix=cut_prefix,
            suffix=cut_suffix,
            context=context_text,
            path=req.path,
            language=req.language,
        )
        options = GenerationOptions(
            max_tokens=settings.max_tokens,
            temperature=0.0,
            stop=rendered.stop,
            priority="completion",
        )
        self.last_prompt = PromptRecord(
            uri=req.uri,
            model=name,
            mode=mode,
            prompt=rendered.prompt,
            sections=[{"source": s.source, "text": s.text, "items": list(s.items)} for s in kept],
            prefix=cut_prefix,
            suffix=cut_suffix,
            context=context_text,
            budget_tokens=budget,
            dropped_sources=dropped,
            redactions=redactions,
            count_tokens=provider.tokens.exact,
        )

        self.metrics.model_calls += 1
        on_model_call()
        model_started = time.perf_counter()
        try:
            raw = await self._generate(
                name,
                lambda p: rendered.start(p, options),
                single_line=not decision.multiline,
                # blank lines before the first line of code do not end it
                chat=mode == "chat" or rendered.line_start,
            )
        except ModelError as exc:
            log.info("completion failed: %s", exc)
            return CompletionOutcome(
                [],
                f"model error: {exc}",
                model_called=True,
                model_ms=(time.perf_counter() - model_started) * 1000,
            )
        model_ms = (time.perf_counter() - model_started) * 1000
        raw = rendered.answer(raw)
        if mode == "chat":
            raw = extract_hole_filler_answer(raw, prefix=cut_prefix)
            if looks_like_prose(raw):
                raw = ""
        text = postprocess(
            raw,
            prefix=prefix[-POSTFILTER_WINDOW:],
            suffix=suffix[:POSTFILTER_WINDOW],
            multiline=decision.multiline,
            language=req.language,
        )
        self.last_prompt.completion = text
        if not is_current():
            return CompletionOutcome([], "stale", model_called=True, model_ms=model_ms)
        self.cache.put(req.uri, prefix, suffix, model_id, text)
        suggestions = [self._suggestion(text, req)] if text else []
        return CompletionOutcome(
            suggestions, "ok" if text else "empty", model_called=True, model_ms=model_ms
        )

    # ------------------------------------------------------------- pieces

    def _choose_model(self) -> tuple[str, ModelProvider] | None:
        router = self._router()
        paused = router.paused_models()
        for name in router.route("completion"):
            if name not in paused:
                return name, router.providers[name]
        return None

    @staticmethod
    def _calibrate_later(provider: ModelProvider, sample: str) -> None:
        """Let the model's tokenizer check the token estimate now and then, off the loop."""
        try:
            asyncio.get_running_loop().run_in_executor(None, provider.tokens.calibrate, sample)
        except RuntimeError:  # no loop (called from a plain thread): skip this sample
            pass

    def _gate(self, req: CompletionRequest, lines: list[str]) -> Any:
        if self.trees is not None and req.workspace_path and req.language:
            # The one tree cache: the buffer's tree, re-parsed incrementally since the last
            # keystroke (and shared with the index's live updates and scope inference).
            try:
                tree = self.trees.parse(req.workspace_path, req.language, req.text.encode())
            except Exception:  # a parser failure only costs the lexical fallback
                log.debug("gate parse failed", exc_info=True)
                tree = None
            return decide(req.text, req.line, req.column, tree=tree, language=req.language)
        start = max(0, req.line - GATE_WINDOW_ABOVE)
        window = lines[start : req.line + GATE_WINDOW_BELOW + 1]
        text = "\n".join(window)
        tree = None
        if self.parser_for is not None and req.language:
            parser = self.parser_for(req.language)
            if parser is not None:
                try:
                    tree = parser.parse(text.encode("utf-8"))
                except Exception:  # a parser failure only costs the lexical fallback
                    log.debug("gate parse failed", exc_info=True)
        return decide(text, req.line - start, req.column, tree=tree, language=req.language)

    async def _generate(
        self, name: str, start: Callable[[ModelProvider], Any], *, single_line: bool, chat: bool
    ) -> str:
        router = self._router()
        stream = router.stream("completion", start, models=[name])
        pieces: list[str] = []
        try:
            async for piece in stream:
                pieces.append(piece)
                if single_line and "\n" in piece and _has_complete_line("".join(pieces), chat):
                    break
        finally:
            await stream.aclose()
        return "".join(pieces)

    @staticmethod
    def _suggestion(text: str, req: CompletionRequest) -> Suggestion:
        return Suggestion(uuid.uuid4().hex[:12], text, req.line, req.column)


def _has_complete_line(text: str, chat: bool) -> bool:
    """True once ``text`` holds a finished first line of code (fence lines do not count)."""
    lines = text.split("\n")[:-1]
    for line in lines:
        stripped = line.strip()
        if chat and (stripped.startswith("```") or not stripped):
            continue
        return True
    return False


def _section_text(section: ContextSection) -> str:
    return section.text if section.text.endswith("\n") else section.text + "\n"
