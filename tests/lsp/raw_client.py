"""A bare JSON-RPC client over the real stdio of `quill lsp`.

pytest-lsp's client only sends well-formed messages in the right order; the lifecycle tests
need to send broken ones too, so they talk to the server through this.
"""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Message = dict[str, Any]


class RawLspClient:
    def __init__(self, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ()) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "quill.cli", "lsp", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        self.received: list[Message] = []
        self._queue: queue.Queue[Message | None] = queue.Queue()
        self._ids = itertools.count(1)
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    # ------------------------------------------------------------- wire

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self._queue.put(None)
                    return
                if line == b"\r\n":
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert length is not None, "server sent a frame without Content-Length"
            body = out.read(length)
            self._queue.put(json.loads(body))

    def _read_stderr(self) -> None:
        err = self.proc.stderr
        assert err is not None
        for line in err:
            self.stderr_lines.append(line.decode("utf-8", "replace"))

    def send_bytes(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.proc.stdin.flush()

    def send(self, message: Message) -> None:
        self.send_bytes(json.dumps(message).encode())

    def request(self, method: str, params: Any = None) -> int:
        msg_id = next(self._ids)
        msg: Message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return msg_id

    def notify(self, method: str, params: Any = None) -> None:
        msg: Message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    # ------------------------------------------------------------ reading

    def wait_for(self, match: Callable[[Message], bool], timeout: float = 30.0) -> Message:
        for msg in self.received:
            if match(msg):
                return msg
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no matching message within {timeout}s; got {self.received[-5:]}\n"
                    + "".join(self.stderr_lines[-20:])
                )
            try:
                msg = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if msg is None:
                raise AssertionError(
                    "server closed stdout; stderr:\n" + "".join(self.stderr_lines[-30:])
                )
            self.received.append(msg)
            if match(msg):
                return msg

    def response(self, msg_id: int | None, timeout: float = 30.0) -> Message:
        return self.wait_for(
            lambda m: (
                "method" not in m and m.get("id") == msg_id and ("result" in m or "error" in m)
            ),
            timeout,
        )

    def initialize(
        self, process_id: int | None = None, options: Any = None, root: Path | None = None
    ) -> Message:
        params: Message = {"processId": process_id, "capabilities": {}}
        if root is not None:
            params["rootUri"] = root.as_uri()
        if options is not None:
            params["initializationOptions"] = options
        reply = self.response(self.request("initialize", params))
        self.notify("initialized", {})
        return reply

    def wait_exit(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
