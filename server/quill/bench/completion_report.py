"""The figures of ``quill bench completion`` and its report: readable lines with their
targets, then one JSON line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from quill.bench.completion_session import Session
from quill.bench.completion_typist import COLD_SETTLE_CAP_S, SETTLE_CAP_S, Inline, Tally
from quill.stats import percentile

__all__ = ["TARGETS", "compute_figures", "write_report"]

TARGETS: dict[str, float] = {
    "overheadMsP50": 5.0,
    "overheadMsP99": 20.0,
    "supersededModelShare": 0.10,
    "typeThroughHitRate": 1.0,
    "firstSuggestionMsP50": 300.0,
}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return round(a / b, digits) if a is not None and b else None


def compute_figures(
    sessions: list[Session], tally: Tally, requested: int, seed: int, path: Path
) -> dict[str, Any]:
    big = sessions[-1] if sessions and sessions[-1].name == "big-file" else None
    real = sessions[0] if sessions and sessions[0].name == "real-files" else None

    def status_sum(key: str) -> int:
        return sum(int(_num(s.status.get(key)) or 0) for s in sessions)

    requests = status_sum("requests")
    superseded = status_sum("superseded")
    superseded_model = status_sum("supersededAfterModelCall")
    # ``modelCalls`` counts the requests that finished after calling the model; the ones
    # superseded after reaching it cost a model call too.
    finished_model_calls = status_sum("modelCalls")
    model_calls = finished_model_calls + superseded_model
    keystrokes = tally.keystrokes

    through = [r for r in tally.inline if r.origin in ("accept", "natural")]
    accepted = [r for r in through if r.origin == "accept"]
    undo = [r for r in tally.inline if r.origin == "undo"]
    cache_rtts = [r.call.rtt_ms for r in tally.inline if r.hit and r.call.rtt_ms is not None]

    pauses = [r for r in tally.inline if r.pause]
    cold: Inline | None = None
    warm: list[float] = []
    by_kind: dict[str, list[float]] = {"line_start": [], "line_end": []}
    for s in sessions:
        mine = [r for r in pauses if r.session == s.index]
        if mine and cold is None:
            cold = mine[0]
        for r in mine[1:]:
            if r.text and r.call.rtt_ms is not None:
                warm.append(r.call.rtt_ms)
                by_kind.setdefault(r.kind, []).append(r.call.rtt_ms)
    with_suggestion = sum(1 for r in pauses if r.text)
    unanswered = sum(1 for r in pauses if r.capped or r.call.arrived is None)

    baseline = [ms for s in sessions for ms in s.baseline_ms]
    baseline_p50 = percentile(baseline, 50)
    overhead_p50 = _num(big.status.get("overheadMsP50")) if big else None
    overhead_p99 = _num(big.status.get("overheadMsP99")) if big else None
    cache_p50 = percentile(cache_rtts, 50)
    inline_rtts = [r.call.rtt_ms for r in tally.inline if r.call.rtt_ms is not None]

    figures: dict[str, Any] = {
        "bench": "completion",
        "path": str(path),
        "seed": seed,
        "keystrokesRequested": requested,
        "keystrokes": keystrokes,
        "overheadMsP50": overhead_p50,
        "overheadMsP99": overhead_p99,
        "overheadMsP50RealFiles": _num(real.status.get("overheadMsP50")) if real else None,
        "overheadMsP99RealFiles": _num(real.status.get("overheadMsP99")) if real else None,
        "cacheHitRttMsP50": cache_p50,
        "cacheHitRttMsP99": percentile(cache_rtts, 99),
        "cacheHitSamples": len(cache_rtts),
        "requests": requests,
        "inlineRequestsSent": len(tally.inline),
        "inlineRequestsNonEmpty": sum(1 for r in tally.inline if r.text),
        "inlineRttMsP50": percentile(inline_rtts, 50),
        "modelCalls": model_calls,
        "modelCallsFinished": finished_model_calls,
        "modelCallsPer100Keystrokes": round(100.0 * model_calls / keystrokes, 2)
        if keystrokes
        else None,
        "superseded": superseded,
        "supersededAfterModelCall": superseded_model,
        "supersededModelShare": round(superseded_model / superseded, 4) if superseded else None,
        "typeThroughAttempts": len(through),
        "typeThroughHits": sum(1 for r in through if r.hit),
        "typeThroughHitRate": round(sum(1 for r in through if r.hit) / len(through), 4)
        if through
        else None,
        "typeThroughAcceptAttempts": len(accepted),
        "typeThroughAcceptHits": sum(1 for r in accepted if r.hit),
        "acceptedByTyping": tally.accepted_by_typing,
        "reshownAfterUndo": sum(1 for r in undo if r.hit),
        "undos": len(undo),
        "firstSuggestionMsP50": percentile(warm, 50),
        "firstSuggestionSamples": len(warm),
        # at the start of a line just moved to (the prompt is new to the model's cache) and
        # after the last character of a line just typed (all but the new tokens are cached)
        "firstSuggestionAtNewLineMsP50": percentile(by_kind["line_start"], 50),
        "firstSuggestionAtNewLineSamples": len(by_kind["line_start"]),
        "firstSuggestionWhileTypingMsP50": percentile(by_kind["line_end"], 50),
        "firstSuggestionWhileTypingSamples": len(by_kind["line_end"]),
        "coldFirstAnswerMs": round(cold.call.rtt_ms, 1)
        if cold is not None and cold.call.rtt_ms is not None
        else None,
        "coldFirstAnswerHadSuggestion": bool(cold is not None and cold.text),
        "coldFirstAnswerCapped": bool(cold is not None and cold.capped),
        "pausePoints": len(pauses),
        "pausesWithSuggestion": with_suggestion,
        "pausesUnanswered": unanswered,
        "baselineMsP50": baseline_p50,
        "baselineMsP99": percentile(baseline, 99),
        "baselineSamples": len(baseline),
        "overheadToBaselineRatio": _ratio(overhead_p50, baseline_p50, 2),
        "cacheHitRttToBaselineRatio": _ratio(cache_p50, baseline_p50, 2),
        "cacheHitRate": _ratio(
            sum(
                (_num(s.status.get("cacheHitRate")) or 0.0) * (_num(s.status.get("requests")) or 0)
                for s in sessions
            ),
            float(requests) if requests else None,
            4,
        ),
        "sessions": [
            {
                "name": s.name,
                "files": s.files,
                "fileLines": s.file_lines,
                "keystrokes": s.keystrokes,
                "linesTyped": s.lines_typed,
                "wallS": round(s.wall_s, 2),
                "model": s.model_state,
                "completion": s.status,
                "baselineMsP50": percentile(s.baseline_ms, 50),
                "lastPromptTokens": s.prompt_tokens,
            }
            for s in sessions
        ],
        "targets": dict(TARGETS),
    }
    figures["met"] = {
        "overheadMsP50": _le(overhead_p50, TARGETS["overheadMsP50"]),
        "overheadMsP99": _le(overhead_p99, TARGETS["overheadMsP99"]),
        "supersededModelShare": _le(
            figures["supersededModelShare"], TARGETS["supersededModelShare"]
        ),
        "typeThroughHitRate": None
        if figures["typeThroughHitRate"] is None
        else figures["typeThroughHitRate"] >= TARGETS["typeThroughHitRate"],
        "firstSuggestionMsP50": _le(
            figures["firstSuggestionMsP50"], TARGETS["firstSuggestionMsP50"]
        ),
    }
    return figures


def _le(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


def _ms(value: Any) -> str:
    number = _num(value)
    if number is None:
        return "n/a"
    return f"{number:,.0f} ms" if number >= 100 else f"{number:.2f} ms"


def _pct(value: Any) -> str:
    number = _num(value)
    return "n/a" if number is None else f"{100 * number:.1f}%"


def _verdict(met: bool | None) -> str:
    return "no data" if met is None else ("met" if met else "MISSED")


def write_report(figures: dict[str, Any], out: TextIO) -> None:
    met = figures["met"]
    w = out.write
    w(f"Quill completion benchmark: {figures['path']} (seed {figures['seed']})\n")
    for s in figures["sessions"]:
        pairs = zip(s["files"], s["fileLines"], strict=True)
        files = ", ".join(f"{f} ({n} lines)" for f, n in pairs)
        w(
            f"  {s['name']}: {s['keystrokes']} keystrokes over {s['linesTyped']} lines in "
            f"{s['wallS']:.1f} s; {files}\n"
        )
        w(f"    model status: {s['model']}\n")
    w("server overhead per completion, excluding model and debounce (quill/status):\n")
    big = next((s for s in figures["sessions"] if s["name"] == "big-file"), None)
    label = f"{big['fileLines'][0]:,}-line file" if big else "big file"
    w(
        f"  {label}: p50 {_ms(figures['overheadMsP50'])} (target <= 5 ms, "
        f"{_verdict(met['overheadMsP50'])}), p99 {_ms(figures['overheadMsP99'])} "
        f"(target <= 20 ms, {_verdict(met['overheadMsP99'])})\n"
    )
    w(
        f"  real files:      p50 {_ms(figures['overheadMsP50RealFiles'])}, "
        f"p99 {_ms(figures['overheadMsP99RealFiles'])}\n"
    )
    w(
        f"client round trip of cache hits: p50 {_ms(figures['cacheHitRttMsP50'])}, "
        f"p99 {_ms(figures['cacheHitRttMsP99'])} ({figures['cacheHitSamples']} hits)\n"
    )
    w(
        f"baseline round trip (quill/status): p50 {_ms(figures['baselineMsP50'])}, "
        f"p99 {_ms(figures['baselineMsP99'])} ({figures['baselineSamples']} requests); "
        f"overhead p50 / baseline p50 = {figures['overheadToBaselineRatio']}x; "
        f"cache-hit round trip p50 / baseline p50 = {figures['cacheHitRttToBaselineRatio']}x\n"
    )
    w(
        f"model calls: {figures['modelCalls']} ({figures['modelCallsFinished']} finished, the "
        f"rest superseded) for {figures['keystrokes']} keystrokes = "
        f"{figures['modelCallsPer100Keystrokes']} per 100 keystrokes "
        f"({figures['requests']} completions served, cache hit rate "
        f"{_pct(figures['cacheHitRate'])})\n"
    )
    w(
        f"superseded requests: {figures['superseded']}, of which reached the model: "
        f"{figures['supersededAfterModelCall']} ({_pct(figures['supersededModelShare'])}; "
        f"target <= 10%, {_verdict(met['supersededModelShare'])})\n"
    )
    w(
        f"type-through: {figures['typeThroughHits']}/{figures['typeThroughAttempts']} keystrokes "
        f"answered with exactly the rest of the suggestion ({_pct(figures['typeThroughHitRate'])}"
        f"; target 100%, {_verdict(met['typeThroughHitRate'])}); "
        f"{figures['acceptedByTyping']} suggestions accepted by typing "
        f"({figures['typeThroughAcceptHits']}/{figures['typeThroughAcceptAttempts']}), "
        f"re-shown after undo {figures['reshownAfterUndo']}/{figures['undos']}\n"
    )
    cold = "with a suggestion" if figures["coldFirstAnswerHadSuggestion"] else "empty"
    if figures["coldFirstAnswerCapped"]:
        cold = f"no answer within {COLD_SETTLE_CAP_S:.0f} s"
    w(
        f"time to first suggestion (embedded model), after pauses: p50 "
        f"{_ms(figures['firstSuggestionMsP50'])} over {figures['firstSuggestionSamples']} "
        f"(target <= 300 ms, {_verdict(met['firstSuggestionMsP50'])}); cold first answer "
        f"{_ms(figures['coldFirstAnswerMs'])} ({cold}); {figures['pausesWithSuggestion']} of "
        f"{figures['pausePoints']} pauses got a suggestion, {figures['pausesUnanswered']} "
        f"got no answer while the user waited ({SETTLE_CAP_S:.0f} s)\n"
        f"  of which at the start of a line just moved to: p50 "
        f"{_ms(figures['firstSuggestionAtNewLineMsP50'])} over "
        f"{figures['firstSuggestionAtNewLineSamples']}; after typing a line: p50 "
        f"{_ms(figures['firstSuggestionWhileTypingMsP50'])} over "
        f"{figures['firstSuggestionWhileTypingSamples']}\n"
    )
    w(json.dumps(figures, sort_keys=False) + "\n")
