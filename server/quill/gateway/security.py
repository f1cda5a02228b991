"""Security by default for the gateway: token, Origin and Host checks, size cap, rate limit.

Every HTTP request and WebSocket handshake passes :class:`SecurityMiddleware` first, in this
order:

1. **Host** must be ``127.0.0.1`` or ``localhost`` (with this server's port, or none): another
   name is a DNS-rebinding attempt (403).
2. **Origin**, when sent, must be on the allow-list (``http://127.0.0.1:PORT``,
   ``http://localhost:PORT`` and what the caller adds); ``null`` and foreign origins get 403
   (cross-site WebSocket hijacking, Ollama CVE-2024-28224).
3. **Rate**: a token bucket per connection (client address and port); over it, 429.
4. **Token**: ``Authorization: Bearer TOKEN``, or the HttpOnly ``SameSite=Strict`` cookie the
   chat page sets after it was opened once with ``?token=TOKEN``; otherwise 401.
5. **Size**: an HTTP body larger than ``max_body_bytes`` gets 413 before any route runs.

A refused WebSocket handshake gets its HTTP status through the ASGI ``websocket.http.response``
extension (uvicorn has it), else a plain close (403).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import stat
import time
from collections import OrderedDict
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import platformdirs

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = dict[str, Any]
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
#: the chat page may carry the token in its URL once; every other route needs the header
#: or the cookie
TOKEN_QUERY_PATHS = frozenset({"/"})


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def cookie_name(port: int) -> str:
    """Cookies ignore ports: each gateway names its own, so two never overwrite each other."""
    return f"quill_token_{port}"


def default_token_dir() -> Path:
    """Where token files go: the user's runtime directory, else the user state directory."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(platformdirs.user_runtime_dir("quill"))
    return Path(platformdirs.user_state_dir("quill"))


def token_file_path(port: int, directory: Path | None = None) -> Path:
    return (directory or default_token_dir()) / f"gateway-{port}.token"


def write_token_file(port: int, token: str, directory: Path | None = None) -> Path:
    """Write ``token`` to a file only the user can read (0600, in a 0700 directory)."""
    path = token_file_path(port, directory)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older file may have had other bits
        os.write(fd, (token + "\n").encode("ascii"))
    finally:
        os.close(fd)
    return path


def read_or_create_token_file(path: Path) -> str:
    """The token a user keeps in ``path`` (``quill serve --token-file``), made on first use.

    The file must be a regular file that only its owner can read; anything else is refused
    with ``ValueError``, so a token others could read is never used.
    """
    path = path.expanduser()
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = new_token()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, (token + "\n").encode("ascii"))
        finally:
            os.close(fd)
        return token
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"token file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise ValueError(
            f"token file {path} can be read by others (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run: chmod 600 {path}"
        )
    token = path.read_text(encoding="ascii", errors="replace").strip()
    if len(token) < 16 or not token.isascii() or any(c.isspace() for c in token):
        raise ValueError(f"token file {path} must hold one token of at least 16 characters")
    return token


@dataclass
class TokenBucket:
    """``rate`` requests a second on average, bursts up to ``burst``."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if self.tokens < 0:  # first use: a full bucket
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def retry_after(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate) if self.rate > 0 else 60.0


@dataclass
class SecurityPolicy:
    """What every request must satisfy."""

    token: str
    port: int
    extra_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1 << 20
    #: HTTP requests per second per connection (and the burst allowed)
    http_rate: float = 50.0
    http_burst: float = 100.0
    #: WebSocket frames per second per connection (checked by the WebSocket handler)
    ws_rate: float = 20.0
    ws_burst: float = 40.0

    @property
    def allowed_origins(self) -> frozenset[str]:
        own = {f"http://{name}:{self.port}" for name in LOOPBACK_NAMES}
        return frozenset(own | {o.rstrip("/").lower() for o in self.extra_origins})

    def host_allowed(self, host: str | None) -> bool:
        if not host:
            return False
        host = host.strip().lower()
        name, sep, port = host.rpartition(":")
        if not sep:
            name, port = host, ""
        if name not in LOOPBACK_NAMES:
            return False
        return port in ("", str(self.port))

    def origin_allowed(self, origin: str | None) -> bool:
        if origin is None:
            return True  # not a browser (curl, editors, Continue's Node side)
        return origin.strip().rstrip("/").lower() in self.allowed_origins

    def token_ok(self, candidate: str | None) -> bool:
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    def ws_bucket(self) -> TokenBucket:
        return TokenBucket(self.ws_rate, self.ws_burst)


@dataclass
class Refusal:
    status: int
    code: str
    message: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        name = key.decode("latin-1").lower()
        if name not in out:  # a repeated Host/Origin counts as its first value
            out[name] = value.decode("latin-1")
    return out


def presented_token(scope: Scope, policy: SecurityPolicy) -> tuple[str | None, str]:
    """The token a request carries and how: ``header``, ``cookie``, ``query`` or ``none``."""
    headers = _headers(scope)
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip(), "header"
    raw_cookie = headers.get("cookie")
    if raw_cookie:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw_cookie)
        except Exception:  # a malformed cookie header is only a missing token
            jar = SimpleCookie()
        morsel = jar.get(cookie_name(policy.port))
        if morsel is not None:
            return morsel.value, "cookie"
    if scope["type"] == "http" and scope.get("path") in TOKEN_QUERY_PATHS:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        values = query.get("token")
        if values:
            return values[0], "query"
    return None, "none"


class SecurityMiddleware:
    """Pure ASGI middleware: the checks above, before any route runs."""

    def __init__(self, app: Any, policy: SecurityPolicy, *, on_refused: Any = None) -> None:
        self.app = app
        self.policy = policy
        self.on_refused = on_refused  # called with (scope, refusal) for metrics
        self._buckets: OrderedDict[tuple[str, int], TokenBucket] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self.check(scope)
        if refusal is None and scope["type"] == "http":
            body, refusal = await self._read_body(scope, receive)
            if refusal is None:
                receive = _replay(body, receive)
        if refusal is not None:
            log.info("refused %s %s: %s", scope["type"], scope.get("path"), refusal.message)
            if self.on_refused is not None:
                self.on_refused(scope, refusal)
            await _send_refusal(scope, receive, send, refusal)
            return
        await self.app(scope, receive, send)

    def check(self, scope: Scope) -> Refusal | None:
        policy = self.policy
        headers = _headers(scope)
        if not policy.host_allowed(headers.get("host")):
            return Refusal(403, "bad_host", "Host must be 127.0.0.1 or localhost")
        if not policy.origin_allowed(headers.get("origin")):
            return Refusal(403, "bad_origin", "this Origin may not use Quill")
        if scope["type"] == "http" and not self._bucket(scope).take():
            retry = max(1, round(self._bucket(scope).retry_after()))
            return Refusal(
                429, "rate_limited", "too many requests", ((b"retry-after", str(retry).encode()),)
            )
        token, _how = presented_token(scope, policy)
        if not policy.token_ok(token):
            what = "missing" if token is None else "wrong"
            return Refusal(
                401,
                "unauthorized",
                f"{what} token: open the URL `quill serve` printed, "
                "or send `Authorization: Bearer TOKEN`",
                ((b"www-authenticate", b"Bearer"),),
            )
        return None

    def _bucket(self, scope: Scope) -> TokenBucket:
        client = scope.get("client") or ("?", 0)
        key = (str(client[0]), int(client[1]))
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.policy.http_rate, self.policy.http_burst)
            while len(self._buckets) > 1024:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket

    async def _read_body(self, scope: Scope, receive: Any) -> tuple[bytes, Refusal | None]:
        limit = self.policy.max_body_bytes
        too_big = Refusal(413, "too_large", f"request body over {limit} bytes")
        length = _headers(scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return b"", too_big
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the route sees an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", too_big
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), None


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return dict(await receive())

    return replay


async def _send_refusal(scope: Scope, receive: Any, send: Any, refusal: Refusal) -> None:
    body = json.dumps({"error": {"code": refusal.code, "message": refusal.message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *refusal.headers,
    ]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {"type": "websocket.http.response.start", "status": refusal.status, "headers": headers}
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


def session_cookie(policy: SecurityPolicy) -> str:
    """The Set-Cookie value the chat page gets after a valid ``?token=``."""
    return f"{cookie_name(policy.port)}={policy.token}; Path=/; HttpOnly; SameSite=Strict"


def loopback_only(host: str, allowed: Iterable[str] = ("127.0.0.1",)) -> None:
    """Raise ``ValueError`` unless ``host`` is the loopback address the gateway binds."""
    if host not in allowed:
        raise ValueError(f"refusing to listen on {host}: the gateway listens on 127.0.0.1 only")
