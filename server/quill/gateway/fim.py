"""Take apart the fill-in-the-middle prompts that clients (Continue) send to ``/completions``.

Continue's autocomplete posts ``<|fim_prefix|>…<|fim_suffix|>…<|fim_middle|>`` (Qwen), ``<PRE>
… <SUF>… <MID>`` (Code Llama), ``[SUFFIX]…[PREFIX]…`` (Codestral) and so on, with no separate
``suffix``. The markers come from Quill's own FIM templates (``prompts/fim/*.toml``), so every
family Quill can write, it can also read. The split gives Quill's completion pipeline the
prefix and suffix back, and the file path when the prompt names one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from quill.index.languages import language_for_path
from quill.prompts.fim import FimTemplate, load_fim_templates

_PLACEHOLDER = re.compile(r"\{\{(prefix|suffix)\}\}")
#: Continue writes the file's path as a comment before the code (``# Path: app.py``)
_PATH_COMMENT = re.compile(r"^\s*(?:#|//|--|;|%|/\*)\s*Path:\s*(\S+?)\s*(?:\*/)?\s*$", re.M)


@dataclass(frozen=True)
class FimSplit:
    prefix: str
    suffix: str
    family: str
    path: str | None = None

    @property
    def language(self) -> str | None:
        return language_for_path(self.path) if self.path else None


def _literal(text: str) -> str:
    """A template's literal text as a pattern; spaces next to markers are optional."""
    core = text.strip()
    if not core:
        return r"\s?" if text else ""
    lead = r"\s?" if text[:1].isspace() else ""
    tail = r"\s?" if text[-1:].isspace() else ""
    return lead + re.escape(core) + tail


def _pattern(template: FimTemplate) -> re.Pattern[str] | None:
    parts = _PLACEHOLDER.split(template.template)
    # parts: literal, name, literal, name, literal
    if len(parts) != 5 or {parts[1], parts[3]} != {"prefix", "suffix"}:
        return None
    if not parts[0].strip() and not parts[2].strip():
        return None  # not recognisable without markers
    regex = (
        r"\A(?P<head>.*?)"
        + _literal(parts[0])
        + f"(?P<{parts[1]}>.*?)"
        + _literal(parts[2])
        + (
            f"(?P<{parts[3]}>.*?)" + _literal(parts[4]) + r"\s*\Z"
            if parts[4]
            else f"(?P<{parts[3]}>.*)\\Z"
        )
    )
    return re.compile(regex, re.DOTALL)


@cache
def _patterns() -> tuple[tuple[FimTemplate, re.Pattern[str]], ...]:
    out = []
    for template in load_fim_templates():
        pattern = _pattern(template)
        if pattern is not None:
            out.append((template, pattern))
    return tuple(out)


def _path_in(head: str, prefix: str) -> str | None:
    for template, _ in _patterns():
        separator = template.file_separator
        if separator and separator in head:
            last = head.rsplit(separator, 1)[-1].lstrip()
            name = last.split("\n", 1)[0].strip()
            if name and " " not in name:
                return name
    found = _PATH_COMMENT.findall(prefix[:4000])
    return found[-1] if found else None


def split_fim_prompt(prompt: str) -> FimSplit | None:
    """The prefix and suffix inside a FIM prompt, or None when ``prompt`` is not one."""
    for template, pattern in _patterns():
        match = pattern.match(prompt)
        if match is None:
            continue
        prefix, suffix = match.group("prefix"), match.group("suffix")
        head = match.group("head")
        # repository-level prompts put "<|file_sep|>path\n" right before the prefix marker
        path = _path_in(head, prefix)
        return FimSplit(prefix, suffix, template.family, path)
    return None
