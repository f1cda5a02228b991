"""Protocol fuzzing of ``quill lsp`` over its real stdio.

Hypothesis builds JSON-RPC messages from the LSP message shapes (every method lsprotocol
knows and Quill's own, their params with fields missing, type-confused, huge or odd; wrong,
duplicated and mistyped ids; notifications with ids; responses to nothing; batches) and
breaks their framing (odd and missing ``Content-Length`` headers, bodies cut short or longer
than declared, non-UTF-8 and non-JSON bodies, bodies over ``lsp.maxMessageBytes``), see
:mod:`tests.trust.fuzz`. They go, as raw bytes, to one ``quill lsp`` process per test:
before ``initialize``, after it, and after ``shutdown``. After every example the server must
answer a normal request correctly (in step, no hang); at the end every request that carried
a fresh id has been answered exactly once, the process is alive, and its task count and
resident memory have not grown past a bound.

The models are routed to a closed port, so features that call one fail at once (the
protocol, not the model, is under test).

``make test`` runs a small sample. A long run::

    QUILL_FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest tests/trust/test_lsp_fuzz.py

(``QUILL_FUZZ_EXAMPLES`` is the number of examples of the main test, each one to eight
frames; the tests before ``initialize`` and after ``shutdown`` run a tenth of it.)
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from quill.lsp.client import StdioClient, null_answers, quill_lsp_command
from tests.conftest import clean_environment
from tests.llama_server import free_port

from .fuzz import EXAMPLES, Message, dumps, framed, frames

#: examples of the main test in `make test` (about 20 s on 2 shared cores)
DEFAULT_EXAMPLES = 250
#: examples per Hypothesis run in a long run
ROUND = 2_000
MAX_BODY = 1 << 21  # lsp.maxMessageBytes for the fuzzed server: 2 MiB
#: how long a normal request may take after an example
SYNC_TIMEOUT = 20.0
#: resident memory may grow this much past its level after the warm-up
RSS_SLACK_BYTES = 48 << 20
RSS_SLACK_RATIO = 0.25
#: an example after which the server's RSS grew this much is reported
RSS_JUMP_BYTES = 4 << 20
#: tasks may exceed the warm-up's count by this many (a debounce or status timer in flight)
TASK_SLACK = 3

KNOWN = '''"""A known file: the fuzzed server must still find its symbols."""


def reticulate_splines(count):
    return count * 2


class SplineReticulator:
    def run(self):
        return reticulate_splines(3)
'''

EXPECTED = ["SplineReticulator", "reticulate_splines"]  # query "spline"


def examples(share: float = 1.0) -> int:
    return max(10, int((EXAMPLES or DEFAULT_EXAMPLES) * share))


class Fuzzed:
    """One ``quill lsp`` process, the frames sent to it, and the checks made on it."""

    def __init__(self, tmp: Path) -> None:
        self.root = tmp / "workspace"
        self.root.mkdir()
        (self.root / "known.py").write_text(KNOWN)
        (self.root / "other.py").write_text("from known import reticulate_splines\n")
        env = clean_environment(tmp)
        dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
        env["QUILL_CONFIG_FILE"] = str(tmp / "config.toml")
        (tmp / "config.toml").write_text(
            f'[models.dead]\nprovider = "openai"\nbaseUrl = "{dead}"\nmaxRetries = 0\n'
            'connectTimeoutSeconds = 1\n[routes]\ncompletion = ["dead"]\nchat = ["dead"]\n'
            'actions = ["dead"]\n[gateway]\nenabled = false\n'
            f"[lsp]\nmaxMessageBytes = {MAX_BODY}\n"
        )
        self.client = StdioClient(
            quill_lsp_command(),
            cwd=self.root,
            env=env,
            stderr_log=tmp / "lsp.log",
            answer=null_answers,
        )
        # known.py is not among them: a buffer of that name would rightly change its symbols
        self.uris = [
            (self.root / "other.py").as_uri(),
            (self.root / "new.py").as_uri(),
            (self.root / "dir with space" / "ünï.rs").as_uri(),
            "untitled:Untitled-1",
            "file:///etc/passwd",
            "file://",
            "",
        ]
        counter = itertools.count(10_000_000)
        self.ids = st.just(0).map(lambda _: next(counter))
        self.batches: st.SearchStrategy[list[tuple[bytes, Message | None]]] | None = None
        #: fresh request ids sent, each with the start of its frame
        self.tracked: dict[int, bytes] = {}
        #: what :meth:`fold` took from the client: answers per id, error codes, -32603s
        self.answer_counts: dict[int, int] = {}
        self.error_counts: dict[int, int] = {}
        self.internal: list[bytes] = []
        #: the last frame sent with each integer id that is not fresh (reused, 0, 1, -1)
        self.reused: dict[int, bytes] = {}
        #: every document URI opened (a string in a didOpen), to close them all at the end
        self.opened: set[str] = set()
        self.recent: list[bytes] = []
        self.frames = 0

    @property
    def pid(self) -> int:
        return self.client.proc.pid

    def rss(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def status(self) -> dict[str, Any]:
        return self.client.request("quill/status", {}, timeout=SYNC_TIMEOUT)

    def initialize(self) -> None:
        self.client.request(
            "initialize",
            {"processId": None, "rootUri": self.root.as_uri(), "capabilities": {}},
            timeout=60,
        )
        self.client.notify("initialized", {})
        deadline = time.monotonic() + 60
        while self.symbols() != EXPECTED:
            assert time.monotonic() < deadline, "the workspace was not indexed"
            time.sleep(0.2)

    def symbols(self) -> list[str]:
        found = self.client.request("workspace/symbol", {"query": "spline"}, timeout=SYNC_TIMEOUT)
        return sorted(s["name"] for s in found or [])

    def send(self, batch: list[tuple[bytes, Message | None]]) -> None:
        for data, message in batch:
            if message is not None and message.tracked_id is not None:
                body = dumps(message.value)
                # over the size limit, the server discards the body unread: it cannot know
                # the id, so it answers with a null one
                if len(body) <= MAX_BODY:
                    self.tracked[message.tracked_id] = data[:120] + b" ... " + body[:300]
            elif message is not None and isinstance(message.value, dict):
                key = message.value.get("id")
                if isinstance(key, int) and not isinstance(key, bool):
                    self.reused[key] = data[:120] + b" ... " + dumps(message.value)[:300]
            if message is not None:
                uri = _opened_uri(message.value)
                if uri is not None:
                    self.opened.add(uri)
            self.recent = [*self.recent[-20:], data[:300]]
            self.frames += 1
            self.client._write(data)

    def close_opened(self) -> None:
        """``didClose`` every document the fuzzing opened: what the server still holds
        afterwards is what it kept on its own."""
        for uri in sorted(self.opened):
            body = dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didClose",
                    "params": {"textDocument": {"uri": uri}},
                }
            )
            self.client._write(framed(body))
        self.opened.clear()

    def explain(self) -> str:
        sent = "\n".join(repr(d) for d in self.recent[-8:])
        log = "".join(self.client.stderr_tail(15))
        return f"last frames sent (first 300 bytes each):\n{sent}\nserver log:\n{log}"

    def check_in_step(self, expect: str) -> None:
        """A normal request gets its normal answer: ``expect`` is ``symbols`` (after
        initialize) or an error code's name."""
        try:
            if expect == "symbols":
                assert self.symbols() == EXPECTED
                return
            call = self.client.call("workspace/symbol", {"query": "spline"})
            reply = self.client.response(call, timeout=SYNC_TIMEOUT)
        except Exception as exc:
            raise AssertionError(f"{exc}\n{self.explain()}") from None
        codes = {"not initialized": -32002, "shutting down": -32600}
        assert reply.get("error", {}).get("code") == codes[expect], (reply, self.explain())

    def fold(self) -> None:
        """Count the messages received so far and let the client forget them (a long run
        would otherwise hold every answer in memory)."""
        for m in self.client.take_received():
            if "method" in m or not ("result" in m or "error" in m):
                continue
            key = m.get("id")
            if isinstance(key, int):
                self.answer_counts[key] = self.answer_counts.get(key, 0) + 1
            error = m.get("error")
            if isinstance(error, dict):
                code = error.get("code")
                if isinstance(code, int):
                    self.error_counts[code] = self.error_counts.get(code, 0) + 1
                if code == -32603:
                    self.internal.append(
                        self.tracked.get(key) or self.reused.get(key, b"?")
                        if isinstance(key, int)
                        else repr(m).encode()
                    )

    def answers(self) -> dict[int, int]:
        self.fold()
        return self.answer_counts

    def check_every_request_answered_once(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            counts = self.answers()
            missing = sorted(i for i in self.tracked if counts.get(i, 0) == 0)
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        twice = sorted(i for i in self.tracked if counts.get(i, 0) > 1)
        assert not missing, f"{len(missing)} requests never answered, e.g. {missing[:5]}: " + str(
            self._requests(missing[:3])
        )
        assert not twice, f"requests answered more than once: {twice[:5]}"

    def errors(self) -> dict[int, int]:
        self.fold()
        return dict(sorted(self.error_counts.items()))

    def internal_errors(self) -> list[bytes]:
        """The requests answered with -32603: a handler raised on what it was given."""
        self.fold()
        return self.internal

    def _requests(self, ids: list[int]) -> list[bytes]:
        return [self.tracked[i] for i in ids]

    def close(self) -> None:
        self.client.close(shutdown=False, grace_s=0)


def batches(fz: Fuzzed) -> st.SearchStrategy[list[tuple[bytes, Message | None]]]:
    """The frames of one example. Built once per server: Hypothesis reads the source of every
    new recursive strategy, which would otherwise cost more than the example itself."""
    if fz.batches is None:
        fz.batches = st.lists(frames(fz.uris, fz.ids, MAX_BODY), min_size=1, max_size=8)
    return fz.batches


FUZZ = settings(
    deadline=None,
    database=None,
    phases=[Phase.generate],  # the server's state is not replayable: report, do not shrink
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def in_rounds(fz: Fuzzed, test: Callable[[st.DataObject], None], total: int) -> None:
    """Run ``test`` on ``total`` examples, in Hypothesis runs of at most :data:`ROUND`
    (a run keeps every choice it made in memory), all against the one server of ``fz``."""
    left = total
    while left > 0:
        n = min(ROUND, left)
        settings(FUZZ, max_examples=n)(given(data=st.data())(test))()
        fz.fold()
        left -= n


@pytest.fixture
def fuzzed(tmp_path: Path) -> Iterator[Fuzzed]:
    fz = Fuzzed(tmp_path)
    try:
        yield fz
    finally:
        fz.close()


def test_fuzz_before_initialize(fuzzed: Fuzzed) -> None:
    """Anything before ``initialize`` gets -32002 (requests) or nothing (notifications)."""

    def run(data: st.DataObject) -> None:
        batch = data.draw(batches(fuzzed))
        batch = [(d, m) for d, m in batch if not _is_initialize(m)]
        fuzzed.send(batch)
        fuzzed.check_in_step("not initialized")

    in_rounds(fuzzed, run, examples(0.1))
    fuzzed.check_every_request_answered_once()
    fuzzed.initialize()  # and then the session starts as usual
    assert fuzzed.client.proc.poll() is None


def _opened_uri(value: Any) -> str | None:
    """The URI a ``textDocument/didOpen`` message names, when it names one."""
    if not isinstance(value, dict) or value.get("method") != "textDocument/didOpen":
        return None
    params = value.get("params")
    document = params.get("textDocument") if isinstance(params, dict) else None
    uri = document.get("uri") if isinstance(document, dict) else None
    return uri if isinstance(uri, str) else None


def _is_initialize(message: Message | None) -> bool:
    return (
        message is not None
        and isinstance(message.value, dict)
        and (message.value.get("method") == "initialize")
    )


def test_fuzz_after_initialize(fuzzed: Fuzzed) -> None:
    fuzzed.initialize()
    # warm-up: every kind of frame once or twice, then the levels to compare against

    @settings(FUZZ, max_examples=30)
    @given(data=st.data())
    def warm_up(data: st.DataObject) -> None:
        fuzzed.send(data.draw(batches(fuzzed)))
        fuzzed.check_in_step("symbols")

    warm_up()
    fuzzed.check_every_request_answered_once()
    time.sleep(1.0)
    base_tasks = int(fuzzed.status()["process"]["tasks"])
    base_rss = fuzzed.rss()

    last_rss = [base_rss]
    jumps: list[tuple[int, list[bytes]]] = []

    def run(data: st.DataObject) -> None:
        batch = data.draw(batches(fuzzed))
        fuzzed.send(batch)
        fuzzed.check_in_step("symbols")
        rss = fuzzed.rss()
        if rss - last_rss[0] >= RSS_JUMP_BYTES:  # which frames the memory went to
            jumps.append((rss - last_rss[0], [d[:200] for d, _ in batch]))
        last_rss[0] = rss

    in_rounds(fuzzed, run, examples())
    opened = len(fuzzed.opened)
    open_rss = fuzzed.rss()
    fuzzed.close_opened()
    assert fuzzed.symbols() == EXPECTED
    time.sleep(1.0)
    status = fuzzed.status()
    assert status["kind"] in ("Normal", "Warning", "Error"), status
    tasks = int(status["process"]["tasks"])
    rss = fuzzed.rss()
    assert fuzzed.client.proc.poll() is None
    assert fuzzed.symbols() == EXPECTED
    print(
        f"\nlsp fuzz: {fuzzed.frames} frames, {len(fuzzed.tracked)} requests with fresh ids, "
        f"{fuzzed.errors()} error replies; tasks {base_tasks} -> {tasks}, "
        f"RSS {base_rss >> 20} -> {open_rss >> 20} MiB with {opened} documents opened, "
        f"{rss >> 20} MiB once closed; internal errors for: "
        + "\n".join(repr(f) for f in fuzzed.internal_errors()[:6])
        + f"\n{len(jumps)} examples after which RSS grew by {RSS_JUMP_BYTES >> 20} MiB or more"
        + "".join(f"\n  +{n >> 20} MiB after {frames!r}" for n, frames in jumps[:8])
    )
    fuzzed.check_every_request_answered_once()
    # -32603: a handler raised on what it was given, instead of refusing it with a reason
    assert not fuzzed.internal_errors(), fuzzed.internal_errors()[:6]
    assert tasks <= base_tasks + TASK_SLACK, f"tasks grew from {base_tasks} to {tasks}"
    bound = base_rss * (1 + RSS_SLACK_RATIO) + RSS_SLACK_BYTES
    assert rss <= bound, f"RSS grew from {base_rss >> 20} MiB to {rss >> 20} MiB"
    # the session still ends cleanly
    fuzzed.client.close(shutdown=True, grace_s=10)
    assert fuzzed.client.proc.returncode == 0


def test_fuzz_after_shutdown(fuzzed: Fuzzed) -> None:
    """After ``shutdown`` requests get InvalidRequest; ``exit`` then ends with status 0."""
    fuzzed.initialize()
    assert fuzzed.client.request("shutdown", None) is None

    def run(data: st.DataObject) -> None:
        fuzzed.send(data.draw(batches(fuzzed)))
        fuzzed.check_in_step("shutting down")

    in_rounds(fuzzed, run, examples(0.1))
    fuzzed.check_every_request_answered_once()
    fuzzed.client.exiting = True
    fuzzed.client.notify("exit")
    assert fuzzed.client.proc.wait(timeout=30) == 0
