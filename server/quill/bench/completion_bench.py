"""``quill bench completion``: the completion pipeline, driven the way an editor drives it.

A real ``quill lsp`` process is started over stdio and fed what VS Code sends while someone
types: an incremental ``didChange`` per keystroke followed at once by an automatic
``textDocument/inlineCompletion``, without waiting for the previous answer. The scenario is
replayed from real source files (deterministic for a given seed):

* a temporary copy of the workspace, plus one synthetic file of about 5,000 lines made by
  concatenating real files (the big-file case);
* lines that start statements inside function bodies are picked; the rest of such a line is
  deleted (one change), then the original line is typed again character by character at
  human speed (60-140 ms between keys, a 300-800 ms pause after some tokens);
* at the start of the line and after its last character the simulated user pauses
  (300-800 ms) and waits for the server's answer (up to ``SETTLE_CAP_S``, longer for the
  first answer of a server): that is where the time to the first suggestion is measured;
* type-through: when a suggestion arrives for the cursor, the user sometimes accepts it by
  typing its first 1-5 characters; every such keystroke must be answered with exactly the
  rest of the suggestion. Typing the next character of a shown suggestion while replaying the
  original line counts the same way. A suggestion that was not what the original line says
  is undone afterwards (one change), which must show the suggestion again.

Two server processes run one after the other: one types in real files, one in the synthetic
big file, so the server's overhead percentiles (``quill/status``) of the big file are its
own. Figures go to ``out`` as readable lines with their targets, then one JSON line.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

__all__ = ["TARGETS", "BenchError", "default_bench_path", "run_completion_bench"]

# --------------------------------------------------------------------------- scenario

TYPE_DELAY_S = (0.06, 0.14)
PAUSE_S = (0.3, 0.8)
TOKEN_PAUSE_PROBABILITY = 0.2
TOKEN_BOUNDARIES = frozenset(" (.,:=[")
ACCEPT_PROBABILITY = 0.5
ACCEPT_CHARS = (1, 5)
#: how long the simulated user waits at a pause point for the server's answer
SETTLE_CAP_S = 15.0
#: the same for the first pause of a server, whose answer pays for loading the model
COLD_SETTLE_CAP_S = 45.0
#: how long the last accepted-by-typing keystroke may take to answer before moving on
TYPE_THROUGH_WAIT_S = 2.0
BIG_FILE_LINES = 5000
BIG_FILE_NAME = "quill_bench_big"
REAL_FILES = 4
MIN_FILE_LINES = 100
MIN_CANDIDATES = 3
LINE_CHARS = (3, 100)
BASELINE_PINGS = 50
INITIALIZE_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0

COPY_SKIP_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "venv",
        "build",
        "dist",
        "target",
        "site-packages",
    }
)
COPY_MAX_FILES = 5000
COPY_MAX_BYTES = 64 * 1024 * 1024
FILE_MAX_BYTES = 512 * 1024

#: file extension -> LSP language id (the server decides the language by path first)
LANGUAGE_IDS = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".rb": "ruby",
    ".cs": "csharp",
    ".kt": "kotlin",
    ".swift": "swift",
    ".php": "php",
    ".scala": "scala",
    ".lua": "lua",
}
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", '"""', "'''")

TARGETS: dict[str, float] = {
    "overheadMsP50": 5.0,
    "overheadMsP99": 20.0,
    "supersededModelShare": 0.10,
    "typeThroughHitRate": 1.0,
    "firstSuggestionMsP50": 300.0,
}


class BenchError(RuntimeError):
    """The server could not be driven; the message is the one-line reason."""


class _Spent(Exception):
    """The keystroke budget of a session is used up."""


def default_bench_path() -> Path:
    """Quill's own sources (``server/quill``): the default workspace of the benchmark."""
    return Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- JSON-RPC


@dataclass
class _Call:
    id: int
    method: str
    sent: float = 0.0
    arrived: float | None = None
    result: Any = None
    error: Any = None

    @property
    def rtt_ms(self) -> float | None:
        return None if self.arrived is None else (self.arrived - self.sent) * 1000.0


class _Client:
    """A minimal LSP client over a child process's stdio; a thread reads the frames."""

    def __init__(self, command: Sequence[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log: IO[bytes] = log.open("wb")
        try:
            self.proc = subprocess.Popen(
                list(command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                cwd=cwd,
                env=env,
            )
        except OSError as exc:
            self._log.close()
            raise BenchError(f"cannot start {' '.join(command)}: {exc.strerror or exc}") from exc
        self._cond = threading.Condition()
        self._calls: dict[int, _Call] = {}
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        self.closed_reason: str | None = None
        self.exiting = False
        self._reader = threading.Thread(target=self._read, name="quill-bench-reader", daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ wire

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        reason = "the server closed its output"
        try:
            while True:
                length: int | None = None
                while True:
                    header = stream.readline()
                    if not header:
                        return
                    if header in (b"\r\n", b"\n"):
                        break
                    name, _, value = header.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length is None:
                    reason = "the server sent a frame without Content-Length"
                    return
                body = stream.read(length)
                if len(body) < length:
                    return
                self._dispatch(json.loads(body), time.perf_counter())
        except (ValueError, OSError) as exc:
            reason = f"unreadable message from the server: {exc}"
        finally:
            with self._cond:
                self.closed_reason = self.closed_reason or reason
                self._cond.notify_all()

    def _dispatch(self, msg: Any, now: float) -> None:
        if not isinstance(msg, dict):
            return
        if "method" in msg:
            if "id" in msg:  # a request from the server: answer it so that it never waits
                result: Any = None
                if msg["method"] == "workspace/configuration":
                    items = (msg.get("params") or {}).get("items") or []
                    result = [None for _ in items]
                try:
                    self._write({"jsonrpc": "2.0", "id": msg["id"], "result": result})
                except BenchError:
                    pass
            return
        with self._cond:
            msg_id = msg.get("id")
            call = self._calls.pop(msg_id, None) if isinstance(msg_id, int) else None
            if call is None:
                return
            call.result = msg.get("result")
            call.error = msg.get("error")
            call.arrived = now
            self._cond.notify_all()

    def _write(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg, separators=(",", ":")).encode("utf-8")
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            with self._write_lock:
                stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                stdin.flush()
        except (OSError, ValueError) as exc:
            raise BenchError(self.why(f"cannot write to the server ({exc})")) from exc

    # ------------------------------------------------------------------ calls

    def send(self, method: str, params: Any) -> _Call:
        with self._cond:
            if self.closed_reason is not None:
                raise BenchError(self.why(self.closed_reason))
            call = _Call(next(self._ids), method)
            self._calls[call.id] = call
        call.sent = time.perf_counter()
        self._write({"jsonrpc": "2.0", "id": call.id, "method": method, "params": params})
        return call

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_until(self, deadline: float, ready: Callable[[], bool] = lambda: False) -> bool:
        """Wait until ``ready()`` or ``deadline`` (perf_counter); raise if the server died."""
        with self._cond:
            done = self._cond.wait_for(
                lambda: ready() or self.closed_reason is not None,
                timeout=max(0.0, deadline - time.perf_counter()),
            )
            if self.closed_reason is not None and not self.exiting:
                raise BenchError(self.why(self.closed_reason))
            return bool(done) and ready()

    def sleep(self, seconds: float) -> None:
        self.wait_until(time.perf_counter() + seconds)

    def wait(self, call: _Call, timeout: float) -> bool:
        return self.wait_until(time.perf_counter() + timeout, lambda: call.arrived is not None)

    def request(self, method: str, params: Any, timeout: float = REQUEST_TIMEOUT_S) -> Any:
        call = self.send(method, params)
        if not self.wait(call, timeout):
            raise BenchError(self.why(f"no answer to {method} within {timeout:.0f} s"))
        if call.error is not None:
            message = call.error.get("message") if isinstance(call.error, dict) else call.error
            raise BenchError(f"{method} failed: {message}")
        return call.result

    def why(self, reason: str) -> str:
        """``reason``, with the exit code and the last line of the server's log if any."""
        parts = [reason]
        code = self.proc.poll()
        if code is not None:
            parts.append(f"exit code {code}")
        last = _last_log_line(self.log_path)
        if last:
            parts.append(f"log: {last}")
        return "; ".join(parts)

    def close(self) -> None:
        if self.proc.poll() is None and self.closed_reason is None:
            try:
                self.request("shutdown", None, timeout=10.0)
                self.exiting = True
                self.notify("exit", None)
            except BenchError:
                pass
        self.exiting = True
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self._log.close()


def _last_log_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip()[:300] if lines else ""


# --------------------------------------------------------------------------- documents


def _u16(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


@dataclass
class _Doc:
    path: Path
    uri: str
    language_id: str
    lines: list[str]
    candidates: list[int]  # 0-based line numbers where typing may start
    version: int = 1

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class _Source:
    rel: Path
    text: str
    lines: int
    candidates: list[int]


def _candidate_lines(text: str, suffix: str) -> list[int]:
    """0-based lines that start a statement inside a function body (no docstrings)."""
    lines = text.split("\n")
    found: set[int] = set()
    if suffix in (".py", ".pyi"):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            tree = None
        if tree is not None:
            for func in ast.walk(tree):
                if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(func):
                    if node is func or not isinstance(node, ast.stmt):
                        continue
                    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                        continue  # a docstring or a bare constant
                    found.add(node.lineno - 1)
        else:
            found = {i for i, line in enumerate(lines) if line[:1] in (" ", "\t")}
    else:
        found = {i for i, line in enumerate(lines) if line[:1] in (" ", "\t")}
    out: list[int] = []
    for i in sorted(found):
        if i >= len(lines):
            continue
        content = lines[i].strip()
        if not LINE_CHARS[0] <= len(content) <= LINE_CHARS[1]:
            continue
        if content.startswith(_COMMENT_STARTS) or "\t" in content:
            continue
        out.append(i)
    return out


def _copy_workspace(src: Path, dst: Path) -> tuple[list[Path], bool]:
    """Copy the files under ``src`` to ``dst`` (skipping VCS, caches, vendored trees)."""
    copied: list[Path] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(
            d for d in dirnames if d not in COPY_SKIP_DIRS and not d.startswith(".")
        )
        for name in sorted(filenames):
            source = Path(dirpath) / name
            if source.is_symlink() or not source.is_file():
                continue
            size = source.stat().st_size
            if size > FILE_MAX_BYTES:
                continue
            if len(copied) >= COPY_MAX_FILES or total + size > COPY_MAX_BYTES:
                return copied, True
            rel = source.relative_to(src)
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(rel)
            total += size
    return copied, False


def _sources(root: Path, files: Iterable[Path]) -> list[_Source]:
    out: list[_Source] = []
    for rel in files:
        if rel.suffix.lower() not in LANGUAGE_IDS or rel.name.startswith(BIG_FILE_NAME):
            continue
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        text = text.replace("\r\n", "\n")
        candidates = _candidate_lines(text, rel.suffix.lower())
        if candidates:
            out.append(_Source(rel, text, text.count("\n") + 1, candidates))
    return out


def _make_doc(root: Path, rel: Path, text: str, candidates: list[int]) -> _Doc:
    path = root / rel
    return _Doc(
        path=path,
        uri=path.as_uri(),
        language_id=LANGUAGE_IDS.get(path.suffix.lower(), "plaintext"),
        lines=text.split("\n"),
        candidates=list(candidates),
    )


def _big_file(root: Path, pool: list[_Source], suffix: str, rng: random.Random, size: int) -> _Doc:
    """A file of ``size`` lines made of real files (the last one cut), written to ``root``."""
    same = [s for s in pool if s.rel.suffix.lower() == suffix] or pool
    order = list(same)
    rng.shuffle(order)
    marker = "//" if suffix not in (".py", ".pyi", ".rb") else "#"
    lines: list[str] = []
    candidates: list[int] = []
    for source in itertools.cycle(order):
        if len(lines) >= size:
            break
        lines.append(f"{marker} ---- {source.rel.as_posix()} ----")
        offset = len(lines)
        body = source.text.split("\n")
        if body and body[-1] == "":
            body.pop()
        lines.extend(body)
        candidates.extend(offset + c for c in source.candidates if c < len(body))
    lines = lines[:size]
    candidates = [c for c in candidates if c < size]
    rel = Path(BIG_FILE_NAME + suffix)
    text = "\n".join(lines) + "\n"
    (root / rel).write_text(text, encoding="utf-8")
    return _make_doc(root, rel, text, candidates)


# --------------------------------------------------------------------------- typing


@dataclass
class _Inline:
    """One inlineCompletion request and what came back."""

    call: _Call
    session: int
    kind: str  # line_start | key | line_end | accept | undo
    expected: str | None = None  # what a type-through (or re-shown) answer must be
    origin: str = ""  # accept | natural | undo, for requests with an expectation
    pause: bool = False  # a pause point: time to the first suggestion is measured here
    capped: bool = False  # the user stopped waiting for the answer at a pause
    considered: bool = False

    @property
    def text(self) -> str:
        result = self.call.result
        items = result.get("items") if isinstance(result, dict) else result
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            return ""
        insert = items[0].get("insertText")
        if isinstance(insert, dict):  # a snippet StringValue
            insert = insert.get("value")
        return insert if isinstance(insert, str) else ""

    @property
    def hit(self) -> bool:
        return (
            self.expected is not None
            and self.call.arrived is not None
            and self.call.error is None
            and self.text == self.expected
        )


@dataclass
class _Tally:
    inline: list[_Inline] = field(default_factory=list)
    keystrokes: int = 0
    accepted_by_typing: int = 0


class _Typist:
    """Replays typing into open documents, one keystroke and one request at a time."""

    def __init__(
        self,
        client: _Client,
        session: int,
        budget: int,
        rng: random.Random,
        rng_accept: random.Random,
        accept_probability: float,
        tally: _Tally,
    ) -> None:
        self.client = client
        self.session = session
        self.left = budget
        self.rng = rng
        self.rng_accept = rng_accept
        self.accept_probability = accept_probability
        self.tally = tally
        self.latest: _Inline | None = None
        self.doc: _Doc | None = None
        self.li = 0
        self.col = 0
        self.content = ""
        self.j = 0  # characters of ``content`` typed so far
        self.cold = True  # no pause yet: the next answer is this server's first

    # ------------------------------------------------------------- protocol

    def open(self, doc: _Doc) -> None:
        self.client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": doc.uri,
                    "languageId": doc.language_id,
                    "version": doc.version,
                    "text": doc.text,
                }
            },
        )

    def _edit(self, start: int, end: int, text: str) -> None:
        """Replace columns ``start:end`` of the current line (one didChange)."""
        if self.left <= 0:
            raise _Spent
        doc = self.doc
        assert doc is not None
        self.left -= 1
        self.tally.keystrokes += 1
        line = doc.lines[self.li]
        change = {
            "range": {
                "start": {"line": self.li, "character": _u16(line[:start])},
                "end": {"line": self.li, "character": _u16(line[:end])},
            },
            "text": text,
        }
        doc.lines[self.li] = line[:start] + text + line[end:]
        doc.version += 1
        self.col = start + len(text)
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": doc.uri, "version": doc.version},
                "contentChanges": [change],
            },
        )

    def _complete(self, kind: str, expected: str | None = None, origin: str = "") -> _Inline:
        doc = self.doc
        assert doc is not None
        call = self.client.send(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": doc.uri},
                "position": {"line": self.li, "character": _u16(doc.lines[self.li][: self.col])},
                "context": {"triggerKind": 2},
            },
        )
        record = _Inline(call, self.session, kind, expected, origin)
        self.tally.inline.append(record)
        self.latest = record
        return record

    def _key(self, ch: str, kind: str = "key", expected: str | None = None) -> _Inline:
        origin = "accept" if expected is not None else ""
        shown = self.latest
        if expected is None and shown is not None and shown.call.arrived is not None:
            text = shown.text
            if len(text) > 1 and text[0] == ch and ch != "\n":
                expected, origin = text[1:], "natural"  # typing through a shown suggestion
        self._edit(self.col, self.col, ch)
        return self._complete(kind, expected, origin)

    # ------------------------------------------------------------- pacing

    def _ready(self) -> bool:
        latest = self.latest
        return latest is not None and latest.call.arrived is not None and not latest.considered

    def _idle(self, seconds: float, settle: _Inline | None = None, cap_s: float = 0.0) -> None:
        """Let ``seconds`` pass (and, with ``settle``, until its answer came, up to a cap).

        A suggestion that arrives for the cursor meanwhile may be accepted by typing, which
        ends the pause.
        """
        now = time.perf_counter()
        deadline = now + seconds
        cap = now + max(seconds, cap_s or SETTLE_CAP_S)
        while True:
            target = deadline
            if settle is not None and settle.call.arrived is None:
                target = cap
            if time.perf_counter() >= target:
                if settle is not None and settle.call.arrived is None:
                    settle.capped = True
                return
            self.client.wait_until(target, self._ready)
            if self._ready():
                assert self.latest is not None
                if self._consider(self.latest):
                    self.client.sleep(self.rng_accept.uniform(*TYPE_DELAY_S))
                    return

    def _consider(self, record: _Inline) -> bool:
        """Maybe accept the suggestion of ``record`` by typing its first characters."""
        record.considered = True
        text = record.text
        most = min(ACCEPT_CHARS[1], len(text.split("\n", 1)[0]), len(text) - 1)
        if most < ACCEPT_CHARS[0] or self.rng_accept.random() >= self.accept_probability:
            return False
        count = self.rng_accept.randint(ACCEPT_CHARS[0], most)
        self.tally.accepted_by_typing += 1
        last: _Inline | None = None
        for i in range(1, count + 1):
            self.client.sleep(self.rng_accept.uniform(*TYPE_DELAY_S))
            last = self._key(text[i - 1], kind="accept", expected=text[i:])
            last.considered = True
        assert last is not None
        self.client.wait(last.call, TYPE_THROUGH_WAIT_S)
        typed = text[:count]
        if self.content.startswith(typed, self.j):
            self.j += count  # the suggestion said what the line says: keep it
        else:
            self.client.sleep(self.rng_accept.uniform(*TYPE_DELAY_S))
            self._edit(self.col - count, self.col, "")  # undo what was accepted
            undo = self._complete("undo", expected=text, origin="undo")
            undo.considered = True
        return True

    # ------------------------------------------------------------- scenario

    def type_line(self, doc: _Doc, li: int) -> None:
        """Delete line ``li`` after its indentation, then type it again."""
        self.doc, self.li = doc, li
        line = doc.lines[li]
        indent = line[: len(line) - len(line.lstrip())]
        self.content = line[len(indent) :].rstrip()
        self.j = 0
        self._edit(len(indent), len(line), "")
        start = self._complete("line_start")
        start.pause = True
        cap = COLD_SETTLE_CAP_S if self.cold else SETTLE_CAP_S
        self.cold = False
        self._idle(self.rng.uniform(*PAUSE_S), settle=start, cap_s=cap)
        while self.j < len(self.content):
            ch = self.content[self.j]
            self._key(ch)
            self.j += 1
            if self.j >= len(self.content):
                break
            if ch in TOKEN_BOUNDARIES and self.rng.random() < TOKEN_PAUSE_PROBABILITY:
                self._idle(self.rng.uniform(*PAUSE_S))
            else:
                self._idle(self.rng.uniform(*TYPE_DELAY_S))
        end = self.latest
        if end is not None and end.expected is None and end.kind == "key":
            end.kind = "line_end"  # a cache hit is no first suggestion: only these count
            end.pause = True
        self._idle(self.rng.uniform(*PAUSE_S), settle=end)


# --------------------------------------------------------------------------- sessions


@dataclass
class _Session:
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


def _run_session(
    session: _Session,
    docs: list[_Doc],
    budget: int,
    *,
    root: Path,
    command: Sequence[str],
    env: dict[str, str],
    log: Path,
    seed: int,
    accept_probability: float,
    tally: _Tally,
) -> None:
    started = time.perf_counter()
    client = _Client(command, root, env, log)
    try:
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
        typist = _Typist(client, session.index, budget, rng, rng_accept, accept_probability, tally)
        for doc in docs:
            typist.open(doc)
        targets = [(d, li) for d in docs for li in d.candidates]
        rng.shuffle(targets)
        try:
            for doc, li in targets:
                session.lines_typed += 1
                typist.type_line(doc, li)
        except _Spent:
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
            call = client.send("quill/status", {})
            if not client.wait(call, REQUEST_TIMEOUT_S) or call.rtt_ms is None:
                raise BenchError(client.why("no answer to quill/status"))
            session.baseline_ms.append(call.rtt_ms)
        last = client.request(
            "workspace/executeCommand", {"command": "quill.lastPrompt", "arguments": []}
        )
        if isinstance(last, dict) and isinstance(last.get("tokens"), dict):
            session.prompt_tokens = last["tokens"]
    finally:
        client.close()
        session.wall_s = time.perf_counter() - started


# --------------------------------------------------------------------------- figures


def _percentile(values: Sequence[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return round(ordered[k], 3)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return round(a / b, digits) if a is not None and b else None


def _figures(
    sessions: list[_Session], tally: _Tally, requested: int, seed: int, path: Path
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
    cold: _Inline | None = None
    warm: list[float] = []
    for s in sessions:
        mine = [r for r in pauses if r.session == s.index]
        if mine and cold is None:
            cold = mine[0]
        for r in mine[1:]:
            if r.text and r.call.rtt_ms is not None:
                warm.append(r.call.rtt_ms)
    with_suggestion = sum(1 for r in pauses if r.text)
    unanswered = sum(1 for r in pauses if r.capped or r.call.arrived is None)

    baseline = [ms for s in sessions for ms in s.baseline_ms]
    baseline_p50 = _percentile(baseline, 50)
    overhead_p50 = _num(big.status.get("overheadMsP50")) if big else None
    overhead_p99 = _num(big.status.get("overheadMsP99")) if big else None
    cache_p50 = _percentile(cache_rtts, 50)
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
        "cacheHitRttMsP99": _percentile(cache_rtts, 99),
        "cacheHitSamples": len(cache_rtts),
        "requests": requests,
        "inlineRequestsSent": len(tally.inline),
        "inlineRequestsNonEmpty": sum(1 for r in tally.inline if r.text),
        "inlineRttMsP50": _percentile(inline_rtts, 50),
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
        "firstSuggestionMsP50": _percentile(warm, 50),
        "firstSuggestionSamples": len(warm),
        "coldFirstAnswerMs": round(cold.call.rtt_ms, 1)
        if cold is not None and cold.call.rtt_ms is not None
        else None,
        "coldFirstAnswerHadSuggestion": bool(cold is not None and cold.text),
        "coldFirstAnswerCapped": bool(cold is not None and cold.capped),
        "pausePoints": len(pauses),
        "pausesWithSuggestion": with_suggestion,
        "pausesUnanswered": unanswered,
        "baselineMsP50": baseline_p50,
        "baselineMsP99": _percentile(baseline, 99),
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
                "baselineMsP50": _percentile(s.baseline_ms, 50),
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


def _report(figures: dict[str, Any], out: TextIO) -> None:
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
    )
    w(json.dumps(figures, sort_keys=False) + "\n")


# --------------------------------------------------------------------------- entry


def run_completion_bench(
    path: Path | None,
    out: TextIO,
    *,
    keystrokes: int = 300,
    seed: int = 0,
    server_command: list[str] | None = None,
    env: dict[str, str] | None = None,
    accept_probability: float = ACCEPT_PROBABILITY,
    log_dir: Path | None = None,
    big_file_lines: int = BIG_FILE_LINES,
) -> int:
    """Drive ``quill lsp`` like an editor and report completion figures to ``out``.

    ``path`` is the workspace whose files are replayed (default: Quill's own sources);
    ``env`` the server's environment (default: this process's); the server's stderr goes to
    a temporary file, or to ``log_dir/server-N.log`` when ``log_dir`` is given (kept).
    Returns 0 when the run completed (missed targets are reported, not failures), 1 when the
    server could not be driven, 2 when the arguments or workspace cannot be used.
    """
    root = (path or default_bench_path()).expanduser()
    if keystrokes < 1:
        out.write("quill bench completion: keystrokes must be at least 1\n")
        return 2
    if not root.exists():
        out.write(f"quill bench completion: {root} does not exist\n")
        return 2
    command = list(server_command or [sys.executable, "-m", "quill.cli", "lsp"])
    run_env = dict(os.environ if env is None else env)
    rng = random.Random(seed)
    tally = _Tally()
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="quill-bench-completion-") as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        if root.is_file():
            shutil.copyfile(root, workspace / root.name)
            copied, truncated = [Path(root.name)], False
        else:
            copied, truncated = _copy_workspace(root, workspace)
        pool = _sources(workspace, copied)
        if not pool:
            out.write(
                f"quill bench completion: no source lines inside function bodies under {root}\n"
            )
            return 2
        big_enough = [s for s in pool if s.lines >= MIN_FILE_LINES]
        big_enough = [s for s in big_enough if len(s.candidates) >= MIN_CANDIDATES] or big_enough
        chosen = rng.sample(big_enough or pool, min(REAL_FILES, len(big_enough or pool)))
        real_docs = [_make_doc(workspace, s.rel, s.text, s.candidates) for s in chosen]
        big_doc = _big_file(workspace, pool, chosen[0].rel.suffix.lower(), rng, big_file_lines)
        if truncated:
            out.write(
                f"note: copied only the first {len(copied)} files of {root} into the workspace\n"
            )
        plan: list[tuple[_Session, list[_Doc], int]] = []
        big_budget = keystrokes // 2
        real_budget = keystrokes - big_budget
        plan.append(
            (
                _Session(
                    1,
                    "real-files",
                    [d.path.relative_to(workspace).as_posix() for d in real_docs],
                    [len(d.lines) - (1 if d.lines[-1] == "" else 0) for d in real_docs],
                ),
                real_docs,
                real_budget,
            )
        )
        if big_budget:
            plan.append(
                (
                    _Session(2, "big-file", [big_doc.path.name], [len(big_doc.lines) - 1]),
                    [big_doc],
                    big_budget,
                )
            )
        sessions: list[_Session] = []
        for session, docs, budget in plan:
            log = (log_dir or Path(tmp)) / f"server-{session.index}.log"
            try:
                _run_session(
                    session,
                    docs,
                    budget,
                    root=workspace,
                    command=command,
                    env=run_env,
                    log=log,
                    seed=seed,
                    accept_probability=accept_probability,
                    tally=tally,
                )
            except BenchError as exc:
                reason = " ".join(str(exc).split())
                out.write(f"quill bench completion: cannot drive the server: {reason}\n")
                return 1
            sessions.append(session)
        figures = _figures(sessions, tally, keystrokes, seed, root)
    if not figures["requests"]:
        out.write("quill bench completion: the server served no completion requests\n")
        return 1
    broken = [s.model_state for s in sessions if s.model_state.startswith("Error")]
    if not figures["modelCalls"] and broken:
        out.write(f"quill bench completion: no model could be called ({broken[0]})\n")
        return 1
    _report(figures, out)
    return 0
