"""The gateway as one ASGI app: :func:`create_gateway`.

Routes: ``/`` (the chat page), ``/static/{name}`` (its files, from package data, by exact name
only), ``/ws``, ``/health``, ``/metrics``, ``/openapi.json``, the OpenAI-compatible ``/v1/...``
and the Continue context provider ``/context``. Every request passes the metrics and then the
security middleware (:mod:`quill.gateway.security`) before a route runs.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from functools import partial
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from quill import __version__
from quill.app import Quill
from quill.gateway.context_provider import context_provider
from quill.gateway.core import MAX_FRAME_BYTES, Gateway
from quill.gateway.metrics import CONTENT_TYPE, GatewayMetrics, MetricsMiddleware
from quill.gateway.openai_facade import Facade
from quill.gateway.openapi import openapi_spec
from quill.gateway.security import (
    Refusal,
    SecurityMiddleware,
    SecurityPolicy,
    presented_token,
    session_cookie,
)
from quill.gateway.ws import websocket_endpoint

ROUTES = (
    "/",
    "/ws",
    "/health",
    "/metrics",
    "/openapi.json",
    "/v1/models",
    "/v1/chat/completions",
    "/v1/completions",
    "/context",
)


def _static_files() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("quill.gateway") / "static"
    out: dict[str, tuple[bytes, str]] = {}
    for entry in folder.iterdir():
        if entry.is_file() and not entry.name.startswith("."):
            kind = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind == "application/javascript":
                kind += "; charset=utf-8"
            out[entry.name] = (entry.read_bytes(), kind)
    return out


def _page_headers(port: int) -> dict[str, str]:
    sockets = f"ws://127.0.0.1:{port} ws://localhost:{port}"
    return {
        "content-security-policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {sockets}; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        ),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
    }


class GatewayApp:
    """The ASGI app; ``gateway`` holds the app object, the policy and the metrics."""

    def __init__(self, gateway: Gateway, asgi: Any) -> None:
        self.gateway = gateway
        self._asgi = asgi

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._asgi(scope, receive, send)


def route_of(scope: dict[str, Any]) -> str:
    path = scope.get("path", "")
    if path in ROUTES:
        return str(path)
    if path.startswith("/static/"):
        return "/static"
    return "other"


def create_gateway(
    app: Quill,
    *,
    token: str,
    port: int,
    allowed_origins: Sequence[str] = (),
    max_body_bytes: int = 1 << 20,
    max_frame_bytes: int = MAX_FRAME_BYTES,
    http_rate: float = 50.0,
    ws_rate: float = 20.0,
) -> GatewayApp:
    """The gateway for ``app`` on ``port`` (Host and Origin are checked against it).

    ``allowed_origins`` adds origins to ``http://127.0.0.1:PORT`` and ``http://localhost:PORT``
    (e.g. an editor's webview). Rates are per connection, bursts twice the rate.
    """
    policy = SecurityPolicy(
        token=token,
        port=port,
        extra_origins=tuple(allowed_origins),
        max_body_bytes=max_body_bytes,
        http_rate=http_rate,
        http_burst=http_rate * 2,
        ws_rate=ws_rate,
        ws_burst=ws_rate * 2,
    )
    metrics = GatewayMetrics(app.completion.status)
    gateway = Gateway(app, policy, metrics, max_frame_bytes=max_frame_bytes)
    static = _static_files()
    facade = Facade(gateway)
    headers = _page_headers(port)

    async def page(request: Request) -> Response:
        _token, how = presented_token(request.scope, policy)
        if how == "query":
            # Swap the token in the URL for a cookie, and drop it from the address bar.
            response = RedirectResponse("/", status_code=303, headers=headers)
            response.headers.append("set-cookie", session_cookie(policy))
            return response
        body, _ = static["index.html"]
        return HTMLResponse(body, headers=headers)

    async def static_file(request: Request) -> Response:
        found = static.get(request.path_params["name"])
        if found is None:
            return JSONResponse({"error": {"code": "not_found", "message": "no such file"}}, 404)
        body, kind = found
        return Response(body, media_type=kind, headers=headers)

    async def health(request: Request) -> Response:
        if request.query_params.get("refresh") or not app.health:
            await app.check_models()
        models = [
            app.health[name].to_json() if name in app.health else {"name": name}
            for name in app.router.providers
        ]
        status = app.status()
        index = app.index
        return JSONResponse(
            {
                "ok": status.kind in ("Normal", "Warning"),
                "version": __version__,
                "status": status.to_json(),
                "models": models,
                "routes": {f: app.router.route(f) for f in ("completion", "chat", "actions")},
                "workspace": str(app.workspace) if app.workspace else None,
                "index": index is not None,
            }
        )

    async def metrics_route(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_spec(port))

    async def ws(websocket: WebSocket) -> None:
        await websocket_endpoint(gateway, websocket)

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static_file, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics_route, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/v1/models", facade.models, methods=["GET"]),
        Route("/v1/chat/completions", facade.chat_completions, methods=["POST"]),
        Route("/v1/completions", facade.completions, methods=["POST"]),
        Route("/context", partial(context_provider, gateway), methods=["POST"]),
        WebSocketRoute("/ws", ws),
    ]
    starlette = Starlette(routes=routes)
    secured = SecurityMiddleware(starlette, policy, on_refused=partial(_count_refusal, metrics))
    return GatewayApp(gateway, MetricsMiddleware(secured, metrics, route_of))


def _count_refusal(metrics: GatewayMetrics, scope: Any, refusal: Refusal) -> None:
    metrics.refused.labels(refusal.code).inc()
