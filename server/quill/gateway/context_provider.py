"""Continue's ``http`` context provider: ``POST /context``.

Continue posts ``{query, fullInput, options, workspacePath}`` and shows the answer,
``[{name, description, content}]``, as context items. The items come from this gateway's own
workspace (:mod:`quill.gateway.codebase`); ``workspacePath`` only decides whether that is the
project the user is in (another project gets ``[]``): no path a client sends is read.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from quill.gateway.codebase import codebase_context
from quill.gateway.core import Gateway
from quill.gateway.openai_facade import BadRequest, json_object


def same_workspace(root: Path | None, value: Any) -> bool:
    """Whether ``value`` (a path or ``file://`` URI) is ``root``, inside it, or above it."""
    if not value or root is None:
        return True
    if not isinstance(value, str):
        return False
    path = unquote(value.removeprefix("file://"))
    try:
        given = Path(path).resolve()
        base = root.resolve()
    except (OSError, ValueError):
        return False
    return given == base or given.is_relative_to(base) or base.is_relative_to(given)


async def context_provider(gateway: Gateway, request: Request) -> Response:
    started = time.perf_counter()
    try:
        body = await json_object(request)
    except BadRequest as exc:
        return JSONResponse({"error": str(exc)}, 400)
    query = body.get("query") or body.get("fullInput") or ""
    if not isinstance(query, str):
        return JSONResponse({"error": "`query` must be a string"}, 400)
    if not same_workspace(gateway.app.workspace, body.get("workspacePath")):
        return JSONResponse([])
    items = await codebase_context(gateway.app, query)
    gateway.metrics.observe_feature("context_provider", time.perf_counter() - started)
    return JSONResponse([item.to_json() for item in items])
