"""The ``quill`` command: ``lsp | serve | doctor | ask | index | map | context | bench |
settings``; logging is set up here."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from quill import __version__
from quill.bench.commands import add_bench_parser, run_bench
from quill.config import FEATURES
from quill.settings_sources import SettingsSources

log = logging.getLogger("quill")


def setup_logging(level: str = "info", log_file: str | None = None) -> None:
    """Log to stderr, or to ``log_file``; never to stdout."""
    handler: logging.Handler
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        # A copy of descriptor 2 of its own: llama.cpp points descriptor 2 at /dev/null while
        # it loads a model quietly, which would swallow whatever is logged meanwhile.
        stream: TextIO
        try:
            stream = os.fdopen(
                os.dup(sys.stderr.fileno()), "w", encoding="utf-8", errors="replace", buffering=1
            )
        except (OSError, ValueError, AttributeError):  # no real stderr (embedded, captured)
            stream = sys.stderr
        handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in ("httpx", "httpcore", "pygls.protocol", "pygls.feature_manager"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def parse_host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 127.0.0.1:2087")
    return host, int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quill", description="Quill: a local-first AI language server."
    )
    parser.add_argument("--version", action="version", version=f"quill {__version__}")
    parser.add_argument("--log-file", help="write the log here instead of stderr")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", required=True)

    lsp = sub.add_parser("lsp", help="run the language server (stdio by default)")
    lsp.add_argument(
        "--tcp",
        type=parse_host_port,
        metavar="HOST:PORT",
        help="listen on a loopback TCP port instead of stdio",
    )
    lsp.add_argument("--stdio", action="store_true", help="accepted and ignored (the default)")

    serve = sub.add_parser(
        "serve", help="serve the chat page, WebSocket and OpenAI-compatible API on 127.0.0.1"
    )
    serve.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    serve.add_argument(
        "--workspace", type=Path, help="the project to answer about (default: this folder)"
    )
    serve.add_argument(
        "--token-file",
        type=Path,
        help="keep the access token in this file (made on first use, mode 0600) so that "
        "clients such as Continue can be configured with it; default: a new token each launch",
    )

    sub.add_parser("doctor", help="check every configured model and print what was found")

    ask = sub.add_parser("ask", help="ask one question, streamed to the terminal")
    ask.add_argument("question")
    ask.add_argument("--file", type=Path, help="a file the question is about")

    index = sub.add_parser("index", help="index a workspace with tree-sitter")
    index.add_argument("path", nargs="?", type=Path, default=Path("."))
    index.add_argument("--stats", action="store_true", help="print counts per language")

    rmap = sub.add_parser("map", help="print the ranked repo map of a workspace")
    rmap.add_argument("path", nargs="?", type=Path, default=Path("."))
    rmap.add_argument("--budget", type=int, default=1024, help="token budget")
    rmap.add_argument(
        "--focus", type=Path, action="append", default=[], help="file(s) the map is ranked for"
    )

    context = sub.add_parser(
        "context", help="print the context a completion at FILE:LINE[:COL] would get"
    )
    context.add_argument("spec", metavar="FILE:LINE[:COL]")
    context.add_argument("--budget", type=int, default=1024, help="token budget")

    sub.add_parser("settings", help="print the settings reference (a Markdown table)")

    add_bench_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sources = SettingsSources(workspace=Path.cwd())
    if args.command == "lsp":
        return _run_lsp(args, sources)
    if args.command == "serve":
        return _run_serve(args, sources)
    if args.command == "settings":
        from quill.settings_doc import settings_markdown_table

        sys.stdout.write(settings_markdown_table() + "\n")
        return 0
    # Terminal commands keep their output clean: only warnings unless asked.
    setup_logging(args.log_level or "warning", args.log_file)
    if args.command == "doctor":
        return asyncio.run(doctor(sources, sys.stdout))
    if args.command == "ask":
        file_text = file_path = None
        if args.file is not None:
            try:
                file_text = args.file.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                sys.stderr.write(f"quill: cannot read {args.file}: {exc.strerror}\n")
                return 1
            file_path = args.file.as_posix()
        return asyncio.run(ask(sources, args.question, file_path, file_text, sys.stdout))
    if args.command == "index":
        from quill.index.commands import run_index

        return run_index(args.path, args.stats, sys.stdout)
    if args.command == "context":
        from quill.context.commands import run_context

        return run_context(args.spec, args.budget, sys.stdout)
    if args.command == "map":
        from quill.index.commands import run_map

        return run_map(args.path, args.budget, list(args.focus), sys.stdout)
    if args.command == "bench":
        return run_bench(args)
    return 2


def _run_lsp(args: argparse.Namespace, sources: SettingsSources) -> int:
    from quill.lsp.server import run_stdio, run_tcp

    settings, _ = sources.load()
    setup_logging(args.log_level or settings.log_level, args.log_file)
    if args.tcp:
        host, port = args.tcp
        if host not in ("127.0.0.1", "localhost", "::1"):
            log.error("refusing to listen on %s: Quill listens on loopback only", host)
            return 2
        code = run_tcp(host, port, sources)
    else:
        # stdout is the protocol: keep a private handle on it and send everything else
        # written to file descriptor 1 (stray prints, native libraries) to stderr.
        protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        code = run_stdio(sys.stdin.buffer, protocol_out, sources)
        protocol_out.flush()
    logging.shutdown()
    sys.stderr.flush()
    # Threads blocked on the editor's pipes or a model must not hold the exit.
    os._exit(code)


def _run_serve(args: argparse.Namespace, sources: SettingsSources) -> int:
    from quill.app import Quill
    from quill.gateway.runner import RunningGateway, serve

    if not 0 <= args.port <= 65535:
        sys.stderr.write(f"quill: --port {args.port} is not a port number\n")
        return 2
    if args.workspace is not None:
        if not args.workspace.is_dir():
            sys.stderr.write(f"quill: --workspace {args.workspace} is not a folder\n")
            return 2
        sources.workspace = args.workspace.resolve()
    token: str | None = None
    if args.token_file is not None:
        from quill.gateway.security import read_or_create_token_file

        try:
            token = read_or_create_token_file(args.token_file)
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"quill: --token-file: {exc}\n")
            return 2
    settings, _ = sources.load()
    setup_logging(args.log_level or settings.log_level, args.log_file)

    def announce(running: RunningGateway) -> None:
        sys.stdout.write(
            f"Quill is serving {sources.workspace}\n"
            f"  chat page:  {running.page_url}\n"
            f"  OpenAI API: {running.url}/v1  (Authorization: Bearer <token>)\n"
            f"  token file: {running.token_file}\n"
            "Open the chat page and ask about your code; Ctrl+C stops.\n"
        )
        sys.stdout.flush()

    async def run() -> int:
        return await serve(Quill(sources), args.port, announce=announce, token=token)

    return asyncio.run(run())


async def doctor(sources: SettingsSources, out: TextIO) -> int:
    from quill.app import Quill
    from quill.context.prompt import describe_prompt_mode

    app = Quill(sources)
    try:
        out.write(f"Quill {__version__}, workspace {sources.workspace}\n")
        if app.problems:
            out.write(f"settings: {len(app.problems)} ignored\n")
            for problem in app.problems:
                out.write(f"  - {problem}\n")
        else:
            out.write("settings: ok\n")
        untrusted = sources.untrusted_message()
        if untrusted:
            out.write(f"workspace not trusted: {untrusted}\n")
        results = await app.check_models(generate=True)
        for health in results:
            state = "healthy" if health.healthy else "UNAVAILABLE"
            latency = (
                f"{health.probe_latency_ms:.0f} ms"
                if health.probe_latency_ms is not None
                else "n/a"
            )
            out.write(
                f"model {health.name} ({health.provider}): {state}\n"
                f"  reachable: {'yes' if health.reachable else 'no'}; "
                f"loaded: {'yes' if health.loaded else 'no'}; model: {health.model or '?'}\n"
                f"  context size: {health.context_size or 'unknown'}; "
                f"fill-in-the-middle: {health.fim_mode}; one-token probe: {latency}\n"
            )
            provider = app.router.providers.get(health.name)
            if provider is not None and health.healthy:
                out.write(f"  completions use: {describe_prompt_mode(provider)}\n")
            if health.message:
                out.write(f"  {health.message}\n")
            for warning in health.warnings:
                out.write(f"  warning: {warning}\n")
        for feature in FEATURES:
            out.write(f"route {feature}: {' -> '.join(app.router.route(feature))}\n")
        status = app.status()
        out.write(f"status: {status.kind}: {status.message}\n")
        return 0 if status.kind in ("Normal", "Warning") else 1
    finally:
        await app.aclose()


async def ask(
    sources: SettingsSources,
    question: str,
    file_path: str | None,
    file_text: str | None,
    out: TextIO,
) -> int:
    from quill.app import Quill
    from quill.models.errors import ModelError

    app = Quill(sources)
    try:
        try:
            stream = app.ask(question, file_path=file_path, file_text=file_text)
            async for piece in stream:
                out.write(piece)
                out.flush()
        except ModelError as exc:
            sys.stderr.write(f"\nquill: {exc}\n")
            return 1
        out.write("\n")
        return 0
    finally:
        await app.aclose()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
