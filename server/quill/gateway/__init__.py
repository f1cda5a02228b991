"""Front door 2: HTTP + WebSocket on uvicorn (chat page, WebSocket protocol, OpenAI-compatible
facade, Continue context provider, health, metrics), bound to 127.0.0.1 behind a launch token.

Entry points: :func:`quill.gateway.http.create_gateway` (the ASGI app),
:func:`quill.gateway.runner.start_gateway` (serve it in the running loop) and
:func:`quill.gateway.runner.serve` (``quill serve``). Import them from those modules; this
package imports nothing at import time.
"""
