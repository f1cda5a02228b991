"""A small JSON-RPC client of an LSP server running as a child process, over its stdio.

What ``quill bench completion`` and the lifecycle tests drive ``quill lsp`` with: it sends
anything (well-formed requests and notifications, or raw bytes), keeps every message the
server sends, and times each request. A thread reads the server's output; the caller waits
on a condition (:meth:`StdioClient.wait_until`, :meth:`StdioClient.wait_for`), so it never
blocks on a pipe. The wire is :mod:`quill.lsp.jsonrpc`. Nothing here imports pygls.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from quill.lsp.jsonrpc import encode_message, frame_body, read_message

__all__ = [
    "Call",
    "ClientError",
    "Message",
    "StdioClient",
    "null_answers",
    "quill_lsp_command",
]

Message = dict[str, Any]

#: how long :meth:`StdioClient.request` waits for an answer unless told otherwise
REQUEST_TIMEOUT_S = 30.0


class ClientError(RuntimeError):
    """The server cannot be talked to: it is gone, did not answer in time, or answered a
    request with an error. The message is one line, with the exit code and the last line
    of the server's stderr when there are any."""


def quill_lsp_command(*args: str) -> list[str]:
    """``quill lsp`` run by this interpreter."""
    return [sys.executable, "-m", "quill.cli", "lsp", *args]


def null_answers(method: str, params: Any) -> Any:
    """Answers to the server's requests from an editor with nothing to say: ``null``, and
    one ``null`` per item asked for by ``workspace/configuration``."""
    if method == "workspace/configuration":
        items = params.get("items") if isinstance(params, dict) else None
        return [None for _ in items or ()]
    return None


@dataclass
class Call:
    """One request sent, and its answer once it arrived (``perf_counter`` times)."""

    id: int
    method: str
    sent: float = 0.0
    arrived: float | None = None
    result: Any = None
    error: Any = None

    @property
    def rtt_ms(self) -> float | None:
        return None if self.arrived is None else (self.arrived - self.sent) * 1000.0


class StdioClient:
    """Starts ``command`` and talks JSON-RPC to it over its stdin and stdout.

    The server's stderr goes to ``stderr_log`` when given (and stays there), else it is
    kept in :attr:`stderr_lines`. Every message the server sends is appended to
    :attr:`received`. With ``answer``, each request from the server is answered with
    ``answer(method, params)`` as its result (so that it never waits); without, it is left
    unanswered.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        stderr_log: Path | None = None,
        answer: Callable[[str, Any], Any] | None = None,
    ) -> None:
        self.stderr_log = stderr_log
        self.stderr_lines: list[str] = []
        self.received: list[Message] = []
        self.closed_reason: str | None = None
        #: set while shutting down: the server's end of input is then no error
        self.exiting = False
        self._answer = answer
        self._log: IO[bytes] | None = stderr_log.open("wb") if stderr_log is not None else None
        try:
            self.proc = subprocess.Popen(
                list(command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log if self._log is not None else subprocess.PIPE,
                cwd=cwd,
                env=None if env is None else dict(env),
            )
        except OSError as exc:
            if self._log is not None:
                self._log.close()
            raise ClientError(f"cannot start {' '.join(command)}: {exc.strerror or exc}") from exc
        self._cond = threading.Condition()
        self._calls: dict[int, Call] = {}
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        readers = [self._read] + ([self._read_stderr] if self._log is None else [])
        for reader in readers:
            threading.Thread(target=reader, name="quill-client-reader", daemon=True).start()

    # ------------------------------------------------------------------ wire

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        reason = "the server closed its output"
        try:
            while True:
                message = read_message(stream)
                self._dispatch(message, time.perf_counter())
        except EOFError:
            pass
        except (ValueError, OSError) as exc:
            reason = f"unreadable message from the server: {exc}"
        finally:
            with self._cond:
                self.closed_reason = self.closed_reason or reason
                self._cond.notify_all()

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        try:
            for line in stream:
                self.stderr_lines.append(line.decode("utf-8", "replace"))
        except (OSError, ValueError):
            pass  # closed by close()

    def _dispatch(self, message: Any, now: float) -> None:
        if not isinstance(message, dict):
            return
        is_request = "method" in message and "id" in message
        with self._cond:
            self.received.append(message)
            if "method" not in message:
                msg_id = message.get("id")
                call = self._calls.pop(msg_id, None) if isinstance(msg_id, int) else None
                if call is not None:
                    call.result = message.get("result")
                    call.error = message.get("error")
                    call.arrived = now
            self._cond.notify_all()
        if is_request and self._answer is not None:
            result = self._answer(str(message["method"]), message.get("params"))
            try:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            except ClientError:
                pass

    def send_bytes(self, body: bytes) -> None:
        """Send ``body`` as one frame, whatever it holds."""
        self._write(frame_body(body))

    def send(self, message: Message) -> None:
        self._write(encode_message(message))

    def _write(self, data: bytes) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            with self._write_lock:
                stdin.write(data)
                stdin.flush()
        except (OSError, ValueError) as exc:
            raise ClientError(self.why(f"cannot write to the server ({exc})")) from exc

    # ------------------------------------------------------------------ calls

    def call(self, method: str, params: Any = None) -> Call:
        """Send a request (``params`` left out when ``None``) without waiting for it."""
        with self._cond:
            if self.closed_reason is not None:
                raise ClientError(self.why(self.closed_reason))
            call = Call(next(self._ids), method)
            self._calls[call.id] = call
        message: Message = {"jsonrpc": "2.0", "id": call.id, "method": method}
        if params is not None:
            message["params"] = params
        call.sent = time.perf_counter()
        self.send(message)
        return call

    def take_received(self) -> list[Message]:
        """Every message received so far, removed from :attr:`received` (a long session
        would otherwise keep them all)."""
        with self._cond:
            taken, self.received = self.received, []
        return taken

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (``params`` left out when ``None``)."""
        message: Message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def request(self, method: str, params: Any = None, timeout: float = REQUEST_TIMEOUT_S) -> Any:
        """Send a request and wait for its result; raise :class:`ClientError` for an error
        answer or none within ``timeout`` seconds."""
        call = self.call(method, params)
        if not self.wait(call, timeout):
            raise ClientError(self.why(f"no answer to {method} within {timeout:.0f} s"))
        if call.error is not None:
            message = call.error.get("message") if isinstance(call.error, dict) else call.error
            raise ClientError(f"{method} failed: {message}")
        return call.result

    # ------------------------------------------------------------------ waiting

    def wait_until(self, deadline: float, ready: Callable[[], bool] = lambda: False) -> bool:
        """Wait until ``ready()`` or ``deadline`` (``perf_counter``); whether it is ready.
        Raises :class:`ClientError` when the server's output ended (unless exiting)."""
        with self._cond:
            done = self._cond.wait_for(
                lambda: ready() or self.closed_reason is not None,
                timeout=max(0.0, deadline - time.perf_counter()),
            )
            if self.closed_reason is not None and not self.exiting:
                raise ClientError(self.why(self.closed_reason))
            return bool(done) and ready()

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass, raising if the server goes away meanwhile."""
        self.wait_until(time.perf_counter() + seconds)

    def wait(self, call: Call, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the answer to ``call``; whether it came."""
        return self.wait_until(time.perf_counter() + timeout, lambda: call.arrived is not None)

    def wait_for(self, match: Callable[[Message], bool], timeout: float = 30.0) -> Message:
        """The first message received (earlier ones included) for which ``match`` holds,
        waiting up to ``timeout`` seconds for it; raises :class:`ClientError` when none."""
        deadline = time.perf_counter() + timeout
        seen = 0
        with self._cond:
            while True:
                for message in self.received[seen:]:
                    if match(message):
                        return message
                seen = len(self.received)
                if self.closed_reason is not None:
                    raise ClientError(self.why(self.closed_reason))
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise ClientError(self.why(f"no matching message within {timeout:g} s"))
                self._cond.wait(remaining)

    def response(self, call: Call | int | None, timeout: float = 30.0) -> Message:
        """The response to ``call`` (or to the request with that id; ``None``: the response
        to no request, as a ParseError is), waiting up to ``timeout`` seconds for it."""
        msg_id = call.id if isinstance(call, Call) else call
        return self.wait_for(
            lambda m: (
                "method" not in m and m.get("id") == msg_id and ("result" in m or "error" in m)
            ),
            timeout,
        )

    # ------------------------------------------------------------------ diagnostics

    def stderr_tail(self, lines: int) -> list[str]:
        """The last ``lines`` lines the server wrote to stderr."""
        if self.stderr_log is None:
            return self.stderr_lines[-lines:]
        try:
            text = self.stderr_log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines(keepends=True)[-lines:]

    def why(self, reason: str) -> str:
        """``reason``, with the exit code and the last line of the server's stderr if any."""
        parts = [reason]
        code = self.proc.poll()
        if code is not None:
            parts.append(f"exit code {code}")
        last = "".join(self.stderr_tail(1)).strip()[:300]
        if last:
            parts.append(f"log: {last}")
        return "; ".join(parts)

    # ------------------------------------------------------------------ ending

    def close(self, *, shutdown: bool = True, grace_s: float = 5.0) -> None:
        """End the server: with ``shutdown``, politely (``shutdown``, then ``exit``); it is
        killed if it has not exited ``grace_s`` seconds later."""
        if shutdown and self.proc.poll() is None and self.closed_reason is None:
            try:
                self.request("shutdown", None, timeout=10.0)
                self.exiting = True
                self.notify("exit")
            except ClientError:
                pass
        self.exiting = True
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        if self._log is not None:
            self._log.close()
