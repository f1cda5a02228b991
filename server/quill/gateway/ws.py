"""``/ws``: one connection, one isolated chat session, many requests (see ``protocol``).

The reader loop validates each frame and starts a task per request; the tasks send through
one lock. A cancel cancels its request's task, whose ``finally`` closes the model stream; a
disconnect cancels every task of the connection the same way, so no model keeps generating
for a client that left.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from quill.actions.service import SecretCodeRefused
from quill.app import SecretFileRefused
from quill.chat.service import UnknownSession
from quill.gateway.chat_adapter import ChatSession, ChatTurn, open_chat
from quill.gateway.core import Gateway
from quill.gateway.features import run_action, run_completion
from quill.gateway.protocol import (
    VERSION,
    Code,
    FrameError,
    Request,
    error_frame,
    frame,
    parse_frame,
)
from quill.gateway.workspace import PathRefused
from quill.models.errors import ModelError, NoModelAvailable

log = logging.getLogger(__name__)


class Connection:
    def __init__(self, gateway: Gateway, websocket: WebSocket) -> None:
        self.gateway = gateway
        self.ws = websocket
        self.session = ChatSession()
        self.bucket = gateway.policy.ws_bucket()
        self._running: dict[str | int, asyncio.Task[None]] = {}
        self._cancelled: set[str | int] = set()
        self._send_lock = asyncio.Lock()
        self._open = True

    # ------------------------------------------------------------------ loop

    async def serve(self) -> None:
        metrics = self.gateway.metrics
        await self.ws.accept()
        metrics.ws_connections.inc()
        try:
            await self.send(
                frame(
                    "hello",
                    None,
                    session=self.session.id,
                    versions=[VERSION],
                    maxFrameBytes=self.gateway.max_frame_bytes,
                    maxInFlight=self.gateway.max_in_flight,
                )
            )
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                await self.on_message(message)
        except WebSocketDisconnect:
            pass
        finally:
            self._open = False
            metrics.ws_connections.dec()
            await self._cancel_all()

    async def on_message(self, message: Mapping[str, Any]) -> None:
        metrics = self.gateway.metrics
        text = message.get("text")
        try:
            if text is None:
                raise FrameError(Code.BAD_FRAME, "binary frames are not part of the protocol")
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > self.gateway.max_frame_bytes:
                raise FrameError(
                    Code.TOO_LARGE,
                    f"frame of {size} bytes is over the limit of {self.gateway.max_frame_bytes}",
                )
            if not self.bucket.take():
                raise FrameError(
                    Code.RATE_LIMITED,
                    f"over {self.gateway.policy.ws_rate:g} frames a second; "
                    f"retry in {self.bucket.retry_after():.1f}s",
                )
            req = parse_frame(text)
        except FrameError as exc:
            metrics.ws_frames.labels("invalid").inc()
            await self.error(exc.code, str(exc), exc.request_id)
            return
        metrics.ws_frames.labels(req.type).inc()
        if req.type == "ping":
            await self.send(frame("pong", req.id))
        elif req.type == "cancel":
            await self.cancel(req)
        else:
            await self.start(req)

    # -------------------------------------------------------------- requests

    async def start(self, req: Request) -> None:
        assert req.id is not None
        if req.id in self._running:
            await self.error(Code.DUPLICATE_ID, f"request {req.id!r} is still running", req.id)
            return
        if len(self._running) >= self.gateway.max_in_flight:
            await self.error(
                Code.BUSY,
                f"{self.gateway.max_in_flight} requests are running on this connection",
                req.id,
            )
            return
        handler: Callable[[Request], Awaitable[None]] = {
            "chat": self._chat,
            "action": self._action,
            "complete": self._complete,
            "sessions": self._sessions,
            "history": self._history,
        }[req.type]
        task = asyncio.get_running_loop().create_task(
            self._guarded(req, handler), name=f"ws-{req.type}-{req.id}"
        )
        self._running[req.id] = task

    async def cancel(self, req: Request) -> None:
        task = self._running.get(req.id) if req.id is not None else None
        if task is None or task.done() or req.id in self._cancelled:
            await self.error(Code.NOT_RUNNING, f"request {req.id!r} is not running", req.id)
            return
        assert req.id is not None
        self._cancelled.add(req.id)
        task.cancel()

    async def _guarded(self, req: Request, handler: Callable[[Request], Awaitable[None]]) -> None:
        assert req.id is not None
        started = time.perf_counter()
        try:
            await handler(req)
        except asyncio.CancelledError:
            if req.id not in self._cancelled or not self._open:
                raise
            await self.send(frame("done", req.id, cancelled=True))
        except FrameError as exc:
            await self.error(exc.code, str(exc), req.id)
        except PathRefused as exc:
            await self.error(exc.code, str(exc), req.id)
        except UnknownSession as exc:
            await self.error(Code.UNKNOWN_SESSION, str(exc), req.id)
        except (SecretFileRefused, SecretCodeRefused) as exc:
            await self.error(Code.SECRET_FILE, str(exc), req.id)
        except NoModelAvailable as exc:
            await self.error(Code.NO_MODEL, str(exc), req.id)
        except ModelError as exc:
            await self.error(Code.MODEL_ERROR, str(exc), req.id)
        except Exception:
            log.exception("WebSocket %s request failed", req.type)
            await self.error(Code.INTERNAL, "internal error; see Quill's log", req.id)
        finally:
            self._running.pop(req.id, None)
            self._cancelled.discard(req.id)
            self.gateway.metrics.observe_feature(f"ws_{req.type}", time.perf_counter() - started)

    async def _chat(self, req: Request) -> None:
        message = req.str_field("message", required=True)
        assert message is not None
        turn = ChatTurn(
            message=message,
            file=req.str_field("file"),
            text=req.str_field("text", allow_empty=True),
            line=req.int_field("line"),
        )
        app = self.gateway.app
        metrics = self.gateway.metrics
        continued = req.str_field("session")
        if continued is not None and continued != self.session.stored_id:
            if await app.chat.session(continued) is None:
                raise UnknownSession(continued)
            self.session.stored_id = continued
        chat = await open_chat(app, self.session, turn)
        pieces: list[str] = []
        app.busy(+1)
        metrics.open_streams.inc()
        finished = False
        try:
            try:
                async for piece in chat:
                    if piece:
                        pieces.append(piece)
                        await self.send(frame("chunk", req.id, text=piece))
                finished = True
            finally:
                await chat.aclose()
                app.busy(-1)
                metrics.open_streams.dec()
                # finished: the answer as kept (cut before a repetition); else what was shown
                answer = chat.text if finished else "".join(pieces)
                self.session.remember(message, answer)
                metrics.count_tokens("chat", chat.prompt_tokens, app.count_tokens(answer))
        except asyncio.CancelledError:
            if req.id in self._cancelled and self._open:
                await self.send(
                    frame("done", req.id, text=answer, model=chat.model, cancelled=True)
                )
                return
            raise
        await self.send(
            frame(
                "done",
                req.id,
                text=answer,
                model=chat.model,
                cancelled=False,
                session=self.session.id,
                context=[{"name": i.name, "description": i.description} for i in chat.context],
                usage={
                    "promptTokens": chat.prompt_tokens,
                    "completionTokens": app.count_tokens(answer),
                },
            )
        )

    async def _action(self, req: Request) -> None:
        result = await run_action(self.gateway.app, req)
        await self.send(frame("done", req.id, cancelled=False, result=result))

    async def _sessions(self, req: Request) -> None:
        found = await self.gateway.app.chat.sessions(
            limit=req.int_field("limit", low=1, high=200) or 50,
            offset=req.int_field("offset") or 0,
        )
        result = [s.to_json() for s in found]
        await self.send(frame("done", req.id, cancelled=False, result=result))

    async def _history(self, req: Request) -> None:
        session_id = req.str_field("session", required=True)
        assert session_id is not None
        chat = self.gateway.app.chat
        stored = await chat.session(session_id)
        if stored is None:
            raise UnknownSession(session_id)
        messages = await chat.history(
            session_id,
            limit=req.int_field("limit", low=1, high=1000) or 50,
            before=req.int_field("before"),
        )
        thinking = req.body.get("thinking") is True
        result = {
            "session": stored.to_json(),
            "messages": [m.to_json(thinking=thinking) for m in messages],
        }
        await self.send(frame("done", req.id, cancelled=False, result=result))

    async def _complete(self, req: Request) -> None:
        result = await run_completion(self.gateway.app, self.session.id, req)
        await self.send(frame("done", req.id, cancelled=False, result=result))

    # ------------------------------------------------------------------ sending

    async def send(self, text: str) -> None:
        if not self._open:
            return
        async with self._send_lock:
            if self.ws.application_state != WebSocketState.CONNECTED:
                return
            try:
                await self.ws.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self._open = False

    async def error(self, code: str, message: str, request_id: Any = None) -> None:
        self.gateway.metrics.ws_errors.labels(code).inc()
        await self.send(error_frame(code, message, request_id))

    async def _cancel_all(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


async def websocket_endpoint(gateway: Gateway, websocket: WebSocket) -> None:
    await Connection(gateway, websocket).serve()
