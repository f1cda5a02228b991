"""`quill lsp` also serves the gateway on a random loopback port, announced in quill/status."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import httpx
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import REPO_ROOT, clean_environment

from .test_server_e2e import accept_registrations, plain


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "quill.cli", "lsp"],
        server_env=clean_environment(Path(tempfile.mkdtemp(prefix="quill-lsp-gateway-"))),
    ),
)
async def client(lsp_client: LanguageClient):
    accept_registrations(lsp_client)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=(REPO_ROOT / "tests" / "fixtures" / "e2e").as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_the_gateway_is_announced_and_guarded(client: LanguageClient) -> None:
    gateway = None
    for _ in range(100):
        status = plain(await client.protocol.send_request_async("quill/status", {}))
        gateway = status.get("gateway")
        if gateway:
            break
        await asyncio.sleep(0.1)
    assert gateway, "quill/status never announced the gateway"
    url = gateway["url"]
    assert url.startswith("http://127.0.0.1:") and gateway["port"] > 0
    token = (await asyncio.to_thread(Path(gateway["tokenFile"]).read_text)).strip()
    assert gateway["pageUrl"] == f"{url}/?token={token}"
    async with httpx.AsyncClient() as http:
        refused = await http.get(f"{url}/health")
        assert refused.status_code == 401
        health = await http.get(f"{url}/health", headers={"Authorization": f"Bearer {token}"})
        assert health.status_code == 200
        assert "local" in health.text
