"""Security by default, against a real uvicorn server and real clients: the token, Origin and
Host checks on HTTP and WebSocket, the cookie flow of the chat page, path confinement, the
size cap and the per-connection rate limits. No model is needed: refusals come first."""

from __future__ import annotations

import asyncio
import json
import stat
from typing import Any

import httpx
import prometheus_client
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from quill.gateway.runner import start_gateway
from quill.gateway.security import cookie_name

from .conftest import Harness

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROUTES = [
    ("GET", "/v1/models"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/health"),
    ("GET", "/static/chat.js"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/completions"),
    ("POST", "/context"),
]


async def _request(h: Harness, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=h.base, timeout=30) as client:
        return await client.request(method, path, headers=headers, json={})


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_needs_the_token(harness: Harness, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = await _request(harness, method, path, headers)
        assert response.status_code == 401, (path, headers)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    # ?token= is for the chat page only
    response = await _request(harness, method, f"{path}?token={harness.token}", {})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("header", "value", "code"),
    [
        ("Origin", "http://evil.example", "bad_origin"),
        ("Origin", "null", "bad_origin"),
        ("Origin", "http://localhost:1", "bad_origin"),
        ("Host", "evil.example", "bad_host"),  # DNS rebinding: the name points at 127.0.0.1
        ("Host", "evil.example:{port}", "bad_host"),
        ("Host", "127.0.0.1:1", "bad_host"),
    ],
)
async def test_foreign_origin_and_rebinding_host_get_403(
    harness: Harness, header: str, value: str, code: str
) -> None:
    headers = {**harness.auth, header: value.format(port=harness.port)}
    for method, path in ROUTES[:3]:
        response = await _request(harness, method, path, headers)
        assert response.status_code == 403, (path, header, value)
        assert response.json()["error"]["code"] == code
    assert harness.metric("quill_gateway_refused_total", code=code) >= 3


async def test_own_origins_are_allowed(harness: Harness) -> None:
    for origin in (f"http://127.0.0.1:{harness.port}", f"http://localhost:{harness.port}"):
        headers = {**harness.auth, "Origin": origin, "Host": f"localhost:{harness.port}"}
        response = await _request(harness, "GET", "/v1/models", headers)
        assert response.status_code == 200


async def _ws_status(
    h: Harness, headers: dict[str, str], origin: str | None = None, host: str | None = None
) -> int:
    """The handshake's status; ``host`` is the name in the URL (and so in Host), while the
    connection still goes to 127.0.0.1, as after a DNS rebinding."""
    url = f"ws://{host}:{h.port}/ws" if host else h.ws_url
    try:
        async with connect(
            url,
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
            host="127.0.0.1",
            port=h.port,
        ):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


async def test_websocket_handshake_checks(harness: Harness) -> None:
    assert await _ws_status(harness, {}) == 401
    assert await _ws_status(harness, {"Authorization": "Bearer wrong"}) == 401
    assert await _ws_status(harness, harness.auth, "http://evil.example") == 403
    assert await _ws_status(harness, harness.auth, "null") == 403
    assert await _ws_status(harness, harness.auth, host="evil.example") == 403
    assert await _ws_status(harness, harness.auth, host="localhost") == 101
    assert await _ws_status(harness, harness.auth, f"http://127.0.0.1:{harness.port}") == 101
    cookie = {"Cookie": f"{cookie_name(harness.port)}={harness.token}"}
    assert await _ws_status(harness, cookie, f"http://localhost:{harness.port}") == 101
    wrong_port_cookie = {"Cookie": f"{cookie_name(1)}={harness.token}"}
    assert await _ws_status(harness, wrong_port_cookie) == 401


async def test_chat_page_swaps_the_token_in_its_url_for_a_cookie(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.base, timeout=30) as client:
        assert (await client.get("/")).status_code == 401
        assert (await client.get("/?token=wrong")).status_code == 401
        response = await client.get(f"/?token={harness.token}")
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{cookie_name(harness.port)}={harness.token};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        page = await client.get("/")  # the client now sends the cookie
        assert page.status_code == 200
        assert "<title>Quill chat</title>" in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        script = await client.get("/static/chat.js")
        assert script.status_code == 200 and "WebSocket" in script.text
        assert script.headers["content-type"].startswith("text/javascript") or script.headers[
            "content-type"
        ].startswith("application/javascript")


async def _raw_get(h: Harness, target: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", h.port)
    writer.write(
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{h.port}\r\n"
        f"Authorization: Bearer {h.token}\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1])
    return status, data


@pytest.mark.parametrize(
    "target",
    [
        "/static/../../pyproject.toml",
        "/static/..%2F..%2Fpyproject.toml",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/../../../../etc/passwd",
        "/static/..%5C..%5Cpyproject.toml",
        "/../../etc/passwd",
        "/static/.env",
    ],
)
async def test_no_route_reads_outside_its_files(harness: Harness, target: str) -> None:
    status, data = await _raw_get(harness, target)
    assert status in (400, 404), data[:200]
    assert b"root:" not in data and b"[project]" not in data


async def _ws_exchange(h: Harness, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    async with connect(h.ws_url, additional_headers=h.auth) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        for frame in frames:
            await ws.send(json.dumps(frame))
            answers.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
    return answers


async def test_websocket_requests_cannot_read_outside_the_workspace(harness: Harness) -> None:
    outside = harness.outside
    cases = [
        ("../outside.txt", "forbidden_path"),
        (str(outside), "forbidden_path"),
        ("/etc/passwd", "forbidden_path"),
        ("link.txt", "forbidden_path"),  # a symbolic link to a file outside
        ("sub/../../outside.txt", "forbidden_path"),
        (".env", "secret_file"),
    ]
    frames: list[dict[str, Any]] = []
    for i, (path, _code) in enumerate(cases):
        frames.append({"v": 1, "type": "chat", "id": f"c{i}", "message": "show it", "file": path})
        frames.append(
            {"v": 1, "type": "complete", "id": f"k{i}", "file": path, "line": 0, "character": 0}
        )
        frames.append({"v": 1, "type": "action", "id": f"a{i}", "action": "explain", "file": path})
    answers = await _ws_exchange(harness, frames)
    for answer, frame in zip(answers, frames, strict=True):
        expected = cases[int(str(frame["id"])[1:])][1]
        assert answer["type"] == "error" and answer["id"] == frame["id"], answer
        assert answer["code"] == expected, (frame, answer)
        assert "TOP SECRET" not in json.dumps(answer)


async def test_context_provider_ignores_other_workspaces(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.base, headers=harness.auth) as client:
        response = await client.post(
            "/context", json={"query": "area", "fullInput": "area", "workspacePath": "/etc"}
        )
    assert response.status_code == 200 and response.json() == []


async def test_request_bodies_are_capped(harness: Harness) -> None:
    big = {"messages": [{"role": "user", "content": "x" * (2 << 20)}]}
    async with httpx.AsyncClient(base_url=harness.base, headers=harness.auth) as client:
        response = await client.post("/v1/chat/completions", json=big)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "too_large"
        assert (await client.get("/v1/models")).status_code == 200  # still serving


async def test_rate_limits_are_per_connection_and_recover(harness: Harness, tmp_path: Any) -> None:
    running, port, token = await start_gateway(
        harness.app, 0, token_dir=tmp_path, http_rate=5.0, ws_rate=5.0
    )
    try:
        assert stat.S_IMODE(running.token_file.stat().st_mode) == 0o600  # type: ignore[union-attr]
        assert running.token_file.read_text().strip() == token  # type: ignore[union-attr]
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=running.url, headers=auth) as client:
            codes = [(await client.get("/v1/models")).status_code for _ in range(30)]
            assert codes[0] == 200 and 429 in codes
            limited = await client.get("/v1/models")
            if limited.status_code == 429:
                assert int(limited.headers["retry-after"]) >= 1
        async with httpx.AsyncClient(base_url=running.url, headers=auth) as fresh:
            assert (await fresh.get("/v1/models")).status_code == 200  # a new connection
        async with connect(f"ws://127.0.0.1:{port}/ws", additional_headers=auth) as ws:
            await ws.recv()  # hello
            for i in range(30):
                await ws.send(json.dumps({"v": 1, "type": "ping", "id": i}))
            kinds = [json.loads(await ws.recv()) for _ in range(30)]
            assert {"pong", "error"} == {k["type"] for k in kinds}
            assert all(k["code"] == "rate_limited" for k in kinds if k["type"] == "error")
            await asyncio.sleep(1.0)
            await ws.send(json.dumps({"v": 1, "type": "ping", "id": "again"}))
            assert json.loads(await ws.recv()) == {"v": 1, "type": "pong", "id": "again"}
    finally:
        await running.stop()
    assert not running.token_file.exists()  # type: ignore[union-attr]


async def test_metrics_live_in_the_gateways_own_registry(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.base, headers=harness.auth) as client:
        assert (await client.get("/v1/models")).status_code == 200
    assert harness.metric(
        "quill_gateway_requests_total", route="/v1/models", method="GET", status="200"
    )
    assert prometheus_client.REGISTRY.get_sample_value("quill_gateway_requests_total") is None


async def test_only_loopback_is_served(harness: Harness) -> None:
    for host in ("0.0.0.0", "::", "localhost", "192.168.0.1"):
        with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
            await start_gateway(harness.app, 0, host=host, write_token=False)


async def test_secret_files_are_never_sent_even_with_their_text(harness: Harness) -> None:
    text = "API_KEY=sk-live-0123456789abcdef0123456789abcdef\n"
    selection = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
    frames: list[dict[str, Any]] = [
        {"v": 1, "type": "chat", "id": 1, "message": "what is it?", "file": ".env", "text": text},
        {"v": 1, "type": "action", "id": 2, "action": "explain", "file": ".env", "text": text}
        | {"range": selection},
    ]
    answers = await _ws_exchange(harness, frames)
    assert [(a["type"], a["code"]) for a in answers] == [("error", "secret_file")] * 2
