"""Serving the gateway with uvicorn on 127.0.0.1: inside a running loop, or as ``quill serve``.

:func:`start_gateway` binds the socket itself (so ``port=0`` gives a free port whose number
the Host/Origin checks can use), writes the launch token to a 0600 file and runs uvicorn as
a task of the current event loop; uvicorn installs no signal handlers (the LSP server or
:func:`serve` own them). :func:`serve` is the standalone command: the app, the model check,
the index, the gateway, until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from quill.app import Quill
from quill.gateway.core import WS_HARD_MAX_BYTES
from quill.gateway.http import GatewayApp, create_gateway
from quill.gateway.security import loopback_only, new_token, write_token_file

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: whoever runs the loop owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class RunningGateway:
    """A gateway being served; ``await stop()`` ends it and removes the token file."""

    asgi: GatewayApp
    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int
    token: str
    token_file: Path | None
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def page_url(self) -> str:
        return f"{self.url}/?token={self.token}"

    def to_json(self) -> dict[str, object]:
        """What ``quill/status`` can announce to the editor."""
        return {
            "url": self.url,
            "port": self.port,
            "tokenFile": str(self.token_file) if self.token_file else None,
        }

    async def stop(self, grace: float = 5.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self.task), grace)
        except TimeoutError:
            self.server.force_exit = True
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        except Exception:
            log.exception("gateway stopped with an error")
        if self.token_file is not None:
            with contextlib.suppress(OSError):
                self.token_file.unlink()


def _bind(host: str, port: int) -> socket.socket:
    loopback_only(host, (HOST,))
    # IPPROTO_TCP named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only for sockets
    # that say so, and a streamed chunk must not wait 40 ms for the one after it
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def start_gateway(
    app: Quill,
    port: int = 0,
    *,
    host: str = HOST,
    token: str | None = None,
    token_dir: Path | None = None,
    write_token: bool = True,
    allowed_origins: Sequence[str] = (),
    **gateway_options: Any,
) -> tuple[RunningGateway, int, str]:
    """Serve the gateway for ``app`` on ``host:port`` (0: a free port) in the running loop.

    Returns at once, when the socket listens: ``(server, port, token)``. Raises
    ``ValueError`` for a host other than 127.0.0.1 and ``OSError`` when the port is taken.
    ``gateway_options`` go to :func:`~quill.gateway.http.create_gateway` (limits, rates).
    """
    sock = _bind(host, port)
    bound = int(sock.getsockname()[1])
    token = token or new_token()
    try:
        asgi = create_gateway(
            app, token=token, port=bound, allowed_origins=allowed_origins, **gateway_options
        )
    except BaseException:
        sock.close()
        raise
    config = uvicorn.Config(
        asgi,
        host=host,
        port=bound,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
        ws_max_size=WS_HARD_MAX_BYTES,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=2,
    )
    server = _EmbeddedServer(config)
    token_file = write_token_file(bound, token, token_dir) if write_token else None
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="gateway")
    # uvicorn offers a flag, not an event, for "listening"
    while not server.started and not task.done():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    if task.done():
        sock.close()
        if token_file is not None:
            with contextlib.suppress(OSError):
                token_file.unlink()
        task.result()  # raises what stopped it
        raise OSError(f"the gateway on port {bound} stopped while starting")
    log.info("gateway listening on http://%s:%d", host, bound)
    running = RunningGateway(asgi, server, task, bound, token, token_file)
    return running, bound, token


async def serve(
    app: Quill,
    port: int = DEFAULT_PORT,
    *,
    announce: Callable[[RunningGateway], None] | None = None,
    token_dir: Path | None = None,
    token: str | None = None,
) -> int:
    """``quill serve``: run until SIGINT/SIGTERM; the models are checked and the workspace
    indexed in the background. ``token`` is one the user keeps (``--token-file``); without
    it each launch makes a new one. Returns the exit status."""
    try:
        running, _port, _token = await start_gateway(app, port, token=token, token_dir=token_dir)
    except (OSError, ValueError) as exc:
        log.error("cannot serve on %s:%d: %s", HOST, port, exc)
        await app.aclose()
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    app.tasks.spawn(app.check_models(), "check-models")
    app.tasks.spawn(app.start_index(), "index-workspace")
    if announce is not None:
        announce(running)
    waiter = loop.create_task(stop.wait())
    try:
        await asyncio.wait({waiter, running.task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        await running.stop()
        await app.aclose()
    return 0
