"""Secrets at the wire: no canary secret reaches the model, whatever feature runs.

One workspace is seeded with fresh canaries of every kind (:mod:`tests.trust.canaries`):
AWS key ids and secret keys, GitHub, Slack and OpenAI tokens, private-key blocks (in code and
as ``id_rsa`` / ``.pem`` files), passwords in connection URLs, ``.env`` files, secrets in a
JSON and a YAML config, a secret typed into an open buffer and never saved, and one pasted
into questions. Quill's only model is a real ``python -m llama_cpp.server`` behind a
recording proxy (:mod:`tests.trust.proxy`); every feature runs over real stdio of ``quill
lsp`` and over a real ``quill serve``. Each test checks that its feature reached the model at
least once and that no piece of any canary is in any request body the proxy saw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from lsprotocol.converters import get_converter
from pytest_lsp import client_capabilities
from websockets.sync.client import connect

from quill.lsp.client import StdioClient, quill_lsp_command
from tests.conftest import clean_environment
from tests.quill_serve import quill_serve

from .canaries import DB, LOCAL_SETTINGS, Workspace, seed
from .proxy import RecordingProxy

pytestmark = pytest.mark.model

#: features answer briefly: what matters is what they send, not what comes back
CONFIG = """
[models.wire]
provider = "openai"
baseUrl = "{proxy}/v1"
model = "smollm2"
contextSize = 4096
maxRetries = 0
firstTokenTimeoutSeconds = 90
timeoutSeconds = 180

[routes]
completion = ["wire"]
chat = ["wire"]
actions = ["wire"]

[completion]
maxTokens = 12

[chat]
maxTokens = 16

[actions]
maxTokens = 32
"""
REQUEST_TIMEOUT = 180.0


@dataclass
class Wire:
    proxy: RecordingProxy
    ws: Workspace
    env: dict[str, str]

    def check(self, feature: str, mark: int) -> None:
        """The feature reached the model, and no canary is in what it sent."""
        sent = self.proxy.since(mark)
        model_calls = [r for r in sent if r.method == "POST"]
        assert model_calls, f"{feature}: no request reached the model"
        self.assert_clean(feature, sent)

    def assert_clean(self, feature: str, sent: list[Any]) -> None:
        leaks = self.ws.canaries.leaks([(f"{r.method} {r.path}", r.body) for r in sent])
        assert not leaks, f"{feature} sent secrets to the model:\n" + "\n".join(leaks)


@pytest.fixture(scope="module")
def wire(llama_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wire]:
    proxy = RecordingProxy(llama_server).start()
    tmp = tmp_path_factory.mktemp("canaries")
    ws = seed(tmp / "project")
    config = tmp / "user-config.toml"
    config.write_text(CONFIG.format(proxy=proxy.url))
    env = clean_environment(tmp)
    env["QUILL_CONFIG_FILE"] = str(config)
    try:
        yield Wire(proxy, ws, env)
    finally:
        proxy.stop()


# ---------------------------------------------------------------------- quill lsp


class Editor:
    """``quill lsp`` over real stdio, answering the server's requests as VS Code does."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.root = wire.ws.root
        self.shown: list[Any] = []
        self.client = StdioClient(
            quill_lsp_command(),
            cwd=self.root,
            env=wire.env,
            stderr_log=self.root.parent / "lsp.log",
            answer=self._answer,
        )
        self.versions: dict[str, int] = {}

    def _answer(self, method: str, params: Any) -> Any:
        if method == "workspace/applyEdit":
            self.shown.append(params)
            return {"applied": True}
        if method == "window/showDocument":
            self.shown.append(params)
            return {"success": True}
        if method == "workspace/configuration":
            return [None for _ in (params or {}).get("items", ())]
        return None

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def request(self, method: str, params: Any) -> Any:
        return self.client.request(method, params, timeout=REQUEST_TIMEOUT)

    def start(self) -> None:
        caps = get_converter().unstructure(client_capabilities("visual-studio-code"))
        self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": self.root.as_uri(),
                "capabilities": caps,
                "initializationOptions": {"gateway": {"enabled": False}},
            },
        )
        self.client.notify("initialized", {})
        for rel, text in (
            ("app/db.py", DB),
            ("app/settings.py", (self.root / "app/settings.py").read_text()),
            ("app/local_settings.py", LOCAL_SETTINGS),
        ):
            self.versions[rel] = 1
            self.client.notify(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": self.uri(rel),
                        "languageId": "python",
                        "version": 1,
                        "text": text,
                    }
                },
            )
        deadline = time.monotonic() + 60
        while not self.request("workspace/symbol", {"query": "Repository"}):
            assert time.monotonic() < deadline, "the workspace was not indexed"
            time.sleep(0.2)

    def insert(self, rel: str, line: int, character: int, text: str) -> None:
        self.versions[rel] += 1
        at = {"line": line, "character": character}
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri(rel), "version": self.versions[rel]},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": text}],
            },
        )

    def close(self) -> None:
        self.client.close(shutdown=True, grace_s=10)


@pytest.fixture(scope="module")
def editor(wire: Wire) -> Iterator[Editor]:
    e = Editor(wire)
    try:
        e.start()
        # The secret is typed into the open buffer, one line at a time, and never saved:
        # after `DEBUG = True` (line 2).
        for i, line in enumerate(wire.ws.typed.splitlines(keepends=True)):
            e.insert("app/local_settings.py", 3 + i, 0, line)
        # an empty body line to complete on in each file
        e.insert("app/local_settings.py", 9, 0, "\n\ndef secret_headers():\n    \n")
        e.insert("app/db.py", 23, 0, "    repo.add({'key': 'first'})\n    \n")
        yield e
    finally:
        e.close()


def _range(start: int, end: int) -> dict[str, Any]:
    return {"start": {"line": start, "character": 0}, "end": {"line": end, "character": 0}}


#: (file, line, character) of the empty body lines made above
COMPLETION_SPOTS = {
    "next to the secrets": ("app/db.py", 24, 4),
    "in the buffer holding a typed secret": ("app/local_settings.py", 12, 4),
}


def test_the_typed_secret_is_in_the_buffer_and_not_on_disk(editor: Editor) -> None:
    on_disk = (editor.root / "app/local_settings.py").read_text()
    assert editor.wire.ws.typed not in on_disk
    assert not editor.wire.ws.canaries.found_in(on_disk)


@pytest.mark.parametrize("where", list(COMPLETION_SPOTS))
def test_inline_completion(editor: Editor, wire: Wire, where: str) -> None:
    rel, line, character = COMPLETION_SPOTS[where]
    mark = wire.proxy.mark()
    editor.request(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": editor.uri(rel)},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": 1},
        },
    )
    wire.check(f"inline completion {where}", mark)


@pytest.mark.parametrize("where", list(COMPLETION_SPOTS))
def test_list_completion(editor: Editor, wire: Wire, where: str) -> None:
    rel, line, character = COMPLETION_SPOTS[where]
    # type one more character so the cache of the inline request does not answer
    editor.insert(rel, line, character, "r")
    mark = wire.proxy.mark()
    editor.request(
        "textDocument/completion",
        {
            "textDocument": {"uri": editor.uri(rel)},
            "position": {"line": line, "character": character + 1},
            "context": {"triggerKind": 1},
        },
    )
    wire.check(f"list completion {where}", mark)
    # the prompt Quill reports as sent agrees
    last = editor.request("workspace/executeCommand", {"command": "quill.lastPrompt"})
    wire.assert_clean("quill.lastPrompt", [_Body(json.dumps(last).encode())])


@dataclass
class _Body:
    body: bytes
    method: str = "LSP"
    path: str = "result"


def test_ask_about_the_settings_with_a_pasted_key(editor: Editor, wire: Wire) -> None:
    mark = wire.proxy.mark()
    answer = editor.request(
        "quill/ask",
        {
            "question": f"Why does AWS reject {wire.ws.pasted}? Which settings does this use?",
            "uri": editor.uri("app/settings.py"),
            "position": {"line": 3, "character": 0},
        },
    )
    assert "text" in answer
    wire.check("quill/ask", mark)


ACTIONS = {
    "quill.explain": ("app/settings.py", _range(0, 21), []),
    "quill.refactor": ("app/db.py", _range(32, 37), ["Make it one line."]),
    "quill.findBugs": ("app/settings.py", _range(0, 21), []),
    "quill.generateTests": ("app/db.py", _range(5, 20), []),
    "quill.addDocstring": ("app/local_settings.py", _range(11, 14), []),
    "quill.fix": ("app/local_settings.py", _range(3, 5), ["The token is hard-coded."]),
}


@pytest.mark.parametrize("command", list(ACTIONS))
def test_code_action_command(editor: Editor, wire: Wire, command: str) -> None:
    rel, r, extra = ACTIONS[command]
    mark = wire.proxy.mark()
    editor.request(
        "workspace/executeCommand",
        {"command": command, "arguments": [editor.uri(rel), r, *extra]},
    )
    wire.check(command, mark)


def test_chat_with_mentions_of_secret_files(editor: Editor, wire: Wire) -> None:
    mark = wire.proxy.mark()
    reply = editor.request(
        "quill/chat",
        {
            "message": "What do @.env, @.env.production, @config/settings.json, "
            "@config/app.yaml, @deploy/id_rsa and @app/settings.py configure? "
            f"Is {wire.ws.pasted} still valid?",
            "uri": editor.uri("app/local_settings.py"),
            "position": {"line": 4, "character": 0},
        },
    )
    wire.check("quill/chat", mark)
    mark = wire.proxy.mark()
    editor.request(
        "quill/chat",
        {
            "message": "And what does @app/db.py do with them?",
            "sessionId": reply["sessionId"],
            "uri": editor.uri("app/db.py"),
        },
    )
    wire.check("quill/chat, second turn", mark)


# ---------------------------------------------------------------------- quill serve


@dataclass
class Gateway:
    base: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def gateway(wire: Wire) -> Iterator[Gateway]:
    root = wire.ws.root
    token_file = root.parent / "gateway.token"
    with quill_serve(root, wire.env, root.parent / "serve.log", token_file=token_file) as served:
        yield Gateway(served.base, served.token)


def _chat_body(wire: Wire, stream: bool) -> dict[str, Any]:
    settings = (wire.ws.root / "app/settings.py").read_text()
    return {
        "model": "quill",
        "stream": stream,
        "max_tokens": 16,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": f"Here is my settings file:\n```\n{settings}```"},
            {"role": "assistant", "content": "I see the settings."},
            {
                "role": "user",
                "content": "What is in .env and config/app.yaml, and why does "
                f"{wire.ws.pasted} fail?",
            },
        ],
    }


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_gateway_chat_completions(gateway: Gateway, wire: Wire, stream: bool) -> None:
    mark = wire.proxy.mark()
    r = httpx.post(
        f"{gateway.base}/v1/chat/completions",
        json=_chat_body(wire, stream),
        headers=gateway.auth,
        timeout=REQUEST_TIMEOUT,
    )
    assert r.status_code == 200, r.text
    wire.check(f"/v1/chat/completions ({'streamed' if stream else 'whole'})", mark)


def test_gateway_fim_completion_of_a_buffer_with_a_secret(gateway: Gateway, wire: Wire) -> None:
    prefix = "# Path: app/local_settings.py\n" + LOCAL_SETTINGS.replace(
        "DEBUG = True\n", "DEBUG = True\n" + wire.ws.typed
    )
    prefix += "\n\ndef secret_headers():\n    "
    mark = wire.proxy.mark()
    r = httpx.post(
        f"{gateway.base}/v1/completions",
        json={
            "model": "quill",
            "prompt": f"<|fim_prefix|>{prefix}<|fim_suffix|>\n<|fim_middle|>",
            "max_tokens": 12,
            "stream": True,
        },
        headers=gateway.auth,
        timeout=REQUEST_TIMEOUT,
    )
    assert r.status_code == 200, r.text
    wire.check("/v1/completions (FIM)", mark)


def test_gateway_plain_completion_with_a_secret(gateway: Gateway, wire: Wire) -> None:
    settings = (wire.ws.root / "app/settings.py").read_text()
    mark = wire.proxy.mark()
    r = httpx.post(
        f"{gateway.base}/v1/completions",
        json={"model": "quill", "prompt": settings + "\n# the next setting\n", "max_tokens": 12},
        headers=gateway.auth,
        timeout=REQUEST_TIMEOUT,
    )
    assert r.status_code == 200, r.text
    wire.check("/v1/completions (plain prompt)", mark)


def test_gateway_context_provider(gateway: Gateway, wire: Wire) -> None:
    """What ``/context`` answers goes into Continue's own prompt, so it is checked too."""
    for query in (
        "database password api key token settings",
        "AWS_SECRET_ACCESS_KEY PRIVATE_KEY DATABASE_URL",
        ".env config/app.yaml config/settings.json",
    ):
        body = {
            "query": query,
            "fullInput": query,
            "options": {},
            "workspacePath": str(wire.ws.root),
        }
        deadline = time.monotonic() + 60  # `quill serve` indexes in the background
        while True:
            r = httpx.post(
                f"{gateway.base}/context", json=body, headers=gateway.auth, timeout=REQUEST_TIMEOUT
            )
            assert r.status_code == 200, r.text
            items = r.json()
            if items or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert items, f"/context found nothing for {query!r}"
        wire.assert_clean(f"/context {query!r}", [_Body(r.content, "POST", "/context answer")])


def test_gateway_websocket_chat(gateway: Gateway, wire: Wire) -> None:
    url = gateway.base.replace("http://", "ws://") + "/ws"
    mark = wire.proxy.mark()
    with connect(url, additional_headers=gateway.auth, open_timeout=30) as ws:
        ws.send(
            json.dumps(
                {
                    "v": 1,
                    "type": "chat",
                    "id": "q1",
                    "message": "Summarize @.env, @config/settings.json, @config/app.yaml and "
                    f"@app/settings.py. Also: {wire.ws.pasted}",
                }
            )
        )
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while True:
            frame = json.loads(ws.recv(timeout=max(1.0, deadline - time.monotonic())))
            assert frame.get("type") != "error", frame
            if frame.get("type") == "done":
                break
    wire.check("WebSocket chat", mark)


def test_nothing_sent_at_any_time_held_a_canary(wire: Wire) -> None:
    """Every request of the run, background ones (probes, summaries) included."""
    sent = wire.proxy.snapshot()
    assert sent
    wire.assert_clean("the whole run", sent)
