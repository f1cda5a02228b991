"""The OpenAPI 3.1 description of the gateway's HTTP routes, served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from quill import __version__


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = {"$ref": "#/components/schemas/Error"}
_REFUSED = {
    "401": _json(_ERROR, "Missing or wrong token"),
    "403": _json(_ERROR, "Host or Origin not allowed"),
    "413": _json(_ERROR, "Request body too large"),
    "429": _json(_ERROR, "Rate limit; see Retry-After"),
}
_OBJ = {"type": "object"}


def _op(summary: str, responses: dict[str, Any], body: dict[str, Any] | None = None) -> Any:
    op: dict[str, Any] = {"summary": summary, "responses": {**responses, **_REFUSED}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def openapi_spec(port: int) -> dict[str, Any]:
    message = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"enum": ["system", "user", "assistant", "tool"]},
            "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": _OBJ}]},
        },
    }
    sampling = {
        "model": {"type": "string", "description": "`quill` (the routes) or a model's name"},
        "stream": {"type": "boolean", "description": "server-sent events when true"},
        "max_tokens": {"type": "integer", "minimum": 1},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    }
    item = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "content": {"type": "string"},
        },
    }
    paths = {
        "/": {
            "get": {
                "summary": "The chat page. Open it once with ?token=TOKEN; an HttpOnly cookie "
                "(SameSite=Strict) then carries the token.",
                "parameters": [{"name": "token", "in": "query", "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "HTML page"},
                    "303": {"description": "Token accepted; cookie set"},
                    **_REFUSED,
                },
            }
        },
        "/health": {
            "get": _op(
                "Each model: reachable, loaded, context size; Quill's status. "
                "`?refresh=1` probes the models again.",
                {"200": _json(_OBJ)},
            )
        },
        "/metrics": {
            "get": _op(
                "Prometheus metrics (text exposition format)",
                {"200": {"description": "text/plain; version=0.0.4"}},
            )
        },
        "/openapi.json": {"get": _op("This document", {"200": _json(_OBJ)})},
        "/v1/models": {"get": _op("Models (OpenAI-compatible)", {"200": _json(_OBJ)})},
        "/v1/chat/completions": {
            "post": _op(
                "Chat (OpenAI-compatible) with Quill's codebase context added to the last user "
                'message; `"quill": {"context": false}` turns that off',
                {"200": _json(_OBJ, "chat.completion, or text/event-stream chunks")},
                {
                    "type": "object",
                    "required": ["messages"],
                    "properties": {
                        "messages": {"type": "array", "items": message},
                        "quill": {"type": "object", "properties": {"context": {"type": "boolean"}}},
                        **sampling,
                    },
                },
            )
        },
        "/v1/completions": {
            "post": _op(
                "Completions (OpenAI-compatible). A prompt with fill-in-the-middle tokens "
                "(Qwen, StarCoder, CodeLlama, DeepSeek, Codestral, CodeGemma) or with `suffix` "
                "goes through Quill's completion pipeline.",
                {"200": _json(_OBJ, "text_completion, or text/event-stream chunks")},
                {
                    "type": "object",
                    "required": ["prompt"],
                    "properties": {"prompt": {"type": "string"}, "suffix": {"type": "string"}}
                    | sampling,
                },
            )
        },
        "/context": {
            "post": _op(
                "Continue `http` context provider: codebase context for a query",
                {"200": _json({"type": "array", "items": item})},
                {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string"},
                        "fullInput": {"type": "string"},
                        "options": _OBJ,
                        "workspacePath": {"type": "string"},
                    },
                },
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Quill gateway",
            "version": __version__,
            "description": "Quill's local HTTP API. The WebSocket protocol at /ws is described "
            "in quill/gateway/protocol.py. Every request needs the launch token.",
        },
        "servers": [{"url": f"http://127.0.0.1:{port}"}],
        "security": [{"bearer": []}, {"cookie": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": f"quill_token_{port}"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                }
            },
        },
        "paths": paths,
    }
