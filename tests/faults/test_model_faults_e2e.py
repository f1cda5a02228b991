"""Model faults end to end: `quill lsp` over real stdio, a real `python -m llama_cpp.server`
behind a fault-injecting proxy as the first model, and the embedded model as the fallback.

For every fault (connection refused, a dropped connection, 429 with Retry-After, 500, 503
"Loading model", a stream cut inside an event, a hang, a slow drip) each feature (`quill/ask`,
an inline completion, `quill/chat`, the `quill.explain` command) answers in time: from the
fallback model, or with a clear error. The circuit breaker opens (the next request does not
reach the proxy) and closes after its cooldown; afterwards the server answers normally, no
connection to the proxy is left open and the server's task count is back to idle.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from quill.lsp.client import Call, StdioClient, null_answers, quill_lsp_command
from quill.models.quantize import weights_for
from tests.conftest import clean_environment
from tests.llama_server import llama_server as serve_gguf

from .fault_proxy import FaultProxy

pytestmark = pytest.mark.model

#: the proxied model's timeouts (short, so that a fault costs seconds)
CONNECT_TIMEOUT_S = 1.0
FIRST_TOKEN_TIMEOUT_S = 8.0
TOTAL_TIMEOUT_S = 2.5
MAX_RETRIES = 1
#: the proxy's delay before each SSE event of a drip: the answer outlives TOTAL_TIMEOUT_S
DRIP_DELAY_S = 1.5
BREAKER_COOLDOWN_S = 4.0
#: "well under a hang": the longest a feature may take, whatever the fault (shared machine)
ANSWER_BOUND_S = FIRST_TOKEN_TIMEOUT_S * (MAX_RETRIES + 1) + TOTAL_TIMEOUT_S + 20.0

SOURCE = (
    "import math\n"
    "\n"
    "\n"
    "def circle_area(radius):\n"
    '    """The area of a circle."""\n'
    "    return math.pi * radius ** 2\n"
    "\n"
    "\n"
    "def ring_area(outer, inner):\n"
    "    \n"
)
CURSOR = {"line": 9, "character": 4}  # in ring_area's empty body, in SOURCE
EXPLAIN_RANGE = {"start": {"line": 4, "character": 4}, "end": {"line": 5, "character": 0}}


def user_config(proxy_url: str) -> str:
    return f"""
[models.remote]
provider = "openai"
baseUrl = "{proxy_url}"
model = "smollm2"
fim = "continuation"
connectTimeoutSeconds = {CONNECT_TIMEOUT_S}
firstTokenTimeoutSeconds = {FIRST_TOKEN_TIMEOUT_S}
timeoutSeconds = {TOTAL_TIMEOUT_S}
maxRetries = {MAX_RETRIES}

[models.local]
threads = 1

[routes]
completion = ["remote", "local"]
chat = ["remote", "local"]
actions = ["remote", "local"]

[router]
retryBaseDelaySeconds = 0.1
retryMaxDelaySeconds = 2.0
circuitBreakerCooldownSeconds = 0

[completion]
maxTokens = 8

[chat]
maxTokens = 8
contextTokens = 128
historyTokens = 0
summarizeWithModel = false
searchResults = 0
repoMapTokens = 0

[actions]
maxTokens = 8
contextTokens = 256
staticRules = false

[gateway]
enabled = false
"""


# ---------------------------------------------------------------------- processes


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-faults")


@pytest.fixture(scope="module")
def llama_server(gguf_path: Path, module_tmp: Path) -> Iterator[str]:
    # The Q4_0 conversion Quill makes of the embedded model (in the cache `quill lsp` reads,
    # so both load one file): about 2.6x faster prompt reading on a CPU than the Q4_1 file.
    weights = weights_for(gguf_path, "q4_0", cache_dir=module_tmp / "cache" / "quill" / "models")
    threads = ["--n_threads", "1", "--n_threads_batch", "1", "--interrupt_requests", "False"]
    with serve_gguf(weights, module_tmp / "llama-server.log", extra=threads) as url:
        yield url


@pytest.fixture(scope="module")
def proxy(llama_server: str) -> Iterator[FaultProxy]:
    with FaultProxy(llama_server, drip_delay=DRIP_DELAY_S) as running:
        yield running


@dataclass
class Quill:
    client: StdioClient
    uri: str
    idle_tasks: int
    cooldown: float = 0.0
    version: int = 1

    def request(self, method: str, params: Any = None, timeout: float = 30.0) -> Any:
        return self.client.request(method, params, timeout=timeout)

    def status(self) -> dict[str, Any]:
        return self.request("quill/status")

    def remote(self) -> dict[str, Any]:
        return next(m for m in self.status()["models"] if m["name"] == "remote")

    def configure(self, cooldown: float) -> None:
        """Set the circuit breaker's cooldown (the editor's settings; models are rebuilt)."""
        if cooldown == self.cooldown:
            return
        self.client.notify(
            "workspace/didChangeConfiguration",
            {"settings": {"quill": {"router": {"circuitBreakerCooldownSeconds": cooldown}}}},
        )
        self.cooldown = cooldown
        self.request("quill/status")  # handled after the notification: the new router is in

    def next_version(self) -> None:
        """A new text above the cursor, so that no completion comes from the cache."""
        self.version += 1
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"text": f"# edit {self.version}\n" + SOURCE}],
            },
        )


@pytest.fixture(scope="module")
def quill(proxy: FaultProxy, module_tmp: Path) -> Iterator[Quill]:
    workspace = module_tmp / "workspace"
    workspace.mkdir()
    (workspace / "shapes.py").write_text(SOURCE, encoding="utf-8")
    env = clean_environment(module_tmp)
    config = module_tmp / "config.toml"
    config.write_text(user_config(proxy.base_url), encoding="utf-8")
    env["QUILL_CONFIG_FILE"] = str(config)
    client = StdioClient(
        quill_lsp_command(),
        cwd=workspace,
        env=env,
        stderr_log=module_tmp / "quill-lsp.log",
        answer=null_answers,
    )
    uri = (workspace / "shapes.py").as_uri()
    try:
        client.request(
            "initialize",
            {"processId": None, "rootUri": workspace.as_uri(), "capabilities": {}},
        )
        client.notify("initialized", {})
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": "# edit 1\n" + SOURCE,
                }
            },
        )
        q = Quill(client, uri, idle_tasks=0)
        # Idle: the start-up work (model checks, indexing) is done and the count is steady.
        q.idle_tasks = settle_tasks(q, timeout=30)
        yield q
    finally:
        client.close(shutdown=True, grace_s=10)


def settle_tasks(q: Quill, timeout: float, at_most: int | None = None) -> int:
    """The server's asyncio task count once it stops changing (and is ``<= at_most``)."""
    deadline = time.monotonic() + timeout
    counts: list[int] = []
    while True:
        counts.append(q.status()["process"]["tasks"])
        steady = len(counts) >= 4 and len(set(counts[-4:])) == 1
        if steady and (at_most is None or counts[-1] <= at_most):
            return counts[-1]
        if time.monotonic() > deadline:
            return counts[-1] if at_most is None else min(counts[-4:])
        time.sleep(0.25)


# ---------------------------------------------------------------------- features


@dataclass
class Outcome:
    feature: str
    seconds: float
    result: Any = None
    error: str | None = None


def run_features(q: Quill, tag: str) -> dict[str, Outcome]:
    """Ask all four features at once (as an editor would, typing and chatting) and wait for
    every answer, each within ANSWER_BOUND_S."""
    q.next_version()
    calls: dict[str, Call] = {
        "ask": q.client.call(
            "quill/ask", {"question": f"What does circle_area compute? ({tag})", "uri": q.uri}
        ),
        "completion": q.client.call(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": q.uri},
                "position": {"line": CURSOR["line"] + 1, "character": CURSOR["character"]},
                "context": {"triggerKind": 1},
            },
        ),
        "chat": q.client.call("quill/chat", {"message": f"Say hello ({tag}).", "uri": q.uri}),
        "explain": q.client.call(
            "workspace/executeCommand",
            {"command": "quill.explain", "arguments": [q.uri, shifted(EXPLAIN_RANGE)]},
        ),
    }
    out: dict[str, Outcome] = {}
    for name, call in calls.items():
        arrived = q.client.wait(call, ANSWER_BOUND_S + 5)
        assert arrived, f"{tag}: {name} got no answer within {ANSWER_BOUND_S + 5:g} s"
        assert call.arrived is not None
        seconds = call.arrived - call.sent
        error = None
        if call.error is not None:
            error = str(call.error.get("message", call.error))
        out[name] = Outcome(name, seconds, call.result, error)
    for o in out.values():
        assert o.seconds < ANSWER_BOUND_S, f"{tag}: {o.feature} took {o.seconds:.1f} s"
    return out


def shifted(r: dict[str, Any]) -> dict[str, Any]:
    """A range of SOURCE in the open document (one comment line above it)."""
    return {
        "start": {"line": r["start"]["line"] + 1, "character": r["start"]["character"]},
        "end": {"line": r["end"]["line"] + 1, "character": r["end"]["character"]},
    }


def completion_items(o: Outcome) -> list[dict[str, Any]]:
    assert o.error is None, f"completion failed: {o.error}"
    assert isinstance(o.result, dict)
    return list(o.result["items"])


def assert_from(model: str, out: dict[str, Outcome]) -> None:
    """ask, chat and explain were answered (by ``model`` where the answer names it)."""
    for name in ("ask", "chat"):
        o = out[name]
        assert o.error is None, f"{name} failed: {o.error}"
        assert o.result["text"].strip(), f"{name}: empty answer"
        assert o.result["model"] == model, f"{name} answered by {o.result['model']}"
    explain = out["explain"]
    assert explain.error is None, f"explain failed: {explain.error}"
    assert explain.result.get("markdown", "").strip(), f"explain: {explain.result}"


def assert_clear_failure(o: Outcome, pattern: str) -> None:
    """A short error line naming the model's address and what happened."""
    if o.feature == "explain":
        assert o.error is None, o.error
        message = o.result.get("message", "")
        assert o.result.get("applied") is False and "markdown" not in o.result, o.result
    else:
        assert o.error is not None, f"{o.feature}: expected an error, got {o.result}"
        message = o.error
    assert re.search(pattern, message), f"{o.feature}: unclear error {message!r}"
    assert "Traceback" not in message and len(message) < 400, message


def retries_by_request(proxy: FaultProxy, since: int) -> list[list[float]]:
    """The times each distinct request body reached the proxy (a retry repeats the body)."""
    groups: dict[str, list[float]] = {}
    for seen in proxy.posts()[since:]:
        groups.setdefault(json.dumps(seen.body, sort_keys=True), []).append(seen.at)
    return list(groups.values())


def assert_nothing_left_open(proxy: FaultProxy) -> None:
    """Every connection the client gave up on was closed by it (idle keep-alive ones are
    closed by the proxy after its keep-alive time)."""
    assert proxy.wait_until(lambda: proxy.active_connections == 0, 10), (
        f"{proxy.active_connections} connection(s) still in a request"
    )
    assert proxy.wait_until(lambda: proxy.open_connections == 0, proxy.keepalive_s + 10), (
        f"{proxy.open_connections} connection(s) left open"
    )


# ---------------------------------------------------------------------- the tests

FALLBACK_FAULTS = ["refuse", "429", "500", "503", "hang", "connection-refused"]


@pytest.mark.parametrize("fault", FALLBACK_FAULTS)
def test_a_failing_model_falls_back_in_time(quill: Quill, proxy: FaultProxy, fault: str) -> None:
    quill.configure(cooldown=0)  # every request meets the fault
    before = len(proxy.posts())
    if fault == "connection-refused":
        proxy.down()
    else:
        proxy.set(fault)
    try:
        out = run_features(quill, fault)
    finally:
        proxy.up()
        proxy.set("pass")
    assert_from("local", out)
    # A completion is asked of one model: it fails quietly, and the editor asks again.
    assert completion_items(out["completion"]) == []
    groups = retries_by_request(proxy, before)
    if fault == "connection-refused":
        assert groups == []
    else:
        assert len(groups) >= 4, f"{len(groups)} of the 4 features reached the proxy"
    if fault in ("refuse", "429", "500", "503"):
        assert all(len(g) == MAX_RETRIES + 1 for g in groups), groups
    if fault == "429":  # Retry-After: 1 was honoured
        assert all(g[1] - g[0] >= 0.9 for g in groups), groups
    assert_nothing_left_open(proxy)


@pytest.mark.parametrize("fault", ["cut", "drip"])
def test_a_model_failing_mid_answer_gives_a_clear_error_in_time(
    quill: Quill, proxy: FaultProxy, fault: str
) -> None:
    quill.configure(cooldown=0)
    before = len(proxy.posts())
    proxy.set(fault)
    try:
        out = run_features(quill, fault)
    finally:
        proxy.set("pass")
    groups = retries_by_request(proxy, before)
    assert len(groups) >= 4 and all(len(g) == 1 for g in groups), groups
    # Once text arrived the answer belongs to that model: a failure is reported, never
    # silently restarted on the fallback (that would repeat text).
    pattern = r"remote|127\.0\.0\.1.*(cut off|ended)" if fault == "cut" else r"exceeded|stalled"
    for name in ("ask", "chat", "explain"):
        assert_clear_failure(out[name], pattern)
    assert completion_items(out["completion"]) == []
    assert_nothing_left_open(proxy)


def test_the_circuit_breaker_opens_and_closes(quill: Quill, proxy: FaultProxy) -> None:
    quill.configure(cooldown=BREAKER_COOLDOWN_S)
    proxy.set("pass")
    assert proxy.wait_until(lambda: not quill.remote()["paused"], 10)

    proxy.set("500")
    before = len(proxy.posts())
    ask = quill.request("quill/ask", {"question": "What is a ring?"}, timeout=ANSWER_BOUND_S)
    assert ask["model"] == "local"
    assert len(proxy.posts()) - before == MAX_RETRIES + 1
    status = quill.status()
    remote = next(m for m in status["models"] if m["name"] == "remote")
    assert remote["paused"], status
    assert status["kind"] == "Warning" and "remote unavailable" in status["message"], status

    # While it is open, no feature touches the failing model.
    paused_at = len(proxy.posts())
    out = run_features(quill, "breaker open")
    assert len(proxy.posts()) == paused_at, [s.path for s in proxy.posts()[paused_at:]]
    assert_from("local", out)
    last = quill.request(
        "workspace/executeCommand", {"command": "quill.lastPrompt", "arguments": []}
    )
    assert last["model"] == "local"  # the completion went straight to the fallback

    # After the cooldown, with the model well again, the next request goes to it and the
    # breaker closes.
    proxy.set("pass")
    assert proxy.wait_until(lambda: not quill.remote()["paused"], BREAKER_COOLDOWN_S + 10), (
        "the breaker did not close after its cooldown"
    )
    again = quill.request("quill/ask", {"question": "And a circle?"}, timeout=ANSWER_BOUND_S)
    assert again["model"] == "remote"
    assert len(proxy.posts()) == paused_at + 1
    status = quill.status()
    assert status["kind"] == "Normal", status
    assert_nothing_left_open(proxy)


def test_afterwards_everything_is_normal_and_nothing_is_left_behind(
    quill: Quill, proxy: FaultProxy
) -> None:
    quill.configure(cooldown=BREAKER_COOLDOWN_S)
    proxy.set("pass")
    assert proxy.wait_until(lambda: not quill.remote()["paused"], BREAKER_COOLDOWN_S + 10)
    out = run_features(quill, "after the faults")
    assert_from("remote", out)
    last = quill.request(
        "workspace/executeCommand", {"command": "quill.lastPrompt", "arguments": []}
    )
    assert last["model"] == "remote"
    assert quill.status()["kind"] == "Normal"
    assert_nothing_left_open(proxy)
    tasks = settle_tasks(quill, timeout=15, at_most=quill.idle_tasks)
    assert tasks <= quill.idle_tasks, f"{tasks} asyncio tasks, {quill.idle_tasks} when idle"
    assert quill.client.proc.poll() is None
