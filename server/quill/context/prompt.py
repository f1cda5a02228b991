"""The one prompt path: every feature's prompt is rendered here.

A feature hands over the context (already ranked and cut to its budget by the assembler), the
part of the file it is about, and what it wants; this module picks the template (data files
under ``quill/prompts``) and fills it, with :func:`quill.prompts.placeholders.fill_placeholders`
only, so text from the user's files can never inject into a template.

* completions: llama.cpp ``/infill``, a model family's FIM template, or the chat hole filler
  for instruct-only models (:func:`completion_prompt`);
* questions about code (``quill ask``, ``quill/ask`` and, later, chat):
  :func:`question_messages`;
* code actions (explain, refactor, docstring, tests, fix, review): :func:`action_messages`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from quill.context.render import comment_prefix
from quill.index.languages import language_for_path
from quill.models.base import ChatMessage, GenerationOptions, ModelProvider
from quill.prompts import read_prompt
from quill.prompts.fim import FimTemplate, build_hole_filler_messages, select_fim_template
from quill.prompts.placeholders import context_section, fill_placeholders

__all__ = [
    "ACTION_TEMPLATES",
    "CompletionPrompt",
    "PromptMode",
    "action_messages",
    "completion_prompt",
    "describe_prompt_mode",
    "language_name",
    "prompt_mode_for",
    "question_messages",
]

PromptMode = Literal["infill", "template", "chat", "continuation"]


def prompt_mode_for(provider: ModelProvider) -> tuple[PromptMode, FimTemplate | None]:
    """How completions are asked of ``provider``: ``/infill``, a FIM template, or chat."""
    mode = provider.fim_mode()
    if mode == "infill":
        return "infill", None
    if mode in ("chat", "continuation"):
        return mode, None
    template = select_fim_template(getattr(provider, "model", "") or "")
    if template is not None:
        return "template", template
    return "chat", None


def describe_prompt_mode(provider: ModelProvider) -> str:
    """How completions will be asked of ``provider``, in words (for ``quill doctor``)."""
    mode, template = prompt_mode_for(provider)
    if mode == "infill":
        return "llama.cpp /infill"
    if mode == "template" and template is not None:
        return f"FIM template `{template.family}`"
    if mode == "continuation":
        return "plain continuation of the file up to the cursor"
    return "chat hole-filler prompt"


def language_name(path: str | None, language: str | None = None) -> str:
    """A language name for a code fence: the index's name, else the file's extension."""
    if language:
        return language
    if path:
        found = language_for_path(path)
        if found:
            return found
        suffix = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
        if suffix:
            return suffix.lower()
    return "text"


@dataclass(frozen=True)
class CompletionPrompt:
    """A rendered completion prompt: what is sent, and how to send it."""

    mode: PromptMode
    #: the text (``infill``/``template``) or the chat messages (``chat``) sent to the model
    prompt: str | list[ChatMessage]
    #: for ``infill``: the text after the cursor, sent apart from the prompt
    suffix: str | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)
    #: blanks cut from the end of the prompt (a prompt that ends in spaces throws a model's
    #: tokenizer off); the model writes them again, and :meth:`answer` takes them off
    healed: str = ""
    #: the cursor is in the indentation of its line (nothing typed on it yet)
    line_start: bool = False

    def answer(self, raw: str) -> str:
        """What the model wrote, as the text to insert at the cursor."""
        if not self.healed:
            return raw
        if self.line_start and raw.startswith("\n"):
            # blank lines first: the line the cursor is on is the first one with code
            raw = raw.lstrip("\n")
        if raw.startswith(self.healed):
            return raw[len(self.healed) :]
        if not self.healed.strip("\n"):
            return raw
        # the model chose other blanks than the ones typed: the typed ones stay
        return raw.lstrip(" \t") if not raw.startswith("\n") else raw

    def start(
        self, provider: ModelProvider, options: GenerationOptions
    ) -> AsyncGenerator[str, None]:
        """Start streaming this prompt from ``provider``."""
        if isinstance(self.prompt, list):
            return provider.stream_chat(self.prompt, options)
        if self.mode == "infill":
            return provider.stream_completion(self.prompt, options, suffix=self.suffix)
        return provider.stream_completion(self.prompt, options)


def completion_prompt(
    mode: PromptMode,
    template: FimTemplate | None,
    *,
    prefix: str,
    suffix: str,
    context: str,
    path: str | None,
    language: str | None,
) -> CompletionPrompt:
    """The prompt that asks for the text between ``prefix`` and ``suffix``.

    ``context`` (rendered context items) always comes first, then the file up to the cursor:
    the part that stays the same while the user types leads, so prefix caches keep hitting.
    """
    if mode == "chat":
        messages = build_hole_filler_messages(prefix, suffix, context, language or "", path or "")
        return CompletionPrompt("chat", messages)
    if mode == "continuation":
        # Nothing after the cursor: all but the newly typed tokens stay in the KV cache.
        body = prefix.rstrip(" \t")
        values = {
            "context": context,
            "comment": comment_prefix(language),
            "file_path": path or "untitled",
            "prefix": body,
        }
        text = fill_placeholders(read_prompt("completion/continuation.md"), values)
        healed = prefix[len(body) :]
        line_start = not body or body.endswith("\n")
        return CompletionPrompt(
            "continuation", text, stop=("\n\n",), healed=healed, line_start=line_start
        )
    if mode == "template" and template is not None:
        text = template.render(prefix, suffix, context, path or "")
        return CompletionPrompt("template", text, stop=template.stop)
    return CompletionPrompt("infill", context + prefix, suffix=suffix)


def question_messages(
    question: str,
    *,
    path: str | None = None,
    language: str | None = None,
    code: str | None = None,
    context: str = "",
) -> list[ChatMessage]:
    """Chat messages for a question, optionally about ``code`` from ``path`` and with
    ``context`` from other files of the workspace (rendered context items)."""
    system = read_prompt("chat/system.md").strip()
    if code is None:
        user = question
    else:
        user = fill_placeholders(
            read_prompt("chat/file_context.md"),
            {
                "context_section": context_section(read_prompt("chat/context.md"), context),
                "path": path or "untitled",
                "language": language_name(path, language),
                "code": code,
                "question": question,
            },
        ).strip()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


#: code actions and their template under ``prompts/actions``
ACTION_TEMPLATES = frozenset({"explain", "refactor", "docstring", "tests", "fix", "review"})


def action_messages(
    action: str,
    *,
    code: str,
    path: str | None,
    language: str | None,
    target: str,
    context: str = "",
    **values: str,
) -> list[ChatMessage]:
    """Chat messages for the code action ``action`` (one of :data:`ACTION_TEMPLATES`) on
    ``code`` (the ``target``, e.g. "function area"), with ``context`` from other files and
    the template's other placeholders in ``values``."""
    if action not in ACTION_TEMPLATES:
        raise ValueError(f"unknown code action {action!r}")
    user = fill_placeholders(
        read_prompt(f"actions/{action}.md"),
        {
            **values,
            "context_section": context_section(read_prompt("actions/context.md"), context),
            "code": code.rstrip("\n"),
            "path": path or "untitled",
            "language": language_name(path, language),
            "target": target,
        },
    ).strip()
    system = read_prompt("actions/system.md").strip()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def joined_text(prompt: str | Sequence[ChatMessage]) -> str:
    """All the text a prompt sends (for counting its tokens)."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(m.get("content", "") for m in prompt)


def chat_messages(
    question: str,
    *,
    history: Sequence[ChatMessage] = (),
    summary: str = "",
    context: Sequence[dict[str, str]] = (),
    switch: tuple[str, str] | None = None,
    purpose: Literal["answer", "summary"] = "answer",
    max_words: int = 150,
) -> list[ChatMessage]:
    """Chat messages for one turn of a chat session (templates under ``prompts/chat``).

    ``purpose="answer"``: the system prompt (with ``summary``, the running summary of earlier
    turns), the ``history`` kept, then ``question`` after the ``context`` blocks (mappings with
    ``path``, ``name``, ``language`` and ``text``). ``switch`` is a model's "no thinking" soft
    switch, ``(role, text)``: added to the system prompt or to the question.

    ``purpose="summary"``: a request to fold ``history`` (the turns trimmed from the
    conversation) into ``summary`` in at most ``max_words`` words; ``question`` is unused.
    """
    if purpose == "summary":
        previous = ""
        if summary.strip():
            previous = fill_placeholders(
                read_prompt("chat/summarize_previous.md"), {"summary": summary.strip()}
            )
        line = read_prompt("chat/transcript_line.md")
        transcript = "\n".join(
            fill_placeholders(line, {"role": m.get("role", ""), "content": m.get("content", "")})
            for m in history
        )
        user = fill_placeholders(
            read_prompt("chat/summarize.md"),
            {
                "previous_section": previous,
                "transcript": transcript,
                "max_words": str(max_words),
            },
        ).strip()
        system = read_prompt("chat/summarize_system.md").strip()
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]
    system = read_prompt("chat/session_system.md").strip()
    if summary.strip():
        system += fill_placeholders(
            read_prompt("chat/session_summary.md"), {"summary": summary.strip()}
        ).rstrip()
    role, text = switch if switch is not None else ("", "")
    if role == "system" and text:
        system += "\n" + text
    context_block = ""
    if context:
        item = read_prompt("chat/session_item.md")
        items = "\n".join(
            fill_placeholders(
                item,
                {
                    "path": block.get("path", ""),
                    "name": block.get("name", ""),
                    "language": block.get("language", ""),
                    "text": block.get("text", ""),
                },
            )
            for block in context
        )
        context_block = fill_placeholders(
            read_prompt("chat/session_context.md"), {"items": items.rstrip("\n")}
        )
    user = fill_placeholders(
        read_prompt("chat/session_question.md"),
        {
            "context_section": context_block,
            "question": question.strip(),
            "switch": f" {text}" if role == "user" and text else "",
        },
    ).strip()
    messages: list[ChatMessage] = [{"role": "system", "content": system}]
    messages += [{"role": m["role"], "content": m["content"]} for m in history]
    messages.append({"role": "user", "content": user})
    return messages
