"""Prometheus metrics of one gateway, in a registry it owns (never the global one).

Request counts and latency per route, feature timings (chat, completion, actions, the
OpenAI-compatible facade, the context provider), tokens in and out per feature, WebSocket
connections, frames and error codes, open model streams, and, read from the app at scrape
time, the completion pipeline's counters and cache hit rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _CompletionCollector(Collector):
    """The completion pipeline's counters, read from the app when scraped."""

    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        self._status = status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            status = self._status()
        except Exception:  # a scrape must not fail because the app is shutting down
            return
        for key, name, doc in (
            ("requests", "quill_completion_requests", "Completion requests served"),
            ("modelCalls", "quill_completion_model_calls", "Completion requests sent to a model"),
            ("cacheHitRate", "quill_completion_cache_hit_rate", "Completion cache hit rate"),
            ("acceptanceRate", "quill_completion_acceptance_rate", "Suggestions accepted"),
        ):
            value = status.get(key)
            if isinstance(value, int | float):
                yield GaugeMetricFamily(name, doc, value=float(value))


class GatewayMetrics:
    def __init__(self, completion_status: Callable[[], dict[str, Any]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "quill_gateway_requests",
            "HTTP requests and WebSocket handshakes by route, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "quill_gateway_request_seconds",
            "HTTP request latency by route (until the last byte of the response)",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.feature_latency = Histogram(
            "quill_gateway_feature_seconds",
            "Time a feature took, model included",
            ["feature"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "quill_gateway_tokens",
            "Tokens sent to (prompt) and received from (completion) models, by feature",
            ["feature", "kind"],
            registry=r,
        )
        self.refused = Counter(
            "quill_gateway_refused", "Requests refused by the security checks", ["code"], registry=r
        )
        self.ws_connections = Gauge(
            "quill_gateway_ws_connections", "Open WebSocket connections", registry=r
        )
        self.ws_frames = Counter(
            "quill_gateway_ws_frames", "WebSocket frames received, by type", ["type"], registry=r
        )
        self.ws_errors = Counter(
            "quill_gateway_ws_errors", "Error frames sent, by code", ["code"], registry=r
        )
        self.open_streams = Gauge(
            "quill_gateway_open_streams", "Model streams the gateway holds open", registry=r
        )
        if completion_status is not None:
            r.register(_CompletionCollector(completion_status))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observe_feature(self, feature: str, seconds: float) -> None:
        self.feature_latency.labels(feature).observe(seconds)

    def count_tokens(self, feature: str, prompt: int, completion: int) -> None:
        if prompt:
            self.tokens.labels(feature, "prompt").inc(prompt)
        if completion:
            self.tokens.labels(feature, "completion").inc(completion)


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (bounded labels)."""

    def __init__(self, app: Any, metrics: GatewayMetrics, route_of: Callable[[Any], str]) -> None:
        self.app = app
        self.metrics = metrics
        self.route_of = route_of

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 0}

        async def counting_send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status["code"] = int(message["status"])
            elif kind == "websocket.accept":
                status["code"] = 101
            elif kind == "websocket.close" and not status["code"]:
                status["code"] = 403
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            route = self.route_of(scope)
            method = scope.get("method", "WS") if scope["type"] == "http" else "WS"
            self.metrics.requests.labels(route, method, str(status["code"] or 500)).inc()
            if scope["type"] == "http":
                self.metrics.latency.labels(route).observe(time.perf_counter() - started)
