"""Each LSP lifecycle rule, over the real stdio of `quill lsp`."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from quill.lsp.jsonrpc import encode_message, read_message
from tests.conftest import clean_environment
from tests.llama_server import free_port

from .raw_client import RawLspClient


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "hello.py").write_text("def hello(name):\n    return 'hi ' + name\n")
    return ws


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_environment(tmp_path)


@pytest.fixture
def client(env: dict[str, str], workspace: Path) -> Iterator[RawLspClient]:
    c = RawLspClient(env, workspace)
    yield c
    c.close()


def test_malformed_json_gets_parse_error_and_server_keeps_going(
    client: RawLspClient, workspace: Path
) -> None:
    client.send_bytes(b'{"jsonrpc": "2.0", "id": 1, "method": ')
    error = client.response(None)
    assert error["error"]["code"] == -32700
    assert client.initialize(root=workspace)["result"]["serverInfo"]["name"] == "quill"
    client.send_bytes(b"\xff\xfe not json")
    assert client.wait_for(lambda m: m.get("error", {}).get("code") == -32700 and m is not error)
    status = client.response(client.call("quill/status"))
    assert status["result"]["kind"] in ("Normal", "Warning")


def test_request_before_initialize_is_refused(client: RawLspClient, workspace: Path) -> None:
    reply = client.response(client.call("quill/status"))
    assert reply["error"]["code"] == -32002
    assert "result" in client.initialize(root=workspace)


def test_shutdown_then_requests_are_invalid_and_exit_is_zero(
    client: RawLspClient, workspace: Path
) -> None:
    client.initialize(root=workspace)
    assert client.response(client.call("shutdown"))["result"] is None
    reply = client.response(client.call("quill/status"))
    assert reply["error"]["code"] == -32600
    client.notify("exit")
    assert client.wait_exit() == 0


def test_exit_without_shutdown_is_status_one(client: RawLspClient, workspace: Path) -> None:
    client.initialize(root=workspace)
    client.notify("exit")
    assert client.wait_exit() == 1


def test_second_initialize_and_unknown_method(client: RawLspClient, workspace: Path) -> None:
    client.initialize(root=workspace)
    again = client.response(client.call("initialize", {"processId": None, "capabilities": {}}))
    assert again["error"]["code"] == -32600
    unknown = client.response(client.call("quill/doesNotExist", {}))
    assert unknown["error"]["code"] == -32601
    bad = client.response(client.call("textDocument/hover", {"nonsense": True}))
    assert bad["error"]["code"] == -32602


def test_oversized_message_is_refused(env: dict[str, str], workspace: Path) -> None:
    env["QUILL_LSP__MAX_MESSAGE_BYTES"] = "4096"
    client = RawLspClient(env, workspace)
    try:
        client.initialize(root=workspace)
        huge = "x = 1\n" * 5000
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": (workspace / "big.py").as_uri(),
                    "languageId": "python",
                    "version": 1,
                    "text": huge,
                }
            },
        )
        refused = client.wait_for(lambda m: m.get("id", 0) is None and "error" in m)
        assert "exceeds" in refused["error"]["message"]
        status = client.response(client.call("quill/status"))  # still in step
        assert "result" in status
    finally:
        client.close()


def test_cancel_request_gets_request_cancelled(env: dict[str, str], workspace: Path) -> None:
    client = RawLspClient(env, workspace)
    try:
        client.initialize(root=workspace, options={"chat": {"maxTokens": 2000}})
        ask = client.call("quill/ask", {"question": "Write a very long essay about lighthouses."})
        client.notify("$/cancelRequest", {"id": ask.id})
        reply = client.response(ask)
        assert reply["error"]["code"] == -32800
        assert "result" in client.response(client.call("quill/status"))
    finally:
        client.close()


def test_exits_when_the_editor_process_dies(env: dict[str, str], workspace: Path) -> None:
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    env["QUILL_LSP__PARENT_PROCESS_POLL_SECONDS"] = "0.2"
    client = RawLspClient(env, workspace)
    try:
        client.initialize(process_id=editor.pid, root=workspace)
        assert client.proc.poll() is None
        editor.kill()
        editor.wait()
        assert client.wait_exit(timeout=30) == 1
    finally:
        client.close()
        if editor.poll() is None:
            editor.kill()


def test_bad_settings_one_message_and_defaults(client: RawLspClient, workspace: Path) -> None:
    client.initialize(
        root=workspace,
        options={"quill": {"completion": {"maxTokens": "lots"}, "bogus": 1, "endpoint": 42}},
    )
    shown = client.wait_for(lambda m: m.get("method") == "window/showMessage")
    text = shown["params"]["message"]
    assert "completion.maxTokens" in text and "bogus" in text and "endpoint" in text
    status = client.response(client.call("quill/status"))
    assert status["result"]["kind"] in ("Normal", "Warning")
    # Still exactly one message for the batch.
    client.response(client.call("quill/status"))
    assert len([m for m in client.received if m.get("method") == "window/showMessage"]) == 1


def test_unreachable_endpoint_is_reported_and_falls_back(
    env: dict[str, str], workspace: Path
) -> None:
    env["QUILL_ENDPOINT"] = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    client = RawLspClient(env, workspace)
    try:
        client.initialize(root=workspace)
        changed = client.wait_for(
            lambda m: m.get("method") == "quill/statusChanged" and m["params"]["kind"] == "Warning"
        )
        assert "endpoint unavailable" in changed["params"]["message"]
        assert "using local" in changed["params"]["message"]
        reply = client.response(client.call("quill/ask", {"question": "Say hi."}), 120)
        assert reply["result"]["model"] == "local" and reply["result"]["text"]
    finally:
        client.close()


def test_tcp_on_loopback(env: dict[str, str], workspace: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "quill.cli", "lsp", "--tcp", f"127.0.0.1:{port}"],
        env=env,
        cwd=workspace,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        with sock, sock.makefile("rb") as rfile:
            sock.sendall(
                encode_message(
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "initialize",
                        "params": {"processId": None, "capabilities": {}},
                    }
                )
            )
            assert read_message(rfile)["result"]["serverInfo"]["name"] == "quill"
            sock.sendall(encode_message({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
            while read_message(rfile).get("id") != 2:
                pass
            sock.sendall(encode_message({"jsonrpc": "2.0", "method": "exit"}))
            assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_tcp_refuses_non_loopback(env: dict[str, str], workspace: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "quill.cli", "lsp", "--tcp", "0.0.0.0:0"],
        env=env,
        cwd=workspace,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"loopback" in done.stderr


def test_did_change_configuration_applies_and_reports(
    client: RawLspClient, workspace: Path
) -> None:
    client.initialize(root=workspace)
    client.wait_for(lambda m: m.get("method") == "quill/statusChanged")
    client.notify(
        "workspace/didChangeConfiguration",
        {"settings": {"quill": {"endpoint": "http://127.0.0.1:9/v1", "chat": {"maxTokens": -5}}}},
    )
    shown = client.wait_for(lambda m: m.get("method") == "window/showMessage")
    assert "chat.maxTokens" in shown["params"]["message"]
    changed = client.wait_for(
        lambda m: m.get("method") == "quill/statusChanged" and m["params"]["kind"] == "Warning"
    )
    assert "endpoint" in changed["params"]["message"]
    status = client.response(client.call("quill/status"))["result"]
    assert [m["name"] for m in status["models"]] == ["local", "endpoint"]


def test_a_bad_initialize_can_be_followed_by_a_good_one(
    client: RawLspClient, workspace: Path
) -> None:
    bad = {"jsonrpc": "2.0", "id": 901, "method": "initialize", "params": {"capabilities": 5}}
    client.send(bad)
    assert client.response(901)["error"]["code"] == -32602
    assert client.response(client.call("quill/status"))["error"]["code"] == -32002
    assert client.initialize(root=workspace)["result"]["serverInfo"]["name"] == "quill"


def test_notifications_sent_with_an_id_and_odd_ids_are_answered(
    client: RawLspClient, workspace: Path
) -> None:
    client.initialize(root=workspace)
    cancel = {"jsonrpc": "2.0", "id": 907, "method": "$/cancelRequest", "params": {"id": 0}}
    client.send(cancel)
    assert client.response(907)["error"]["code"] == -32601
    opened = {"uri": (workspace / "hello.py").as_uri(), "languageId": "python", "version": 1}
    opened["text"] = "x = 1\n"
    client.send(
        {
            "jsonrpc": "2.0",
            "id": 908,
            "method": "textDocument/didOpen",
            "params": {"textDocument": opened},
        }
    )
    assert client.response(908)["error"]["code"] == -32600
    client.send({"jsonrpc": "2.0", "id": {"odd": 1}, "method": "quill/status", "params": {}})
    odd = client.wait_for(lambda m: m.get("id") is None and "error" in m)
    assert odd["error"]["code"] == -32600
    assert "result" in client.response(client.call("quill/status"))  # still serving


def test_a_null_method_is_refused_and_a_stray_response_gets_no_answer(
    client: RawLspClient, workspace: Path
) -> None:
    client.initialize(root=workspace)
    client.send({"jsonrpc": "2.0", "id": 911, "method": None, "params": []})
    refused = client.response(911)
    assert refused["error"]["code"] == -32600, refused
    client.send({"jsonrpc": "2.0", "id": 0.5, "method": None})
    odd = client.wait_for(lambda m: m.get("id") is None and "error" in m)
    assert odd["error"]["code"] == -32600, odd
    # a response to a request the server never sent: nothing comes back for it
    client.send({"jsonrpc": "2.0", "id": 912, "result": {"x": 1}})
    status = client.call("quill/status")
    assert "result" in client.response(status)
    assert not [m for m in client.received if m.get("id") == 912]


def test_a_long_string_where_a_list_belongs_is_refused_at_once(
    client: RawLspClient, workspace: Path
) -> None:
    """Each character of the string is a wrong ``Position``: the server must not build an
    error for each of a million of them (minutes of work and gigabytes) before answering."""
    client.initialize(root=workspace)
    uri = (workspace / "hello.py").as_uri()
    params = {"textDocument": {"uri": uri}, "positions": "x" * 1_000_000}
    client.send(
        {"jsonrpc": "2.0", "id": 913, "method": "textDocument/selectionRange", "params": params}
    )
    refused = client.response(913)
    assert refused["error"]["code"] == -32602, refused
    assert "result" in client.response(client.call("quill/status"))


def test_notifications_leave_nothing_behind(client: RawLspClient, workspace: Path) -> None:
    """Every didChange is handled and then forgotten: none stays filed as in flight (each
    would keep its future, and a failed one the whole message with its exception)."""
    client.initialize(root=workspace)
    uri = (workspace / "hello.py").as_uri()
    opened = {"uri": uri, "languageId": "python", "version": 1, "text": ""}
    client.notify("textDocument/didOpen", {"textDocument": opened})
    for version in range(2, 302):
        change = {"range": _at(0, version - 2), "text": "x"}
        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
    # and changes to a document that is not open, which fail inside pygls
    for n in range(20):
        missing = (workspace / f"missing{n}.py").as_uri()
        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": missing, "version": 2}, "contentChanges": [{"text": "y"}]},
        )
    status = client.response(client.call("quill/status"))["result"]
    assert status["process"]["requestsInFlight"] == 1, status["process"]  # the status request


def _at(line: int, character: int) -> dict[str, Any]:
    point = {"line": line, "character": character}
    return {"start": point, "end": point}


def test_an_overlong_document_uri_is_refused(client: RawLspClient, workspace: Path) -> None:
    client.initialize(root=workspace)
    uri = (workspace / "hello.py").as_uri() + "x" * 100_000
    params = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}
    client.send(
        {"jsonrpc": "2.0", "id": 914, "method": "textDocument/completion", "params": params}
    )
    refused = client.response(914)
    assert refused["error"]["code"] == -32602, refused
    assert "at most" in refused["error"]["message"]
    opened = {"uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}
    client.notify("textDocument/didOpen", {"textDocument": opened})  # dropped, logged
    assert "result" in client.response(client.call("quill/status"))
