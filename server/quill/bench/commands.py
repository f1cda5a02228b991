"""``quill bench ...``: the benchmarks' command-line arguments, and running the one asked for.

Each benchmark module is imported only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_bench_parser", "run_bench"]


def add_bench_parser(sub: Any) -> None:
    """Add ``bench`` and its subcommands to the command line's subparsers ``sub``."""
    bench = sub.add_parser("bench", help="run a benchmark")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    bench_index = bench_sub.add_parser("index", help="index speed, memory and map time")
    bench_index.add_argument("path", nargs="?", type=Path)
    bench_index.add_argument(
        "--no-compare", action="store_true", help="skip universal-ctags and aider"
    )
    bench_rules = bench_sub.add_parser(
        "rules", help="static bug rules: findings per rule and speed, beside ruff"
    )
    bench_rules.add_argument("path", nargs="?", type=Path)
    bench_rules.add_argument("--max-files", type=int, default=None)
    bench_rules.add_argument("--no-compare", action="store_true", help="skip ruff")
    bench_gateway = bench_sub.add_parser(
        "gateway", help="100 WebSocket chats at once: leaks, cost per chunk, opening a history"
    )
    bench_gateway.add_argument("--sessions", type=int, default=100)
    bench_gateway.add_argument("--chunks", type=int, default=100, help="chunks per answer")
    bench_gateway.add_argument("--history", type=int, default=10_000, help="messages")
    bench_gateway.add_argument("--pace-ms", type=float, default=20.0, help="between chunks")
    bench_gateway.add_argument(
        "--clients", choices=["process", "loop"], default="process", help="where clients run"
    )
    bench_gateway.add_argument("--json", action="store_true", help="only the JSON line")
    bench_completion = bench_sub.add_parser(
        "completion", help="replay typing against `quill lsp` and measure completions"
    )
    bench_completion.add_argument("path", nargs="?", type=Path)
    bench_completion.add_argument("--keystrokes", type=int, default=300)
    bench_completion.add_argument("--seed", type=int, default=0)
    bench_completion.add_argument(
        "--quality",
        action="store_true",
        help="held-out lines of real projects (PATH: a folder or NAME==VERSION; default: "
        "three pinned), asked with and without Quill's context: exact match, edit "
        "similarity, latency",
    )
    bench_completion.add_argument("--cases", type=int, default=60, help="with --quality")
    bench_completion.add_argument(
        "--prompt-mode", choices=["auto", "chat", "continuation"], default="auto"
    )
    bench_completion.add_argument("--model-path", help="a GGUF file for the embedded model")
    bench_completion.add_argument("--endpoint", help="an OpenAI-compatible base URL")
    bench_completion.add_argument("--model", help="the model name to request from --endpoint")
    bench_completion.add_argument("--json", action="store_true", help="one JSON line only")
    bench_context = bench_sub.add_parser(
        "context", help="recall of the definitions the next line needs, against aider"
    )
    bench_context.add_argument(
        "projects", nargs="*", help="folders or NAME==VERSION sdists (default: six pinned)"
    )
    bench_context.add_argument("--budget", type=int, default=1024)
    bench_context.add_argument("--max-cases", type=int, default=300)
    bench_context.add_argument("--seed", type=int, default=0)
    bench_soak = bench_sub.add_parser(
        "soak", help="completions, actions and chat together for a while: memory and tasks"
    )
    bench_soak.add_argument("path", nargs="?", type=Path)
    bench_soak.add_argument("--duration", type=float, default=180.0, help="seconds")
    bench_soak.add_argument("--seed", type=int, default=0)
    bench_soak.add_argument("--json", action="store_true", help="only the JSON line")


def run_bench(args: argparse.Namespace) -> int:
    """Run the benchmark ``args.bench`` with its arguments; its exit status."""
    if args.bench == "index":
        from quill.bench.index_bench import run_index_bench

        return run_index_bench(args.path, sys.stdout, compare=not args.no_compare)
    if args.bench == "rules":
        from quill.bench.rules_bench import run_rules_bench

        return run_rules_bench(
            args.path, sys.stdout, max_files=args.max_files, compare=not args.no_compare
        )
    if args.bench == "gateway":
        from quill.bench.gateway_bench import run_gateway_bench

        return run_gateway_bench(
            sys.stdout,
            sessions=args.sessions,
            chunks=args.chunks,
            history=args.history,
            pace_ms=args.pace_ms,
            clients=args.clients,
            as_json=args.json,
        )
    if args.bench == "context":
        from quill.bench.context_bench import run_context_bench

        return run_context_bench(
            list(args.projects),
            sys.stdout,
            budget=args.budget,
            max_cases=args.max_cases,
            seed=args.seed,
        )
    if args.bench == "soak":
        from quill.bench.soak_bench import run_soak_bench

        return run_soak_bench(
            args.path, sys.stdout, duration_s=args.duration, seed=args.seed, as_json=args.json
        )
    if args.bench == "completion" and args.quality:
        from quill.bench.completion_quality import run_quality_bench

        return run_quality_bench(
            [str(args.path)] if args.path is not None else [],
            sys.stdout,
            cases=args.cases,
            seed=args.seed,
            prompt_mode=args.prompt_mode,
            model_path=args.model_path,
            endpoint=args.endpoint,
            model=args.model,
            json_only=args.json,
        )
    if args.bench == "completion":
        from quill.bench.completion_bench import run_completion_bench

        return run_completion_bench(
            args.path,
            sys.stdout,
            keystrokes=args.keystrokes,
            seed=args.seed,
        )
    return 2
