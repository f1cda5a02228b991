"""The figures and the report of ``quill bench completion --quality``: per mode (with and
without Quill's context) exact match, edit similarity, the cross-file share, latency and the
context actually sent; the ratio of the two modes; readable lines and the per-case JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TextIO

from quill.bench.completion_quality_cases import QualityCase
from quill.stats import percentile

__all__ = ["Answer", "CaseResult", "case_json", "compute_figures", "write_report"]


@dataclass
class Answer:
    prediction: str
    exact: bool
    similarity: float
    total_ms: float
    model_ms: float
    reason: str
    context_tokens: int
    dropped: bool
    file_lines: int = 0  # whole lines of the file before the cursor in the prompt


@dataclass
class CaseResult:
    case: QualityCase
    answers: dict[str, Answer] = field(default_factory=dict)


def _mode_figures(results: list[CaseResult], mode: str) -> dict[str, Any]:
    answers = [r.answers[mode] for r in results]
    cross = [r.answers[mode] for r in results if r.case.cross_file]
    n = len(answers)

    def share(items: list[Answer]) -> float | None:
        return round(sum(a.exact for a in items) / len(items), 4) if items else None

    def mean_similarity(items: list[Answer]) -> float | None:
        return round(sum(a.similarity for a in items) / len(items), 4) if items else None

    return {
        "exactMatch": share(answers),
        "editSimilarity": mean_similarity(answers),
        "crossFile": {
            "cases": len(cross),
            "exactMatch": share(cross),
            "editSimilarity": mean_similarity(cross),
        },
        "answered": sum(1 for a in answers if a.prediction),
        "errors": sum(1 for a in answers if a.reason.startswith("model error")),
        "latencyMs": {
            "p50": percentile((a.total_ms for a in answers), 50),
            "p90": percentile((a.total_ms for a in answers), 90),
        },
        "modelMs": {
            "p50": percentile((a.model_ms for a in answers), 50),
            "p90": percentile((a.model_ms for a in answers), 90),
        },
        "contextTokensMean": round(sum(a.context_tokens for a in answers) / n, 1) if n else 0,
        "contextDropped": sum(1 for a in answers if a.dropped),
        "fileLinesMean": round(sum(a.file_lines for a in answers) / n, 1) if n else 0,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def compute_figures(
    results: list[CaseResult],
    projects: list[dict[str, Any]],
    model_info: dict[str, str],
    *,
    seed: int,
    requested_mode: str,
    max_tokens: int,
) -> dict[str, Any]:
    with_ctx, without = _mode_figures(results, "with"), _mode_figures(results, "without")
    met = (with_ctx["editSimilarity"] or 0) > (without["editSimilarity"] or 0) and (
        with_ctx["exactMatch"] or 0
    ) >= (without["exactMatch"] or 0)
    return {
        "bench": "completion-quality",
        "model": model_info.get("model", "?"),
        "promptMode": model_info.get("promptMode", requested_mode),
        "promptModeSetting": requested_mode,
        "maxTokens": max_tokens,
        "seed": seed,
        "cases": len(results),
        "projects": projects,
        "withContext": with_ctx,
        "withoutContext": without,
        "withVsWithout": {
            "exactMatch": _ratio(with_ctx["exactMatch"], without["exactMatch"]),
            "editSimilarity": _ratio(with_ctx["editSimilarity"], without["editSimilarity"]),
        },
        "target": "with context higher (edit similarity higher, exact match not lower)",
        "met": met,
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, fmt: str = ".3f") -> str:
    return "n/a" if value is None else format(value, fmt)


def write_report(figures: dict[str, Any], out: TextIO) -> None:
    projects = ", ".join(f"{p['project']} ({p['cases']})" for p in figures["projects"])
    out.write(
        f"completion quality: {figures['cases']} held-out lines from {projects}\n"
        f"model {figures['model']}, prompt {figures['promptMode']} "
        f"(setting {figures['promptModeSetting']}), at most {figures['maxTokens']} tokens, "
        f"seed {figures['seed']}\n"
    )
    cross_n = figures["withContext"]["crossFile"]["cases"]
    out.write(
        f"{'':16} {'exact':>7} {'edit sim':>8}   {'cross-file (' + str(cross_n) + ')':>18}"
        f" {'p50 ms':>7} {'p90 ms':>7} {'ctx tok':>7} {'file ln':>7} {'answered':>8}\n"
    )
    for key, label in (("withContext", "with context"), ("withoutContext", "without context")):
        m = figures[key]
        cross = m["crossFile"]
        cross_text = f"{_pct(cross['exactMatch'])} / {_num(cross['editSimilarity'])}"
        out.write(
            f"{label:16} {_pct(m['exactMatch']):>7} {_num(m['editSimilarity']):>8}   "
            f"{cross_text:>18} {_num(m['latencyMs']['p50'], '.0f'):>7} "
            f"{_num(m['latencyMs']['p90'], '.0f'):>7} {m['contextTokensMean']:>7} "
            f"{m['fileLinesMean']:>7} {m['answered']:>8}\n"
        )
        if m["errors"] or m["contextDropped"]:
            out.write(
                f"  {label}: {m['errors']} model errors, context missed its deadline "
                f"{m['contextDropped']} times\n"
            )
    ratio = figures["withVsWithout"]
    out.write(
        f"with vs without context: exact match x{_num(ratio['exactMatch'], '.2f')}, "
        f"edit similarity x{_num(ratio['editSimilarity'], '.2f')} "
        f"(target: with context higher: {'met' if figures['met'] else 'MISSED'})\n"
    )


def case_json(result: CaseResult) -> dict[str, Any]:
    c = result.case
    return {
        "project": c.project,
        "path": c.rel,
        "line": c.line + 1,
        "target": c.target,
        "crossFile": c.cross_file,
        **{
            mode: {
                "prediction": a.prediction,
                "exact": a.exact,
                "similarity": round(a.similarity, 4),
                "ms": round(a.total_ms, 1),
                "contextTokens": a.context_tokens,
                "fileLines": a.file_lines,
                "reason": a.reason,
            }
            for mode, a in result.answers.items()
        },
    }
