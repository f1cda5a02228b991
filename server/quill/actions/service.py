"""Code actions, transport-free: explain, refactor, add a docstring, fix, generate tests, and a
model review that finds bugs.

Every prompt goes through :func:`quill.context.prompt.action_messages` with the code of the
target and the definitions it uses from other files; secrets are redacted before anything is
sent, and files that hold secrets are refused. The answers come back as plain values: Markdown,
line replacements, test code, findings. A front door turns them into its protocol.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from quill.actions.edits import RewriteRejected, TextReplacement, extract_code, rewrite_target
from quill.actions.targets import Target, syntax_errors
from quill.chat.repetition import stop_on_repetition
from quill.config import ActionsSettings
from quill.context.budget import file_window
from quill.context.prompt import action_messages
from quill.index.languages import docstring_style
from quill.models.base import ChatMessage, GenerationOptions
from quill.models.errors import ModelRequestRejected
from quill.models.router import ModelRouter
from quill.models.tokens import estimate_tokens
from quill.safety.secrets import is_secret_file, redact_with_count

__all__ = [
    "ACTIONS",
    "ActionInput",
    "ActionService",
    "ActionSpec",
    "ModelFinding",
    "RewriteRejected",
    "SecretCodeRefused",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionSpec:
    """One action as menus show it."""

    id: str
    title: str  # "{target}" is replaced by e.g. "function area"
    edits: bool  # its result is an edit of the workspace


ACTIONS: dict[str, ActionSpec] = {
    spec.id: spec
    for spec in (
        ActionSpec("explain", "Quill: Explain {target}", False),
        ActionSpec("refactor", "Quill: Refactor {target}", True),
        ActionSpec("findBugs", "Quill: Find bugs in {target}", False),
        ActionSpec("generateTests", "Quill: Generate tests for {target}", True),
        ActionSpec("addDocstring", "Quill: Add docstring to {target}", True),
        ActionSpec("fix", "Quill: Fix: {problem}", True),
    )
}


class SecretCodeRefused(ModelRequestRejected):
    """The code is in a file that holds secrets (``.env``, keys): it is never sent."""


@dataclass(frozen=True)
class ActionInput:
    """What an action works on."""

    path: str | None  # workspace-relative (or a file name)
    language: str | None
    document: str  # the whole document's text
    target: Target
    instruction: str = ""  # refactor: what the user asked for
    problem: str = ""  # fix: the diagnostic's message


@dataclass(frozen=True)
class ModelFinding:
    """A bug the model review reported, on a document line."""

    line: int
    message: str
    severity: str = "warning"


ContextFor = Callable[[str | None, str, int, int], Awaitable[str]]


class ActionService:
    def __init__(
        self,
        router: Callable[[], ModelRouter],
        settings: Callable[[], ActionsSettings],
        context_for: ContextFor | None = None,
    ) -> None:
        self._router = router
        self._settings = settings
        self._context_for = context_for

    # ---------------------------------------------------------------- actions

    async def explain(self, inp: ActionInput) -> str:
        """Markdown that explains the target."""
        answer = await self._ask("explain", inp)
        return answer.strip() or "The model gave no explanation."

    async def rewrite(self, action: str, inp: ActionInput) -> list[TextReplacement]:
        """Edits for ``refactor``, ``addDocstring`` or ``fix``; raises
        :class:`RewriteRejected` with a message for the user when there is no usable code."""
        template, extra = {
            "refactor": ("refactor", {"instruction": inp.instruction or "Make it clearer."}),
            "addDocstring": ("docstring", {"docstring_style": docstring_style(inp.language)}),
            "fix": ("fix", {"problem": inp.problem or "a bug"}),
        }[action]
        reply = await self._ask(template, inp, **extra)
        return rewrite_target(
            inp.document,
            inp.target,
            reply,
            inp.language,
            documentation_only_=action == "addDocstring",
        )

    async def tests(self, inp: ActionInput, *, framework: str, header: str) -> str:
        """Test code for the target, to follow ``header`` in the test file."""
        reply = await self._ask("tests", inp, framework=framework, header=header.rstrip("\n"))
        code = extract_code(reply)
        if not code.strip():
            raise RewriteRejected("the model's answer holds no test code")
        if header and code.lstrip().startswith(header.strip()):
            code = code.lstrip()[len(header.strip()) :].lstrip("\n")
        if "test" not in code.lower() and "assert" not in code.lower():
            raise RewriteRejected("the model's answer holds no tests; nothing was written")
        errors = syntax_errors(header + code, inp.language)
        if errors:
            raise RewriteRejected(
                f"the model's tests do not parse ({errors} syntax error(s)); nothing was written"
            )
        return code

    async def review(self, inp: ActionInput) -> list[ModelFinding]:
        """Bugs the model finds, validated; an invalid answer is retried once, then dropped."""
        numbered = "".join(
            f"{inp.target.start_line + i + 1:>4}| {line}\n"
            for i, line in enumerate(inp.target.text.rstrip("\n").split("\n"))
        )
        for attempt in range(2):
            reply = await self._ask("review", inp, code_override=numbered)
            findings = parse_findings(reply, inp.target)
            if findings is not None:
                return findings
            log.info("review answer was not valid JSON findings (attempt %d)", attempt + 1)
        return []

    # ---------------------------------------------------------------- the model

    async def _ask(self, template: str, inp: ActionInput, **values: str) -> str:
        messages = await self._messages(template, inp, **values)
        settings = self._settings()
        options = GenerationOptions(
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            priority="actions",
        )
        stream = self._router().stream_chat("actions", messages, options)
        return await stream.pipe(stop_on_repetition).text()

    async def _messages(self, template: str, inp: ActionInput, **values: str) -> list[ChatMessage]:
        if is_secret_file(inp.path):
            raise SecretCodeRefused(f"{inp.path} holds secrets; it is never sent to a model")
        settings = self._settings()
        count = self._counter()
        code = values.pop("code_override", inp.target.text)
        code = file_window(code, None, max(64, settings.context_tokens * 2 // 3), count)
        context = ""
        if self._context_for is not None:
            context = await self._context_for(
                inp.path, inp.document, inp.target.start_line, settings.context_tokens // 3
            )
        code, _ = redact_with_count(code)
        context, _ = redact_with_count(context)
        instruction, _ = redact_with_count(values.get("instruction", ""))
        if "instruction" in values:
            values["instruction"] = instruction
        return action_messages(
            template,
            code=code,
            path=inp.path,
            language=inp.language,
            target=inp.target.title,
            context=context,
            **values,
        )

    def _counter(self) -> Callable[[str], int]:
        provider = self._router().primary("actions")
        return provider.tokens if provider is not None else estimate_tokens


_JSON_ARRAY = re.compile(r"\[.*\]", re.DOTALL)
_SEVERITIES = frozenset({"error", "warning", "information", "hint"})


def parse_findings(reply: str, target: Target) -> list[ModelFinding] | None:
    """Findings from a review answer, or ``None`` when it is not a valid JSON array of
    ``{line, message[, severity]}`` objects. Lines outside the target are dropped."""
    match = _JSON_ARRAY.search(reply)
    if match is None:
        return None
    try:
        data: Any = json.loads(match.group(0))
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    out: list[ModelFinding] = []
    seen: set[tuple[int, str]] = set()
    for item in data:
        if not isinstance(item, dict):
            return None
        line, message = item.get("line"), item.get("message")
        if not isinstance(line, int) or not isinstance(message, str) or not message.strip():
            return None
        severity = item.get("severity", "warning")
        if severity not in _SEVERITIES:
            severity = "warning"
        doc_line = line - 1  # the prompt numbers lines from 1
        if not target.start_line <= doc_line <= target.end_line:
            continue
        key = (doc_line, message.strip())
        if key not in seen:
            seen.add(key)
            out.append(ModelFinding(doc_line, message.strip(), severity))
    return out
