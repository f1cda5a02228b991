"""The gateway object: the app it fronts, its security policy, its metrics and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from quill.app import Quill
from quill.gateway.metrics import GatewayMetrics
from quill.gateway.security import SecurityPolicy

#: the largest WebSocket frame answered with an error frame; larger ones (up to the
#: transport's hard cap, :data:`WS_HARD_MAX_BYTES`) are refused the same way, beyond it the
#: transport closes the connection (1009)
MAX_FRAME_BYTES = 256 * 1024
WS_HARD_MAX_BYTES = 16 * 1024 * 1024
#: requests one WebSocket connection may have running at once
MAX_IN_FLIGHT = 4


@dataclass
class Gateway:
    app: Quill
    policy: SecurityPolicy
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    max_frame_bytes: int = MAX_FRAME_BYTES
    max_in_flight: int = MAX_IN_FLIGHT

    @property
    def port(self) -> int:
        return self.policy.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.policy.port}"

    def page_url(self) -> str:
        """The chat page's URL with the token (open it once; a cookie takes over)."""
        return f"{self.base_url}/?token={self.policy.token}"
