"""``quill bench completion --quality``: does Quill's context make completions better?

Held-out lines of real projects (pinned sdists no one here wrote, fetched with pip into a
cache, or a local folder; see :mod:`~quill.bench.completion_quality_cases`) are removed one at
a time, the cursor put where the line's first character was, and the completion is asked of
the app's own completion service (:meth:`quill.completion.service.CompletionService.complete`,
as an explicitly invoked request: no debounce) in this process, twice:

* **without context**: before the workspace index is started, as with ``index.enabled =
  false``: the prompt holds only the file around the cursor;
* **with context**: after the index of the whole project is built, the way ``quill lsp``
  builds it at start-up; the file is the one open buffer and the index sees the buffer without
  the line, as it would after the editor's ``didChange``.

Each request gets its own document URI, so neither the completion cache nor the per-line
context of one case can reach another. The first line of each answer is scored as CrossCodeEval
does (exact match and edit similarity, whitespace-stripped); latency is the service's own
total per request. The model is the embedded one by default, or an OpenAI-compatible endpoint,
configured through settings exactly as a user would (``models.NAME``, ``routes.completion``).
Figures go to ``out`` as readable lines and one JSON line (made by
:mod:`~quill.bench.completion_quality_report`); progress goes to ``progress``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from quill.app import Quill
from quill.bench.completion_quality_cases import (
    QualityCase,
    edit_similarity,
    first_line,
    project_cases,
    sample_cases,
)
from quill.bench.completion_quality_report import (
    Answer,
    CaseResult,
    case_json,
    compute_figures,
    write_report,
)
from quill.bench.context_systems import remove_line
from quill.bench.project_fetch import default_cache_dir, fetch_project
from quill.completion.service import CompletionRequest
from quill.index.languages import language_for_path
from quill.settings_sources import SettingsSources

__all__ = ["DEFAULT_PROJECTS", "PROMPT_MODES", "run_quality_bench"]

#: pinned sdists of different styles, none of them in ``quill bench context``'s set:
#: a class-based text pipeline, functional helpers, a decorator-driven CLI library
DEFAULT_PROJECTS = ("markdown==3.6", "toolz==0.12.1", "click==8.1.7")
PROMPT_MODES = ("auto", "chat", "continuation")
MAX_TOKENS = 48
MODES = ("without", "with")
_LABELS = {"with": "with context", "without": "without context"}


class _Buffers:
    """The editor's open documents as the app reads them: the one file of the current case."""

    def __init__(self) -> None:
        self.rel: str | None = None
        self.uri: str | None = None
        self.body: str | None = None

    def open(self, rel: str, uri: str, text: str) -> None:
        self.rel, self.uri, self.body = rel, uri, text

    def text(self, uri: str) -> str | None:
        return self.body if uri == self.uri else None

    def open_workspace_paths(self) -> list[str]:
        return [self.rel] if self.rel else []

    def workspace_text(self, rel_path: str) -> str | None:
        return self.body if rel_path == self.rel else None


class BenchSetupError(Exception):
    """The model or the settings cannot be used (one line for the user)."""


def _settings(
    prompt_mode: str,
    model_path: str | None,
    endpoint: str | None,
    model: str | None,
    index_dir: Path,
) -> dict[str, Any]:
    """The settings layer the benchmark puts on top of the user's own (the LSP client's
    ``initializationOptions``): which model completes, its prompt mode, short answers."""
    if endpoint:
        name = "bench"
        spec: dict[str, Any] = {
            "provider": "openai",
            "baseUrl": endpoint,
            "model": model or "",
            "fim": prompt_mode,
            "apiKeyEnv": "OPENAI_API_KEY",
        }
    else:
        name = "local"
        spec = {"fim": prompt_mode}
        if model_path:
            spec["modelPath"] = str(Path(model_path).expanduser())
    return {
        "endpoint": "",
        "models": {name: spec},
        "routes": {"completion": [name]},
        "completion": {"maxTokens": MAX_TOKENS},
        "index": {"enabled": True, "cacheDir": str(index_dir)},
    }


def _check_problems(app: Quill, prompt_mode: str) -> None:
    for problem in app.problems:
        if problem.source != "initializationOptions":
            continue
        if problem.key.endswith(".fim"):
            raise BenchSetupError(
                f"--prompt-mode {prompt_mode} is not supported by this version of Quill"
            )
        raise BenchSetupError(f"setting {problem}")


async def _ask(
    app: Quill, buffers: _Buffers, root: Path, case: QualityCase, mode: str, index: int
) -> Answer:
    text = (root / case.rel).read_text(encoding="utf-8").replace("\r\n", "\n")
    held_out = remove_line(text, case.line, case.column)
    uri = f"{(root / case.rel).as_uri()}#quality-{mode}-{index}"
    buffers.open(case.rel, uri, held_out)
    if mode == "with":
        await app.index_update(root / case.rel, held_out)
    started = time.perf_counter()
    try:
        outcome = await app.completion.complete(
            CompletionRequest(
                uri=uri,
                text=held_out,
                line=case.line,
                column=case.column,
                version=1,
                language=language_for_path(case.rel),
                path=case.rel,
                invoked=True,
                workspace_path=case.rel,
            )
        )
    finally:
        if mode == "with":
            await app.index_update(root / case.rel, None)
    elapsed = (time.perf_counter() - started) * 1000
    record = app.completion.last_prompt
    context_tokens, dropped, file_lines = 0, False, 0
    if record is not None and record.uri == uri:
        file_lines = record.prefix.count("\n")
        context_tokens = app.count_tokens(record.context, "completion") if record.context else 0
        dropped = bool(record.dropped_sources)
    suggestion = outcome.suggestions[0].text if outcome.suggestions else ""
    prediction = first_line(suggestion)
    return Answer(
        prediction=prediction,
        exact=prediction == case.target,
        similarity=edit_similarity(prediction, case.target),
        total_ms=outcome.total_ms or elapsed,
        model_ms=outcome.model_ms,
        reason=outcome.reason,
        context_tokens=context_tokens,
        dropped=dropped,
        file_lines=file_lines,
    )


async def _run_project(
    root: Path,
    cases: list[QualityCase],
    options: dict[str, Any],
    prompt_mode: str,
    progress: TextIO,
    model_info: dict[str, str],
    done: list[int],
    total: int,
) -> list[CaseResult]:
    buffers = _Buffers()
    app = Quill(SettingsSources(workspace=root, initialization_options=options), buffers=buffers)
    try:
        _check_problems(app, prompt_mode)
        health = {h.name: h for h in await app.check_models()}
        name = app.router.route("completion")[0]
        provider = app.router.providers.get(name)
        state = health.get(name)
        if provider is None or (state is not None and not state.healthy):
            why = state.message if state is not None and state.message else "unavailable"
            raise BenchSetupError(f"model {name}: {why}")
        model_info["model"] = provider.model_id
        results = [CaseResult(c) for c in cases]
        # One answer first, so that loading the model is not counted as a case's latency.
        await _ask(app, buffers, root, cases[-1], "warmup", 0)
        for mode in MODES:
            if mode == "with":
                await app.start_index()
            for i, result in enumerate(results):
                answer = await _ask(app, buffers, root, result.case, mode, i)
                result.answers[mode] = answer
                done[0] += 1
                record = app.completion.last_prompt
                if record is not None:
                    model_info["promptMode"] = record.mode
                progress.write(
                    f"[{done[0]}/{total}] {result.case.project} {result.case.rel}:"
                    f"{result.case.line + 1} {_LABELS[mode]}: "
                    f"{'exact' if answer.exact else f'{answer.similarity:.2f}'} "
                    f"{answer.total_ms:.0f} ms ({answer.reason})\n"
                )
                progress.flush()
        return results
    finally:
        await app.aclose()


def run_quality_bench(
    projects: list[str],
    out: TextIO,
    *,
    cases: int = 60,
    seed: int = 0,
    prompt_mode: str = "auto",
    model_path: str | None = None,
    endpoint: str | None = None,
    model: str | None = None,
    json_only: bool = False,
    progress: TextIO | None = None,
    cache_dir: Path | None = None,
) -> int:
    """Measure completions with and without Quill's context on held-out lines of
    ``projects`` (folders or ``NAME==VERSION``; empty: :data:`DEFAULT_PROJECTS`).

    Returns 0 when the run completed (a missed target is reported, not a failure), 1 when
    the model could not be used, 2 when the arguments or projects cannot be used."""
    progress = progress or sys.stderr
    if cases < 1:
        out.write("quill bench completion: --cases must be at least 1\n")
        return 2
    if prompt_mode not in PROMPT_MODES:
        out.write(f"quill bench completion: --prompt-mode must be one of {PROMPT_MODES}\n")
        return 2
    if model_path and not Path(model_path).expanduser().is_file():
        out.write(f"quill bench completion: --model-path {model_path} is not a file\n")
        return 2
    specs = list(projects) or list(DEFAULT_PROJECTS)
    planned: list[tuple[Path, list[QualityCase]]] = []
    per_project = [
        cases // len(specs) + (1 if i < cases % len(specs) else 0) for i in range(len(specs))
    ]
    for spec, count in zip(specs, per_project, strict=True):
        if count == 0:
            continue
        try:
            root = fetch_project(spec, cache_dir or default_cache_dir())
        except ValueError as exc:
            out.write(f"quill bench completion: {spec}: {exc}\n")
            return 2
        label = spec if not Path(spec).expanduser().is_dir() else root.name
        chosen = sample_cases(project_cases(label, root), count, seed)
        if not chosen:
            out.write(f"quill bench completion: {spec}: no lines inside function bodies\n")
            return 2
        planned.append((root, chosen))
    total = sum(len(c) for _, c in planned) * len(MODES)
    results: list[CaseResult] = []
    model_info: dict[str, str] = {}
    done = [0]
    with tempfile.TemporaryDirectory(prefix="quill-bench-quality-") as tmp:
        try:
            for root, chosen in planned:
                options = _settings(prompt_mode, model_path, endpoint, model, Path(tmp))
                results += asyncio.run(
                    _run_project(
                        root, chosen, options, prompt_mode, progress, model_info, done, total
                    )
                )
        except BenchSetupError as exc:
            out.write(f"quill bench completion: {exc}\n")
            return 1
    summary = [
        {
            "project": chosen[0].project,
            "cases": len(chosen),
            "crossFile": sum(c.cross_file for c in chosen),
        }
        for _, chosen in planned
    ]
    figures = compute_figures(
        results, summary, model_info, seed=seed, requested_mode=prompt_mode, max_tokens=MAX_TOKENS
    )
    for mode in ("withContext", "withoutContext"):
        if figures[mode]["errors"] == len(results):
            out.write(f"quill bench completion: every request failed ({mode})\n")
            return 1
    if json_only:
        out.write(json.dumps({**figures, "perCase": [case_json(r) for r in results]}) + "\n")
        return 0
    write_report(figures, out)
    out.write(json.dumps(figures) + "\n")
    return 0
