"""Fuzzing the gateway of a real ``quill serve``: its HTTP routes and its WebSocket.

HTTP: Hypothesis builds requests to every route and to made-up ones (any method; with, without
or with a wrong token; foreign, ``null`` or allowed Origins; odd Hosts; JSON bodies in the
shapes of the OpenAI and Continue requests with fields missing or type-confused; bodies that
are not JSON, not UTF-8, or over the size limit), plus raw bytes that are not HTTP at all.
No answer may be a 500 (a route that raised), model routes may answer 502/503 (the model is a
closed port), and after every example a normal request is answered.

WebSocket: Hypothesis builds frames from the protocol's shapes (every type, fields missing or
type-confused, wrong versions and ids), text that is not JSON, binary frames and frames over
the size limit, on one connection; after every example a ``ping`` gets its ``pong`` (the
connection keeps serving), and at the end a ``sessions`` request is answered.

Afterwards the server is alive, its asyncio task count (from ``/health``) is back to its level
after the warm-up, and its resident memory has not grown past a bound.

``make test`` runs a small sample; a long run::

    QUILL_FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest tests/trust/test_gateway_fuzz.py
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import clean_environment
from tests.llama_server import free_port
from tests.quill_serve import quill_serve

from .fuzz import EXAMPLES, json_values, maybe, texts

DEFAULT_HTTP_EXAMPLES = 150
DEFAULT_WS_EXAMPLES = 60
#: seconds between frames: under the gateway's 20 frames a second (the limit is not under test)
WS_PACE = 0.06
RSS_SLACK_BYTES = 48 << 20
RSS_SLACK_RATIO = 0.25
#: tasks may exceed the warm-up's count by this many (a connection still closing)
TASK_SLACK = 3
MODEL_ROUTES = ("/v1/chat/completions", "/v1/completions", "/context")
ROUTES = (
    "/",
    "/static/chat.js",
    "/health",
    "/metrics",
    "/openapi.json",
    "/v1/models",
    *MODEL_ROUTES,
    "/ws",
)
ODD_PATHS = (
    "/static/../../etc/passwd",
    "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/..%5c..%5cwin.ini",
    "//etc/passwd",
    "/v1/chat/completions/../../health",
    "/%00",
    "/" + "a" * 5000,
    "/v1/models?token=x&token=y",
    "/?token=",
)

FUZZ = settings(
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str
    port: int
    token: str
    log: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def rss(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def tasks(self) -> int:
        """The server's asyncio tasks, as ``/health`` reports them."""
        with httpx.Client(timeout=30) as client:
            r = client.get(f"{self.base}/health", headers=self.auth)
        assert r.status_code == 200, (r.status_code, r.text[:300])
        return int(r.json()["status"]["process"]["tasks"])

    def settled_tasks(self, bound: int, wait_s: float = 10.0) -> int:
        """The task count once it is at most ``bound``, or as it stands after ``wait_s``."""
        deadline = time.monotonic() + wait_s
        while (tasks := self.tasks()) > bound and time.monotonic() < deadline:
            time.sleep(0.2)
        return tasks

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def check_alive(self) -> None:
        """A normal request on a new connection gets its normal answer."""
        assert self.proc.poll() is None, "quill serve exited:\n" + self.log_tail()
        with httpx.Client(timeout=30) as client:
            r = client.get(f"{self.base}/v1/models", headers=self.auth)
        assert r.status_code == 200 and r.json()["data"], (r.status_code, r.text[:300])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("gateway-fuzz")
    workspace = tmp / "workspace"
    workspace.mkdir()
    (workspace / "known.py").write_text("def reticulate_splines(n):\n    return n * 2\n")
    (workspace / ".env").write_text("API_KEY=not-for-anyone\n")
    env = clean_environment(tmp)
    dead = f"http://127.0.0.1:{free_port()}/v1"
    env["QUILL_CONFIG_FILE"] = str(tmp / "config.toml")
    (tmp / "config.toml").write_text(
        f'[models.dead]\nprovider = "openai"\nbaseUrl = "{dead}"\nmaxRetries = 0\n'
        'connectTimeoutSeconds = 1\n[routes]\ncompletion = ["dead"]\nchat = ["dead"]\n'
        'actions = ["dead"]\n'
    )
    log = tmp / "serve.log"
    with quill_serve(workspace, env, log, token_file=tmp / "token") as served:
        yield Served(served.proc, served.base, served.port, served.token, log)


def examples(default: int) -> int:
    return max(10, EXAMPLES or default)


# ---------------------------------------------------------------------- HTTP

_message = st.fixed_dictionaries(
    {"role": maybe(st.sampled_from(["system", "user", "assistant", "tool", "x"]))},
    optional={
        "content": maybe(
            st.one_of(
                texts,
                st.lists(
                    st.fixed_dictionaries({"type": maybe(st.just("text")), "text": maybe(texts)}),
                    max_size=3,
                ),
            )
        )
    },
)
_openai_fields: dict[str, st.SearchStrategy[Any]] = {
    "model": maybe(st.sampled_from(["quill", "dead", "local", ""])),
    "messages": maybe(st.lists(maybe(_message), max_size=4)),
    "prompt": maybe(
        st.one_of(
            texts,
            texts.map(lambda t: f"<|fim_prefix|># Path: known.py\n{t}<|fim_suffix|><|fim_middle|>"),
            st.lists(texts, max_size=3),
        )
    ),
    "suffix": maybe(texts),
    "stream": maybe(st.booleans()),
    "max_tokens": maybe(st.integers(-5, 10**9)),
    "temperature": maybe(st.floats(allow_nan=False)),
    "stop": maybe(st.lists(texts, max_size=3)),
    "quill": maybe(st.fixed_dictionaries({"context": maybe(st.booleans())})),
    "query": maybe(texts),
    "fullInput": maybe(texts),
    "options": json_values,
    "workspacePath": maybe(st.sampled_from(["/", "/etc", "file:///", "../.."])),
}


@st.composite
def _json_body(draw: st.DrawFn) -> bytes:
    body = {k: draw(v) for k, v in _openai_fields.items() if draw(st.integers(0, 2)) == 0}
    return json.dumps(body).encode()


_bodies = st.one_of(
    _json_body(),
    _json_body(),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.sampled_from([b"", b"{", b'{"messages": [', b"\xff\xfe{}", b"null", b"[]"]),
    st.integers((1 << 20) + 1, (1 << 20) + 4096).map(lambda n: b'{"prompt": "' + b"a" * n + b'"}'),
)


@dataclass
class HttpCase:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def http_cases(s: Served) -> st.SearchStrategy[HttpCase]:
    origin = f"http://127.0.0.1:{s.port}"
    return st.builds(
        HttpCase,
        method=st.sampled_from(["GET", "POST", "POST", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"]),
        path=st.one_of(
            st.sampled_from(ROUTES),
            st.sampled_from(MODEL_ROUTES),
            st.sampled_from(ODD_PATHS),
            st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=30).map(
                lambda p: "/" + p.lstrip("/")
            ),
        ),
        headers=st.fixed_dictionaries(
            {
                "Authorization": st.sampled_from(
                    [f"Bearer {s.token}"] * 7 + ["Bearer wrong", "Basic eA==", s.token, ""]
                ),
            },
            optional={
                "Origin": st.sampled_from([origin, origin, "null", "http://evil.example"]),
                "Content-Type": st.sampled_from(
                    ["application/json", "text/plain", "multipart/form-data", "x/y; charset=zz"]
                ),
                "Cookie": st.sampled_from([f"quill_token_{s.port}={s.token}", "a=b; c"]),
                "Accept": st.sampled_from(["text/event-stream", "*/*", "\x7f"]),
            },
        ),
        body=_bodies,
    )


def test_fuzz_http_routes(served: Served) -> None:
    served.check_alive()
    seen: dict[int, int] = {}

    def one(case: HttpCase) -> None:
        # a fresh connection each time: the per-connection rate limit is not under test
        with httpx.Client(base_url=served.base, timeout=60) as client:
            try:
                r = client.request(case.method, case.path, headers=case.headers, content=case.body)
            except httpx.RemoteProtocolError as exc:
                raise AssertionError(f"the server dropped the connection: {exc}") from None
        seen[r.status_code] = seen.get(r.status_code, 0) + 1
        allowed_5xx = {502, 503, 504} if case.path.split("?")[0] in MODEL_ROUTES else set()
        assert r.status_code < 500 or r.status_code in allowed_5xx, (
            f"{case.method} {case.path} -> {r.status_code}: {r.text[:300]}\n{served.log_tail()}"
        )
        served.check_alive()

    # warm-up: what loads on first use (detect-secrets, the token counter) is not a leak
    settings(FUZZ, max_examples=30)(given(case=http_cases(served))(one))()
    base_rss = served.rss()
    base_tasks = served.settled_tasks(0, wait_s=2.0)
    settings(FUZZ, max_examples=examples(DEFAULT_HTTP_EXAMPLES))(
        given(case=http_cases(served))(one)
    )()
    _raw_garbage(served)
    served.check_alive()
    rss = served.rss()
    tasks = served.settled_tasks(base_tasks + TASK_SLACK)
    print(
        f"\ngateway HTTP fuzz: statuses {dict(sorted(seen.items()))}; "
        f"tasks {base_tasks} -> {tasks}; RSS {base_rss >> 20} -> {rss >> 20} MiB"
    )
    assert tasks <= base_tasks + TASK_SLACK, f"tasks grew from {base_tasks} to {tasks}"
    assert rss <= base_rss * (1 + RSS_SLACK_RATIO) + RSS_SLACK_BYTES


def _raw_garbage(s: Served) -> None:
    """Bytes that are not HTTP, bad framing, and requests cut short, on raw sockets."""
    cases = [
        b"\x00\xff\xfe garbage\r\n\r\n",
        b"GET\r\n\r\n",
        b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
        b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{",
        b"POST /context HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-A: " + b"b" * 70000 + b"\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
    ]
    for data in cases:
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(65536):
                    pass
            except OSError:
                pass  # the server may hang up on garbage: what matters is that it lives


# ---------------------------------------------------------------------- WebSocket

_WS_TYPES = ("chat", "cancel", "sessions", "history", "action", "complete", "ping", "hello")
_ws_fields: dict[str, st.SearchStrategy[Any]] = {
    "message": maybe(texts),
    "file": maybe(st.sampled_from(["known.py", ".env", "../../etc/passwd", "/etc/passwd", ""])),
    "text": maybe(texts),
    "line": maybe(st.integers(-3, 10**6)),
    "character": maybe(st.integers(-3, 10**6)),
    "session": maybe(texts),
    "limit": maybe(st.integers(-5, 10**6)),
    "offset": maybe(st.integers(-5, 10**6)),
    "before": maybe(st.integers(-5, 10**6)),
    "thinking": maybe(st.booleans()),
    "action": maybe(st.sampled_from(["explain", "findBugs", "refactor", "addDocstring", "fix"])),
    "language": maybe(st.sampled_from(["python", "rust", ""])),
    "range": json_values,
    "instruction": maybe(texts),
    "problem": maybe(texts),
}


@st.composite
def ws_frame(draw: st.DrawFn) -> str | bytes:
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(st.binary(max_size=200))
    if shape == 1:
        text = draw(st.one_of(texts, st.sampled_from(["{", "[]", "null", '{"v":1'])))
        # a text frame is UTF-8: a lone surrogate cannot be sent as one
        return text.encode("utf-8", "replace").decode("utf-8")
    if shape == 2:
        return json.dumps(draw(json_values))
    if shape == 3:
        return json.dumps({"v": 1, "type": "chat", "id": "big", "message": "x" * (300 * 1024)})
    frame: dict[str, Any] = {
        "v": draw(st.one_of(st.just(1), st.just(1), st.just(1), json_values)),
        "type": draw(st.one_of(st.sampled_from(_WS_TYPES), texts)),
    }
    if draw(st.integers(0, 4)):
        frame["id"] = draw(st.one_of(st.text(max_size=6), json_values))
    for name, strategy in _ws_fields.items():
        if draw(st.integers(0, 3)) == 0:
            frame[name] = draw(strategy)
    return json.dumps(frame)


def _ping(ws: ClientConnection, ping_id: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Send a ping and read until its pong; the frames read on the way are returned."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    ws.send(json.dumps({"v": 1, "type": "ping", "id": ping_id}))
    while True:
        raw = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        frame = json.loads(raw)
        frames.append(frame)
        if frame.get("type") == "pong" and frame.get("id") == ping_id:
            return frames
        if frame.get("code") == "rate_limited":  # its id is null: the frame was not read
            time.sleep(1.0)
            ws.send(json.dumps({"v": 1, "type": "ping", "id": ping_id}))


def test_fuzz_websocket(served: Served) -> None:
    url = served.base.replace("http://", "ws://") + "/ws"
    codes: dict[str, int] = {}
    pings = iter(range(10**9))
    with connect(url, additional_headers=served.auth, open_timeout=30, max_size=None) as ws:
        hello = json.loads(ws.recv(timeout=30))
        assert hello.get("type") == "hello", hello

        def one(batch: list[str | bytes]) -> None:
            try:
                for frame in batch:
                    time.sleep(WS_PACE)
                    ws.send(frame)
                time.sleep(WS_PACE)
                got = _ping(ws, f"ping-{next(pings)}")
            except (ConnectionClosed, TimeoutError) as exc:
                raise AssertionError(
                    f"the WebSocket stopped serving after {[str(f)[:200] for f in batch]}: "
                    f"{exc!r}\n{served.log_tail()}"
                ) from None
            for frame in got:
                if frame.get("type") == "error":
                    code = str(frame.get("code"))
                    codes[code] = codes.get(code, 0) + 1
                    assert code != "internal", (frame, batch)

        batches = st.lists(ws_frame(), min_size=1, max_size=4)
        settings(FUZZ, max_examples=20)(given(batch=batches)(one))()
        base_rss = served.rss()
        base_tasks = served.tasks()  # this connection's own tasks included
        settings(FUZZ, max_examples=examples(DEFAULT_WS_EXAMPLES))(given(batch=batches)(one))()
        ws.send(json.dumps({"v": 1, "type": "sessions", "id": "final"}))
        deadline = time.monotonic() + 30
        while True:
            frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if frame.get("id") == "final":
                assert frame.get("type") == "done", frame
                assert isinstance(frame.get("result"), list), frame
                break
    served.check_alive()
    rss = served.rss()
    tasks = served.settled_tasks(base_tasks)  # the connection has closed since
    print(
        f"\ngateway WebSocket fuzz: errors {dict(sorted(codes.items()))}; tasks "
        f"{base_tasks} -> {tasks}; RSS {base_rss >> 20} -> {rss >> 20} MiB"
    )
    assert tasks <= base_tasks, f"tasks grew from {base_tasks} to {tasks}"
    assert rss <= base_rss * (1 + RSS_SLACK_RATIO) + RSS_SLACK_BYTES
