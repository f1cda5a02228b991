"""`quill bench gateway`, run small against the real gateway: every session completes with
only its own answer, the history opens through the WebSocket, and the report has its shape.
Timings are reported, never asserted (the machines are shared)."""

from __future__ import annotations

import io
import json
from typing import Any

from quill.bench.gateway_bench import run_gateway_bench, run_gateway_benchmark
from quill.bench.gateway_clients import SessionRun, answer_text, chunk_text

SESSIONS, CHUNKS, HISTORY = 5, 6, 200


def _check(report: dict[str, Any], clients: str) -> None:
    assert report["clients"] == clients
    assert report["promptLeaks"] == 0
    for part in ("direct", "gateway"):
        figures = report[part]
        assert isinstance(figures, dict)
        assert figures["sessions"] == SESSIONS
        assert figures["completed"] == SESSIONS, figures["errors"]
        assert figures["leaks"] == 0 and figures["misordered"] == 0
        assert figures["chunks"] == SESSIONS * CHUNKS
        assert set(figures["latencyMs"]) == {"p50", "p99", "max"}
    met = report["met"]
    assert isinstance(met, dict)
    assert met["noLeaks"] is True and met["allCompleted"] is True
    assert set(met) == {"noLeaks", "allCompleted", "overheadP99", "openHistory"}
    history = report["history"]
    assert isinstance(history, dict)
    assert history["messages"] == HISTORY
    assert history["ws"]["available"] is True and history["ws"]["messages"] == HISTORY
    assert history["service"]["messages"] == HISTORY
    assert history["continueWs"]["ok"] is True
    assert set(report["gatewayAddedMs"]) == {"p50", "p99", "ratioP99"}


def test_the_command_reports_lines_and_one_json_line() -> None:
    out = io.StringIO()
    code = run_gateway_bench(out, sessions=SESSIONS, chunks=CHUNKS, history=HISTORY, pace_ms=5.0)
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Quill gateway: 5 sessions at once")
    assert any(line.startswith("leaks: met") for line in lines), lines
    _check(json.loads(lines[-1]), "process")


async def test_clients_in_the_servers_own_loop() -> None:
    report = await run_gateway_benchmark(
        sessions=SESSIONS, chunks=CHUNKS, history=HISTORY, pace_s=0.005, clients="loop"
    )
    _check(report, "loop")


def test_a_chunk_of_another_session_counts_as_a_leak() -> None:
    run = SessionRun(3)
    run.take(chunk_text(3, 0), 1.0, 3)
    run.take(chunk_text(4, 1), 2.0, 3)  # another session's words
    run.take(chunk_text(3, 2), 3.0, 3)  # skips chunk 1
    run.finish(answer_text(3, 3).strip(), 3)
    assert run.leaks == 1 and run.misordered == 1
    assert run.completed is False
    clean = SessionRun(1)
    for i in range(2):
        clean.take(chunk_text(1, i), float(i), 2)
    clean.finish(answer_text(1, 2).strip(), 2)
    assert (clean.leaks, clean.misordered, clean.completed) == (0, 0, True)


def test_bad_arguments_get_one_line() -> None:
    out = io.StringIO()
    assert run_gateway_bench(out, sessions=0) == 2
    assert out.getvalue().count("\n") == 1
