"""``quill bench soak``: completions, code actions and chat together, for a while, against one
real ``quill lsp`` process over stdio; memory and tasks are sampled as it goes.

One driver loop types into a copy of the workspace (an incremental ``didChange`` and an
automatic ``textDocument/inlineCompletion`` per keystroke, about eight a second), runs a code
action (``quill.explain``, ``quill.findBugs``) every ``action_every_s`` seconds and a chat
question (``quill/chat``, continuing one session) every ``chat_every_s`` seconds, each
without waiting for the one before. Every ``sample_every_s`` seconds ``quill/status`` gives the
server's resident memory, asyncio tasks and threads (``process``).

The first ``warmup_share`` of the run is warm-up (models load, caches fill). After it, the
RSS growth is the last sample against the first one after warm-up; at the end the driver stops,
waits for the server to go idle, and compares the task count with the one after warm-up: tasks
left over are leaks. Errors are answers with an ``error`` member or requests left unanswered
past their timeout. Latency percentiles are per feature, measured by the client.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from quill.bench.completion_workspace import copy_workspace
from quill.bench.soak_report import Sample, SoakResult, write_report
from quill.lsp.client import Call, ClientError, StdioClient, null_answers, quill_lsp_command

__all__ = ["run_soak", "run_soak_bench"]

INITIALIZE_TIMEOUT_S = 60.0
#: how long an answer may take before it counts as an error (chat on a CPU model is slow)
TIMEOUTS_S = {"completion": 30.0, "action": 180.0, "chat": 180.0, "status": 30.0}
KEYSTROKE_GAP_S = 0.12
IDLE_WAIT_S = 60.0
#: settings that keep each answer short, so that many fit in a run
SOAK_SETTINGS = {"chat": {"maxTokens": 48}, "actions": {"maxTokens": 48}}


@dataclass
class _Pending:
    feature: str
    call: Call
    sent: float


class _Driver:
    def __init__(self, client: StdioClient, result: SoakResult, started: float) -> None:
        self.client = client
        self.result = result
        self.started = started
        self.pending: list[_Pending] = []

    def send(self, feature: str, method: str, params: Any) -> None:
        call = self.client.call(method, params)
        self.pending.append(_Pending(feature, call, time.perf_counter()))
        self.result.sent[feature] = self.result.sent.get(feature, 0) + 1

    def collect(self, *, final: bool = False) -> None:
        """Account for the answers that arrived (and, when ``final``, those still missing)."""
        now = time.perf_counter()
        keep: list[_Pending] = []
        for p in self.pending:
            answered = p.call.arrived is not None
            late = now - p.sent > TIMEOUTS_S[p.feature]
            if not answered and not late and not final:
                keep.append(p)
                continue
            if answered and p.call.error is None:
                rtt = p.call.rtt_ms
                if rtt is not None:
                    self.result.latencies_ms.setdefault(p.feature, []).append(rtt)
            else:
                # a cancelled completion (superseded by the next keystroke) is not an error
                error = p.call.error if answered else None
                if isinstance(error, dict) and error.get("code") == -32800:
                    continue
                self.result.errors[p.feature] = self.result.errors.get(p.feature, 0) + 1
                why = json.dumps(error)[:200] if error is not None else "no answer in time"
                self.result.error_examples.append(f"{p.feature}: {why}")
        self.pending = keep

    def sample(self) -> dict[str, Any] | None:
        try:
            status = self.client.request("quill/status", {}, timeout=TIMEOUTS_S["status"])
        except ClientError as exc:
            self.result.errors["status"] = self.result.errors.get("status", 0) + 1
            self.result.error_examples.append(f"status: {exc}")
            return None
        process = status.get("process") or {}
        self.result.samples.append(
            Sample(
                time.perf_counter() - self.started,
                int(process.get("rssBytes", 0)),
                int(process.get("tasks", 0)),
                int(process.get("threads", 0)),
            )
        )
        return status

    def settle(self) -> int | None:
        """Wait for every answer and for the server to be idle; its task count then."""
        deadline = time.perf_counter() + IDLE_WAIT_S
        while self.pending and time.perf_counter() < deadline:
            self.collect()
            self.client.sleep(0.2)
        self.collect(final=True)
        for _ in range(20):
            self.client.sleep(0.5)
            status = self.sample()
            if status is not None and not status.get("busy"):
                return self.result.samples[-1].tasks
        return None


LANGUAGE_IDS = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
}


def _source_files(workspace: Path, copied: Sequence[Path]) -> list[Path]:
    found = []
    for rel in copied:
        if rel.suffix.lower() not in LANGUAGE_IDS:
            continue
        try:
            text = (workspace / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if 40 <= text.count("\n") <= 3000:
            found.append(rel)
    return found


def _change(
    client: StdioClient, uri: str, version: int, line: int, start: int, end: int, text: str
) -> None:
    """One incremental ``didChange``: characters ``start:end`` of ``line`` become ``text``."""
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": line, "character": start},
                        "end": {"line": line, "character": end},
                    },
                    "text": text,
                }
            ],
        },
    )


def run_soak(
    workspace: Path,
    files: Sequence[Path],
    *,
    duration_s: float,
    warmup_share: float = 0.25,
    sample_every_s: float = 5.0,
    action_every_s: float = 20.0,
    chat_every_s: float = 30.0,
    seed: int = 0,
    command: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> SoakResult:
    """Drive one ``quill lsp`` in ``workspace`` for ``duration_s`` seconds (see the module
    docstring). Raises :class:`ClientError` when the server cannot be started."""
    rng = random.Random(seed)
    result = SoakResult(duration_s=duration_s, warmup_s=duration_s * warmup_share)
    client = StdioClient(
        list(command or quill_lsp_command()),
        cwd=workspace,
        env=env,
        stderr_log=log,
        answer=null_answers,
    )
    started = time.perf_counter()
    driver = _Driver(client, result, started)
    try:
        client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "quill-bench-soak"},
                "rootUri": workspace.as_uri(),
                "workspaceFolders": [{"uri": workspace.as_uri(), "name": workspace.name}],
                "capabilities": {"textDocument": {"inlineCompletion": {}}},
                "initializationOptions": SOAK_SETTINGS,
            },
            timeout=INITIALIZE_TIMEOUT_S,
        )
        client.notify("initialized", {})
        docs: dict[str, list[str]] = {}
        versions: dict[str, int] = {}
        for rel in files:
            uri = (workspace / rel).as_uri()
            text = (workspace / rel).read_text(encoding="utf-8")
            docs[uri] = text.split("\n")
            versions[uri] = 1
            client.notify(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": uri,
                        "languageId": LANGUAGE_IDS[rel.suffix.lower()],
                        "version": 1,
                        "text": text,
                    }
                },
            )
        uris = list(docs)
        session_id: str | None = None
        chat_call: Call | None = None
        next_sample = next_action = 0.0
        next_chat = 2.0
        typed: tuple[str, int, str, int] | None = None  # uri, line, text to type, typed so far
        settled_s = 0.0  # the wait for idleness after warm-up does not count as driving
        while (now := time.perf_counter() - started) < duration_s + settled_s:
            if result.tasks_after_warmup is None and now >= result.warmup_s:
                # the idle task count after warm-up: what the end is compared with
                settling = time.perf_counter()
                result.tasks_after_warmup = driver.settle()
                settled_s = time.perf_counter() - settling
                chat_call = None
                next_sample = 0.0
                continue
            if now >= next_sample:
                driver.sample()
                next_sample = now + sample_every_s
            if typed is None:
                uri = rng.choice(uris)
                lines = docs[uri]
                choices = [i for i, line in enumerate(lines) if len(line.strip()) > 8]
                line = rng.choice(choices) if choices else 0
                original = lines[line]
                indent = len(original) - len(original.lstrip())
                # delete the rest of the line after its indentation, then type it again
                lines[line] = original[:indent]
                versions[uri] += 1
                _change(client, uri, versions[uri], line, indent, len(original), "")
                typed = (uri, line, original, indent)
            uri, line, original, at = typed
            if at < len(original):
                char = original[at]
                docs[uri][line] = original[: at + 1]
                versions[uri] += 1
                _change(client, uri, versions[uri], line, at, at, char)
                driver.send(
                    "completion",
                    "textDocument/inlineCompletion",
                    {
                        "textDocument": {"uri": uri},
                        "position": {"line": line, "character": at + 1},
                        "context": {"triggerKind": 2},
                    },
                )
                typed = (uri, line, original, at + 1)
            else:
                typed = None
            if now >= next_action:
                command_name = rng.choice(["quill.explain", "quill.findBugs"])
                spot = {"line": line, "character": 0}
                driver.send(
                    "action",
                    "workspace/executeCommand",
                    {"command": command_name, "arguments": [uri, {"start": spot, "end": spot}]},
                )
                next_action = now + action_every_s
            if now >= next_chat and (chat_call is None or chat_call.arrived is not None):
                if chat_call is not None and isinstance(chat_call.result, dict):
                    session_id = chat_call.result.get("sessionId", session_id)
                params: dict[str, Any] = {
                    "message": rng.choice(
                        [
                            "What does this file do?",
                            "Which function here is the most complex?",
                            "Name one thing that could go wrong in this code.",
                        ]
                    ),
                    "uri": uri,
                    "position": {"line": line, "character": 0},
                }
                if session_id:
                    params["sessionId"] = session_id
                driver.send("chat", "quill/chat", params)
                chat_call = driver.pending[-1].call
                next_chat = now + chat_every_s
            driver.collect()
            client.sleep(KEYSTROKE_GAP_S)
        # Stop driving; once every answer is in and the server is idle, count its tasks.
        result.tasks_idle_at_end = driver.settle()
        result.alive_at_end = client.proc.poll() is None
    finally:
        client.close()
    return result


def run_soak_bench(
    path: Path | None,
    out: TextIO,
    *,
    duration_s: float = 180.0,
    seed: int = 0,
    env: dict[str, str] | None = None,
    as_json: bool = False,
) -> int:
    """``quill bench soak``: 0 when the run completed (missed targets are reported), 1 when
    the server could not be driven, 2 for bad arguments."""
    root = (path or Path(__file__).resolve().parents[1]).expanduser()
    if duration_s < 10:
        out.write("quill bench soak: --duration must be at least 10 seconds\n")
        return 2
    if not root.is_dir():
        out.write(f"quill bench soak: {root} is not a folder\n")
        return 2
    with tempfile.TemporaryDirectory(prefix="quill-bench-soak-") as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        copied, _truncated = copy_workspace(root, workspace)
        files = _source_files(workspace, copied)
        if not files:
            out.write(f"quill bench soak: no source files of 40-3,000 lines under {root}\n")
            return 2
        rng = random.Random(seed)
        chosen = rng.sample(files, min(4, len(files)))
        try:
            result = run_soak(
                workspace,
                chosen,
                duration_s=duration_s,
                sample_every_s=max(2.0, duration_s / 40),
                action_every_s=max(5.0, duration_s / 12),
                chat_every_s=max(8.0, duration_s / 8),
                seed=seed,
                env=env,
                log=Path(tmp) / "server.log",
            )
        except ClientError as exc:
            out.write(f"quill bench soak: {exc}\n")
            return 1
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
    report = result.to_json()
    if not as_json:
        write_report(report, chosen, out)
    out.write(json.dumps(report) + "\n")
    return 0
