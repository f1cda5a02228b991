"""One ``quill lsp`` process of ``quill bench completion``: started, initialized like an
editor, typed into by the :class:`~quill.bench.completion_typist.Typist`, then asked for its
own counters (``quill/status``) and pinged for a baseline round trip."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quill.bench.completion_typist import SETTLE_CAP_S, Spent, Tally, Typist
from quill.bench.completion_workspace import Doc
from quill.lsp.client import ClientError, StdioClient, null_answers

__all__ = ["BenchError", "Session", "run_session"]

BASELINE_PINGS = 50
INITIALIZE_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0


class BenchError(RuntimeError):
    """The server could not be driven; the message is the one-line reason."""


@dataclass
class Session:
    index: int
    name: str
    files: list[str]
    file_lines: list[int]
    keystrokes: int = 0
    lines_typed: int = 0
    wall_s: float = 0.0
    status: dict[str, Any] = field(default_factory=dict)
    baseline_ms: list[float] = field(default_factory=list)
    prompt_tokens: dict[str, Any] | None = None
    model_state: str = ""


def run_session(
    session: Session,
    docs: list[Doc],
    budget: int,
    *,
    root: Path,
    command: Sequence[str],
    env: dict[str, str],
    log: Path,
    seed: int,
    accept_probability: float,
    tally: Tally,
) -> None:
    """Start a server in ``root``, type ``budget`` keystrokes into ``docs`` and fill in the
    figures of ``session``; raises :class:`BenchError` when the server cannot be driven."""
    started = time.perf_counter()
    try:
        client = StdioClient(command, cwd=root, env=env, stderr_log=log, answer=null_answers)
        try:
            _drive(client, session, docs, budget, root, seed, accept_probability, tally)
        finally:
            client.close()
            session.wall_s = time.perf_counter() - started
    except ClientError as exc:
        raise BenchError(str(exc)) from exc


def _drive(
    client: StdioClient,
    session: Session,
    docs: list[Doc],
    budget: int,
    root: Path,
    seed: int,
    accept_probability: float,
    tally: Tally,
) -> None:
    client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "clientInfo": {"name": "quill-bench"},
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": {
                "textDocument": {
                    "inlineCompletion": {},
                    "synchronization": {"dynamicRegistration": False},
                },
                "workspace": {"configuration": False, "workspaceFolders": True},
            },
        },
        timeout=INITIALIZE_TIMEOUT_S,
    )
    client.notify("initialized", {})
    client.request("quill/status", {})
    # Each session draws from its own generators, so its scenario does not depend on
    # how the one before it went.
    rng = random.Random(seed * 1000 + session.index)
    rng_accept = random.Random(seed * 1000 + 500 + session.index)
    before = tally.keystrokes
    typist = Typist(client, session.index, budget, rng, rng_accept, accept_probability, tally)
    for doc in docs:
        typist.open(doc)
    targets = [(d, li) for d in docs for li in d.candidates]
    rng.shuffle(targets)
    try:
        for doc, li in targets:
            session.lines_typed += 1
            typist.type_line(doc, li)
    except Spent:
        pass
    session.keystrokes = tally.keystrokes - before
    # Let the answers still under way arrive, so the server has counted them.
    pending = [r.call for r in tally.inline if r.session == session.index]
    client.wait_until(
        time.perf_counter() + SETTLE_CAP_S,
        lambda: all(c.arrived is not None for c in pending),
    )
    status = client.request("quill/status", {})
    if isinstance(status, dict):
        session.status = dict(status.get("completion") or {})
        session.model_state = f"{status.get('kind', '?')}: {status.get('message', '')}"
    for _ in range(BASELINE_PINGS):
        call = client.call("quill/status", {})
        if not client.wait(call, REQUEST_TIMEOUT_S) or call.rtt_ms is None:
            raise BenchError(client.why("no answer to quill/status"))
        session.baseline_ms.append(call.rtt_ms)
    last = client.request(
        "workspace/executeCommand", {"command": "quill.lastPrompt", "arguments": []}
    )
    if isinstance(last, dict) and isinstance(last.get("tokens"), dict):
        session.prompt_tokens = last["tokens"]
