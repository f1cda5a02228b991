"""A bare JSON-RPC client over the real stdio of `quill lsp`.

pytest-lsp's client only sends well-formed messages in the right order; the lifecycle tests
need to send broken ones too, so they talk to the server through Quill's own client
(:class:`quill.lsp.client.StdioClient`), with failures turned into assertion errors that
show the last messages and the server's stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from quill.lsp.client import ClientError, Message, StdioClient, quill_lsp_command

__all__ = ["Message", "RawLspClient"]


class RawLspClient(StdioClient):
    def __init__(self, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ()) -> None:
        super().__init__(quill_lsp_command(*args), cwd=cwd, env=env)

    def wait_for(self, match: Callable[[Message], bool], timeout: float = 30.0) -> Message:
        try:
            return super().wait_for(match, timeout)
        except ClientError as exc:
            raise AssertionError(
                f"{exc}; got {self.received[-5:]}\nstderr:\n" + "".join(self.stderr_tail(30))
            ) from None

    def initialize(
        self, process_id: int | None = None, options: Any = None, root: Path | None = None
    ) -> Message:
        params: Message = {"processId": process_id, "capabilities": {}}
        if root is not None:
            params["rootUri"] = root.as_uri()
        if options is not None:
            params["initializationOptions"] = options
        reply = self.response(self.call("initialize", params))
        self.notify("initialized", {})
        return reply

    def wait_exit(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout=timeout)

    def close(self, *, shutdown: bool = False, grace_s: float = 0.0) -> None:
        """Kill the server unless told to shut it down: the tests end it their own way."""
        super().close(shutdown=shutdown, grace_s=grace_s)
