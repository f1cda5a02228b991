"""Fill-in-the-middle prompts: one TOML data file per model family, and a chat "hole filler".

FIM templates live in ``quill/prompts/fim/*.toml``. Each file names its family, the regular
expressions (searched case-insensitively in a model name) that choose it, the template with
``{{placeholders}}`` and the stop tokens. Every template puts the context first and the text
being typed last, so a server's prompt (KV) cache keeps the stable part between keystrokes.

Instruct-only models (the embedded SmolLM2-135M-Instruct is one) get a chat prompt instead:
the file with a ``{{FILL_HERE}}`` marker, and the instruction to answer with only the text
that replaces it. Its text lives in ``quill/prompts/completion/*.md``. What the model answers
is cleaned up by :mod:`quill.completion.answers`.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from quill.prompts import read_prompt
from quill.prompts.placeholders import context_section, fill_placeholders, placeholder_names

__all__ = [
    "FILL_MARKER",
    "FimTemplate",
    "build_hole_filler_messages",
    "fim_template_for_family",
    "load_fim_templates",
    "select_fim_template",
]

logger = logging.getLogger(__name__)

FILL_MARKER = "{{FILL_HERE}}"
"""The marker the hole-filler prompt puts where the completion goes."""

_FIM_DIR = "fim"
_TEMPLATE_PLACEHOLDERS = frozenset({"prefix", "suffix", "file_path", "repo_name"})
_CONTEXT_FILE_PLACEHOLDERS = frozenset({"path", "content", "comment"})


@dataclass(frozen=True)
class FimTemplate:
    """One model family's fill-in-the-middle prompt format."""

    family: str
    description: str
    model_patterns: tuple[str, ...]
    template: str
    template_with_context: str
    context_file: str
    stop: tuple[str, ...]
    file_separator: str | None = None
    source: str = ""

    def matches(self, model_name: str) -> bool:
        """Whether one of this family's patterns occurs in ``model_name`` (any case)."""
        return any(re.search(pattern, model_name, re.IGNORECASE) for pattern in self.model_patterns)

    def render(
        self,
        prefix: str,
        suffix: str,
        context: str = "",
        file_path: str = "",
        *,
        repo_name: str = "workspace",
    ) -> str:
        """The prompt for completing between ``prefix`` and ``suffix``.

        ``context`` (code from elsewhere in the project) goes first. For families with a file
        separator token, context that is not already laid out as files (see
        :meth:`format_context_files`) is wrapped as one pseudo-file named ``context``.
        """
        if not context.strip():
            return fill_placeholders(
                self.template,
                {
                    "prefix": prefix,
                    "suffix": suffix,
                    "file_path": file_path,
                    "repo_name": repo_name,
                },
            )
        if self.file_separator and not context.startswith(self.file_separator):
            context = self.format_context_files([("context", context)])
        elif not context.endswith("\n"):
            context += "\n"
        return fill_placeholders(
            self.template_with_context,
            {
                "prefix": prefix,
                "suffix": suffix,
                "context": context,
                "file_path": file_path,
                "repo_name": repo_name,
            },
        )

    def format_context_files(self, files: Iterable[tuple[str, str]], comment: str = "#") -> str:
        """Lay out ``(path, content)`` pairs the way this family saw other files in training.

        ``comment`` starts a line comment in the current language; families without a file
        separator put each path in such a comment.
        """
        parts = []
        for path, content in files:
            body = content[:-1] if content.endswith("\n") else content
            parts.append(
                fill_placeholders(
                    self.context_file, {"path": path, "content": body, "comment": comment}
                )
            )
        return "".join(parts)


def _string_tuple(data: dict[str, object], key: str, source: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{source}: {key!r} must be a list of strings")
    return tuple(str(item) for item in value)


def _string(data: dict[str, object], key: str, source: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{source}: {key!r} must be a string")
    return value


def _check_template(template: str, *, with_context: bool, source: str) -> None:
    names = placeholder_names(template)
    allowed = _TEMPLATE_PLACEHOLDERS | ({"context"} if with_context else set())
    unknown = set(names) - allowed
    if unknown:
        raise ValueError(f"{source}: unknown placeholders {sorted(unknown)}")
    required = ["prefix", "suffix"] + (["context"] if with_context else [])
    for name in required:
        if names.count(name) != 1:
            raise ValueError(f"{source}: {{{{{name}}}}} must appear exactly once")
    if with_context and names.index("context") > names.index("prefix"):
        raise ValueError(f"{source}: the context must come before the prefix")


def parse_fim_template(text: str, source: str = "<string>") -> FimTemplate:
    """Parse and validate one FIM data file; ``ValueError`` says what is wrong with it."""
    try:
        data: dict[str, object] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: {exc}") from exc
    family = _string(data, "family", source)
    patterns = _string_tuple(data, "model_patterns", source)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{source}: bad pattern {pattern!r}: {exc}") from exc
    template = _string(data, "template", source)
    with_context = _string(data, "template_with_context", source)
    context_file = _string(data, "context_file", source)
    _check_template(template, with_context=False, source=source)
    _check_template(with_context, with_context=True, source=source)
    unknown = set(placeholder_names(context_file)) - _CONTEXT_FILE_PLACEHOLDERS
    if unknown or "content" not in placeholder_names(context_file):
        raise ValueError(f"{source}: context_file needs {{{{content}}}} and knows path, comment")
    separator = data.get("file_separator")
    if separator is not None and not isinstance(separator, str):
        raise ValueError(f"{source}: 'file_separator' must be a string")
    return FimTemplate(
        family=family,
        description=_string(data, "description", source, ""),
        model_patterns=patterns,
        template=template,
        template_with_context=with_context,
        context_file=context_file,
        stop=_string_tuple(data, "stop", source),
        file_separator=separator or None,
        source=source,
    )


@cache
def load_fim_templates() -> tuple[FimTemplate, ...]:
    """Every FIM template shipped under ``quill/prompts/fim``, in file-name order."""
    directory = resources.files("quill.prompts").joinpath(_FIM_DIR)
    names = sorted(entry.name for entry in directory.iterdir() if entry.name.endswith(".toml"))
    return tuple(
        parse_fim_template(read_prompt(f"{_FIM_DIR}/{name}"), f"{_FIM_DIR}/{name}")
        for name in names
    )


def select_fim_template(model_name: str) -> FimTemplate | None:
    """The FIM template for ``model_name``, or ``None`` when no family matches.

    ``None`` means: use the chat hole filler (:func:`build_hole_filler_messages`).
    """
    for template in load_fim_templates():
        if template.matches(model_name):
            logger.debug("model %r uses the %s FIM template", model_name, template.family)
            return template
    return None


def fim_template_for_family(family: str) -> FimTemplate | None:
    """The FIM template whose family is ``family`` (for an explicit setting)."""
    for template in load_fim_templates():
        if template.family == family:
            return template
    return None


# --- the chat hole filler -------------------------------------------------------------------


def build_hole_filler_messages(
    prefix: str,
    suffix: str,
    context: str,
    language: str,
    file_path: str,
) -> list[dict[str, str]]:
    """Chat messages asking an instruct model for the text that replaces ``{{FILL_HERE}}``.

    The system message never changes and the user message starts with the context, so the
    parts that change from keystroke to keystroke come last.
    """
    user = fill_placeholders(
        read_prompt("completion/hole_filler_user.md"),
        {
            "context_section": context_section(
                read_prompt("completion/hole_filler_context.md"), context
            ),
            "file_path": file_path or "untitled",
            "language": language or "text",
            "prefix": prefix,
            "suffix": suffix,
        },
    )
    system = read_prompt("completion/hole_filler_system.md")
    messages = [{"role": "system", "content": system.strip()}]
    for example in hole_filler_examples():
        messages.append({"role": "user", "content": example[0]})
        messages.append({"role": "assistant", "content": example[1]})
    messages.append({"role": "user", "content": user.rstrip("\n")})
    return messages


@cache
def hole_filler_examples() -> tuple[tuple[str, str], ...]:
    """(user, assistant) turns shown before the request; stable, so prefix caches hit."""
    data = tomllib.loads(read_prompt("completion/hole_filler_examples.toml"))
    examples = data.get("example", [])
    out: list[tuple[str, str]] = []
    for item in examples if isinstance(examples, list) else []:
        if isinstance(item, dict) and isinstance(item.get("user"), str):
            out.append((str(item["user"]).strip(), str(item.get("assistant", "")).strip()))
    return tuple(out)
