"""Chat over real stdio on the embedded model: streamed partial results, sessions, history."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import REPO_ROOT, clean_environment

from .raw_client import RawLspClient
from .test_server_e2e import accept_registrations

WORKSPACE = REPO_ROOT / "tests" / "fixtures" / "e2e"


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "quill.cli", "lsp"],
        server_env=clean_environment(Path(tempfile.mkdtemp(prefix="quill-chat-e2e-"))),
    ),
)
async def client(lsp_client: LanguageClient):
    accept_registrations(lsp_client)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=WORKSPACE.as_uri(),
            initialization_options={"gateway": {"enabled": False}},
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest.mark.model
def test_chat_streams_partial_results_then_remembers(tmp_path: Path) -> None:
    # pytest-lsp's client reads every $/progress as work-done progress, so this test speaks
    # JSON-RPC itself to see the partial results.
    client = RawLspClient(clean_environment(tmp_path), WORKSPACE)
    try:
        client.initialize(root=WORKSPACE, options={"gateway": {"enabled": False}})
        shapes = (WORKSPACE / "shapes.py").as_uri()
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": shapes,
                    "languageId": "python",
                    "version": 1,
                    "text": (WORKSPACE / "shapes.py").read_text(),
                }
            },
        )
        answer = client.request(
            "quill/chat",
            {
                "message": "What does this file define?",
                "uri": shapes,
                "position": {"line": 0, "character": 0},
                "partialResultToken": "chat-1",
            },
            timeout=240,
        )
        assert answer["text"].strip() and answer["sessionId"] and answer["messageId"]
        pieces = [
            m["params"]["value"]["text"]
            for m in client.received
            if m.get("method") == "$/progress" and m["params"]["token"] == "chat-1"
        ]
        assert pieces and "".join(pieces).startswith(answer["text"][:10])
        session_ids = {
            m["params"]["value"]["sessionId"]
            for m in client.received
            if m.get("method") == "$/progress" and m["params"]["token"] == "chat-1"
        }
        assert session_ids == {answer["sessionId"]}  # known from the first piece on
        assert any(item["source"] == "current" for item in answer["context"])

        sessions = client.request("quill/chat/sessions", {})
        assert [s["id"] for s in sessions] == [answer["sessionId"]]
        history = client.request("quill/chat/history", {"sessionId": answer["sessionId"]})
        assert [m["role"] for m in history] == ["user", "assistant"]
        assert history[0]["content"] == "What does this file define?"
        cancel = client.request("quill/chat/cancel", {"sessionId": answer["sessionId"]})
        assert cancel == {"cancelled": False}  # nothing running any more
    finally:
        client.close()


async def test_bad_chat_requests_are_refused(client: LanguageClient) -> None:
    for params in ({}, {"message": "  "}, {"message": "hi", "sessionId": 3}):
        with pytest.raises(Exception, match=r"message|sessionId"):
            await client.protocol.send_request_async("quill/chat", params)
    with pytest.raises(Exception, match="no chat session"):
        await client.protocol.send_request_async(
            "quill/chat", {"message": "hi", "sessionId": "missing"}
        )
