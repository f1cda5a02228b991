"""``quill bench gateway``: many WebSocket sessions chatting at once through the real gateway,
the gateway's cost per streamed chunk against a direct call in the same run, and how long a
session with a long history takes to open.

The gateway runs as ``quill serve`` runs it (uvicorn on 127.0.0.1, a real app object, the
token checked), started in this process by :func:`~quill.gateway.runner.start_gateway`; the
chat history lives in a temporary SQLite file. The model is :class:`FixedAnswerProvider`,
registered in the app's router as the only model of the chat route: it answers each session
with an answer of its own (``s<session>c<chunk>`` words), one chunk every ``pace_s`` seconds,
and records the monotonic time at which it yielded each chunk. The sessions' paces are
staggered evenly over one period, as independent streams are (a batching server emitting in
lockstep would make the figure a throughput figure).

* **Direct**: ``sessions`` turns at once through the app's chat service (``app.chat.send``,
  then the turn's stream), each chunk timed when the consumer gets it.
* **Gateway**: ``sessions`` WebSocket connections opened first, then one ``chat`` frame sent
  on each at once; the client takes the time when a frame arrives, before parsing it. A leak
  is a chunk on one connection with text that is not the next piece of that connection's own
  answer, or a ``done`` whose text is not it; the model also counts prompts that carry
  another session's words. A session completed when every chunk and the right ``done`` came.
* Per chunk: arrival minus yield (model time excluded). The target is on the gateway's p99;
  the direct figures show what the chat service and the event loop cost without it. The CPU
  time of this process over each phase, per chunk, is reported beside (with the clients in a
  process of their own it is the server's alone), a figure noisy neighbours disturb less.
* **History**: ``history`` messages written through the chat store into one session, which
  is then opened as the chat page opens it (a WebSocket ``history`` request for the last
  :data:`PAGE_MESSAGES`), timed from send to parsed answer, and through ``app.chat.history``
  without the gateway. There is no HTTP route that returns a history. One more turn in that
  session is timed too (its history is trimmed to the budget first); it has no target.

The WebSocket clients run in a process of their own (:mod:`quill.bench.gateway_clients`), as
an editor's do; with ``clients="loop"`` they share the server's event loop, and their
receiving competes with its sending.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

from quill.app import Quill
from quill.bench.gateway_clients import (
    ASKED,
    WORD,
    SessionRun,
    chat_in_process,
    chat_sessions,
    chunk_text,
    question_text,
)
from quill.bench.gateway_history import (
    PAGE_MESSAGES,
    fill_history,
    measure_continue_ws,
    measure_history_service,
    measure_history_ws,
)
from quill.chat.store import ChatStore
from quill.gateway.runner import start_gateway
from quill.models.base import ChatMessage, GenerationOptions, ModelHealth, ModelProvider
from quill.models.errors import ModelCapabilityMissing
from quill.settings_sources import SettingsSources
from quill.stats import percentile

__all__ = [
    "FixedAnswerProvider",
    "measure_history_service",
    "measure_history_ws",
    "run_gateway_bench",
    "run_gateway_benchmark",
]

TARGET_OVERHEAD_P99_MS = 1.0
TARGET_OPEN_MS = 50.0
#: the most one ``history`` request returns
MAX_PAGE = 1000
MODEL = "bench"
#: frames a second per connection: high enough that the history repeats are not throttled
WS_RATE = 10_000.0
Clients = Literal["process", "loop"]
CLIENTS = {"process": "a process of their own", "loop": "the server's own event loop"}


class FixedAnswerProvider(ModelProvider):
    """A model for this benchmark only: each session's answer, chunk by chunk at a fixed
    pace, the monotonic time of every chunk recorded in ``yielded[(session, chunk)]``."""

    def __init__(self, name: str, chunks: int, pace_s: float, sessions: int) -> None:
        super().__init__(name)
        self.chunks = chunks
        self.pace_s = pace_s
        self.sessions = max(1, sessions)
        self.yielded: dict[tuple[int, int], float] = {}
        self.prompt_leaks = 0

    @property
    def provider(self) -> str:
        return "bench"

    async def stream_chat(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncGenerator[str, None]:
        users = [m["content"] for m in messages if m.get("role") == "user"]
        asked = ASKED.search(users[-1]) if users else None
        if asked is None:  # not a bench question (a summary of older turns)
            yield "Earlier turns of the session."
            return
        session = int(asked.group(1))
        everything = " ".join(m.get("content", "") for m in messages)
        named = {int(s) for s in ASKED.findall(everything)}
        named |= {int(s) for s, _ in WORD.findall(everything)}
        if named - {session}:
            self.prompt_leaks += 1
        # staggered: session k starts its period k/sessions of a pace late
        start = time.monotonic() + self.pace_s * (session % self.sessions) / self.sessions
        for i in range(self.chunks):
            delay = start + i * self.pace_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.yielded[(session, i)] = time.monotonic()
            yield chunk_text(session, i)

    async def stream_completion(
        self, prompt: str, options: GenerationOptions, *, suffix: str | None = None
    ) -> AsyncGenerator[str, None]:
        raise ModelCapabilityMissing(f"{self.name}: the bench model only chats", model=self.name)
        yield ""  # pragma: no cover - makes this an async generator

    async def probe(self, *, generate: bool = False) -> ModelHealth:
        return ModelHealth(self.name, self.provider, True, True, model="fixed answers")


def _summary(
    runs: Sequence[SessionRun], model: FixedAnswerProvider, cpu_s: float
) -> dict[str, Any]:
    """Completions, leaks and per-chunk latency; ``cpu_s``: this process's CPU time."""
    latencies = [
        (at - model.yielded[(run.session, i)]) * 1000
        for run in runs
        for i, at in run.arrivals.items()
        if (run.session, i) in model.yielded
    ]
    errors = sorted({run.error for run in runs if run.error})
    return {
        "sessions": len(runs),
        "completed": sum(run.completed for run in runs),
        "leaks": sum(run.leaks for run in runs),
        "misordered": sum(run.misordered for run in runs),
        "chunks": len(latencies),
        "latencyMs": {
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "max": percentile(latencies, 100),
        },
        "cpuMsPerChunk": round(cpu_s * 1000 / len(latencies), 4) if latencies else None,
        "errors": errors[:5],
    }


async def _direct(app: Quill, session: int, chunks: int, limit_s: float) -> SessionRun:
    run = SessionRun(session)
    try:
        async with asyncio.timeout(limit_s):
            turn = await app.chat.send(None, question_text(session))
            async for piece in turn.stream():
                run.take(piece, time.monotonic(), chunks)
            await turn.wait()
            run.finish(turn.answer.strip(), chunks)
    except Exception as exc:  # counted as not completed, named in the report
        run.error = f"{type(exc).__name__}: {exc}"
    return run


def _app(folder: Path, model: FixedAnswerProvider) -> Quill:
    options = {
        "endpoint": None,
        "models": {MODEL: {"provider": "openai", "baseUrl": "http://127.0.0.1:9/v1"}},
        "routes": {"chat": [MODEL]},
        "chat": {"summarizeWithModel": False},
    }
    app = Quill(SettingsSources(initialization_options=options, environ={}))
    app.chat.store = ChatStore(folder / "chat.sqlite3")  # never the user's own history
    old = app.router.providers.get(MODEL)
    app.router.providers[MODEL] = model
    if old is not None:
        app.tasks.spawn(old.aclose(), "close-placeholder-model")
    if app.router.route("chat") != [MODEL]:
        raise RuntimeError(f"the chat route is {app.router.route('chat')}, not the bench model")
    return app


async def run_gateway_benchmark(
    *,
    sessions: int = 100,
    chunks: int = 100,
    history: int = 10_000,
    pace_s: float = 0.02,
    clients: Clients = "process",
) -> dict[str, Any]:
    """Run every measurement (see the module docstring); the report as a dict. ``clients``:
    the WebSocket clients in a ``process`` of their own, or in this event ``loop``."""
    model = FixedAnswerProvider(MODEL, chunks, pace_s, sessions)
    timeout = 60.0 + chunks * pace_s * 4
    with tempfile.TemporaryDirectory(prefix="quill-bench-gateway-") as tmp:
        app = _app(Path(tmp), model)
        try:
            filled = time.monotonic()
            long_session = await asyncio.to_thread(fill_history, app.chat.store, history)
            fill_s = time.monotonic() - filled
            cpu = time.process_time()
            direct_runs = await asyncio.gather(
                *(_direct(app, k, chunks, timeout) for k in range(sessions))
            )
            direct_cpu = time.process_time() - cpu
            running, port, token = await start_gateway(
                app, 0, token_dir=Path(tmp) / "run", ws_rate=WS_RATE, http_rate=WS_RATE
            )
            url = f"ws://127.0.0.1:{port}/ws"
            try:
                chat = chat_in_process if clients == "process" else chat_sessions
                cpu = time.process_time()
                ws_runs = await chat(url, token, range(sessions, 2 * sessions), chunks, timeout)
                gateway_cpu = time.process_time() - cpu
                opened_ws = await measure_history_ws(url, token, long_session)
                whole_ws = await measure_history_ws(url, token, long_session, limit=MAX_PAGE)
                more = await measure_continue_ws(url, token, long_session, 2 * sessions)
            finally:
                await running.stop()
            opened_service = await measure_history_service(app, long_session)
        finally:
            await app.aclose()
    direct, gateway = (
        _summary(direct_runs, model, direct_cpu),
        _summary(ws_runs, model, gateway_cpu),
    )
    d99, g99 = direct["latencyMs"]["p99"], gateway["latencyMs"]["p99"]
    d50, g50 = direct["latencyMs"]["p50"], gateway["latencyMs"]["p50"]
    open_ms = opened_ws["maxMs"] if opened_ws.get("available") else None
    return {
        "sessions": sessions,
        "chunks": chunks,
        "paceMs": round(pace_s * 1000, 3),
        "clients": clients,
        "direct": direct,
        "gateway": gateway,
        "promptLeaks": model.prompt_leaks,
        "gatewayAddedMs": {
            "p50": round(g50 - d50, 3) if g50 is not None and d50 is not None else None,
            "p99": round(g99 - d99, 3) if g99 is not None and d99 is not None else None,
            "ratioP99": round(g99 / d99, 2) if g99 is not None and d99 else None,
        },
        "history": {
            "messages": history,
            "fillS": round(fill_s, 3),
            "httpRoute": None,
            "ws": opened_ws,
            "wsAll": whole_ws,
            "service": opened_service,
            "continueWs": more,
        },
        "targets": {
            "leaks": 0,
            "overheadP99Ms": TARGET_OVERHEAD_P99_MS,
            "openHistoryMs": TARGET_OPEN_MS,
        },
        "met": {
            "noLeaks": gateway["leaks"] + direct["leaks"] + model.prompt_leaks == 0,
            "allCompleted": gateway["completed"] == sessions,
            "overheadP99": g99 is not None and g99 <= TARGET_OVERHEAD_P99_MS,
            "openHistory": open_ms is not None and open_ms <= TARGET_OPEN_MS,
        },
    }


def _ok(met: bool) -> str:
    return "met" if met else "MISSED"


def _write_report(report: dict[str, Any], out: TextIO) -> None:
    g, d, added, met = report["gateway"], report["direct"], report["gatewayAddedMs"], report["met"]
    out.write(
        f"Quill gateway: {report['sessions']} sessions at once, {report['chunks']} chunks each, "
        f"one every {report['paceMs']:g} ms; clients: {CLIENTS[report['clients']]}\n"
    )
    for name, part in (("direct (chat service)", d), ("gateway (WebSocket)", g)):
        lat = part["latencyMs"]
        out.write(
            f"  {name:22} completed {part['completed']}/{part['sessions']}, leaks "
            f"{part['leaks']}, out of order {part['misordered']}; per chunk p50 {lat['p50']} "
            f"ms, p99 {lat['p99']} ms, max {lat['max']} ms (n={part['chunks']}); server CPU "
            f"{part['cpuMsPerChunk']} ms a chunk\n"
        )
        for error in part["errors"]:
            out.write(f"    e.g. {error}\n")
    out.write(
        f"  the gateway adds p50 {added['p50']} ms, p99 {added['p99']} ms (p99 ratio "
        f"{added['ratioP99']}); prompts with another session's words: {report['promptLeaks']}\n"
        f"leaks: {_ok(met['noLeaks'])} (target 0); all sessions completed: "
        f"{_ok(met['allCompleted'])}; gateway chunk latency p99 <= "
        f"{TARGET_OVERHEAD_P99_MS:g} ms: {_ok(met['overheadP99'])}\n"
    )
    h = report["history"]
    out.write(f"history: {h['messages']:,} messages written in {h['fillS']:.1f} s\n")
    for name, part in (
        (f"WebSocket history, last {PAGE_MESSAGES}", h["ws"]),
        (f"WebSocket history, last {MAX_PAGE}", h["wsAll"]),
        (f"app.chat, last {PAGE_MESSAGES}", h["service"]),
    ):
        if part.get("available", True):
            out.write(
                f"  {name:32} first {part['firstMs']} ms, p50 {part['p50Ms']} ms, max "
                f"{part['maxMs']} ms ({part['messages']} messages, {part['repeats']} opens)\n"
            )
        else:
            out.write(f"  {name:32} not measured: {part['why']}\n")
    more = h["continueWs"]
    out.write(
        f"  one more turn in it (WebSocket)  first chunk {more['firstChunkMs']} ms, done "
        f"{more['doneMs']} ms ({'ok' if more['ok'] else 'FAILED'}; no target)\n"
    )
    out.write(
        f"opening the session (WebSocket, worst of {h['ws'].get('repeats', 0)}) <= "
        f"{TARGET_OPEN_MS:g} ms: {_ok(met['openHistory'])}\n"
    )


def run_gateway_bench(
    out: TextIO,
    *,
    sessions: int = 100,
    chunks: int = 100,
    history: int = 10_000,
    pace_ms: float = 20.0,
    clients: Clients = "process",
    as_json: bool = False,
) -> int:
    """``quill bench gateway``: 0 when it ran (missed targets are reported), 1 when the
    gateway could not be served, 2 for bad arguments."""
    if sessions < 1 or chunks < 1 or history < 1 or pace_ms <= 0:
        out.write(
            "quill bench gateway: --sessions, --chunks and --history must be >= 1, "
            "--pace-ms above 0\n"
        )
        return 2
    try:
        report = asyncio.run(
            run_gateway_benchmark(
                sessions=sessions,
                chunks=chunks,
                history=history,
                pace_s=pace_ms / 1000,
                clients=clients,
            )
        )
    except (OSError, RuntimeError) as exc:
        out.write(f"quill bench gateway: {exc}\n")
        return 1
    if not as_json:
        _write_report(report, out)
    out.write(json.dumps(report) + "\n")
    return 0
