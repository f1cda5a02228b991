"""From a model's answer to a reviewable edit: the code alone, indented like the original,
as the smallest set of line replacements, and only when it still parses."""

from __future__ import annotations

import difflib
import re

from quill.actions.replacements import TextReplacement
from quill.actions.targets import Target, syntax_errors
from quill.index.languages import comment_syntax

__all__ = [
    "RewriteRejected",
    "TextReplacement",
    "documentation_only",
    "extract_code",
    "minimal_replacements",
    "rewrite_target",
]

_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
_OPEN_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n", re.MULTILINE)
_CHATTER = re.compile(
    r"^\s*(?:here(?:'s| is)\b|sure\b|certainly\b|below\b|the (?:code|rewritten|refactored|"
    r"updated|fixed)\b)[^\n]*\n",
    re.IGNORECASE,
)


class RewriteRejected(ValueError):
    """The model's rewrite cannot be applied; the message says why, for the user."""


def extract_code(reply: str) -> str:
    """The code in a model's reply: the largest fenced block, else the reply without
    chatter before it; "" when nothing looks like code."""
    reply = reply.replace("\r\n", "\n")
    blocks = [m.group(2) for m in _FENCE.finditer(reply)]
    if blocks:
        return max(blocks, key=len).rstrip() + "\n"
    opened = _OPEN_FENCE.search(reply)
    if opened is not None:  # a fence that was never closed (the answer was cut)
        return reply[opened.end() :].rstrip() + "\n"
    text = _CHATTER.sub("", reply, count=1).strip("\n")
    return text.rstrip() + "\n" if text.strip() else ""


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def reindent(code: str, like: str) -> str:
    """``code`` shifted so its first line has the indentation of ``like``'s first line
    (models often drop the indentation of a method)."""
    code_lines = code.split("\n")
    first_code = next((ln for ln in code_lines if ln.strip()), "")
    first_like = next((ln for ln in like.split("\n") if ln.strip()), "")
    have, want = _indent_of(first_code), _indent_of(first_like)
    if have == want:
        return code
    out = []
    for line in code_lines:
        if not line.strip():
            out.append("")
        elif have and line.startswith(have):
            out.append(want + line[len(have) :])
        else:
            out.append(want + line)
    return "\n".join(out)


def minimal_replacements(old: str, new: str, first_line: int) -> list[TextReplacement]:
    """The changed runs of lines between ``old`` and ``new`` (both whole lines ending in
    "\\n", ``old`` starting at document line ``first_line``), as replacements of whole lines.
    """
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    out: list[TextReplacement] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        out.append(TextReplacement((first_line + i1, 0), (first_line + i2, 0), "".join(b[j1:j2])))
    return out


def rewrite_target(
    document: str,
    target: Target,
    reply: str,
    language: str | None,
    *,
    documentation_only_: bool = False,
) -> list[TextReplacement]:
    """The edits that turn ``target`` in ``document`` into the code of ``reply``.

    Raises :class:`RewriteRejected` when the reply holds no code, changes nothing, or would
    leave the document with more syntax errors than it has now.
    """
    code = extract_code(reply)
    if not code.strip():
        raise RewriteRejected("the model's answer holds no code")
    code = reindent(code, target.text)
    if documentation_only_:
        kept = documentation_only(target, code, language)
        if kept is None:
            raise RewriteRejected("the model's answer holds no documentation for this code")
        code = kept
    if not code.endswith("\n"):
        code += "\n"
    if code == target.text:
        raise RewriteRejected("the model changed nothing")
    lines = document.split("\n")
    before = "\n".join(lines[: target.start_line])
    after = "\n".join(lines[target.end_line + 1 :])
    rewritten = (before + "\n" if before else "") + code + after
    old_errors = syntax_errors(document, language)
    new_errors = syntax_errors(rewritten, language)
    if old_errors is not None and new_errors is not None and new_errors > old_errors:
        raise RewriteRejected(
            "the model's code does not parse; nothing was changed "
            f"({new_errors - old_errors} new syntax error(s))"
        )
    return minimal_replacements(target.text, code, target.start_line)


def documentation_only(target: Target, code: str, language: str | None) -> str | None:
    """``target``'s own code with just the documentation ``code`` adds to it, or ``None`` when
    none is found. A model asked for a docstring often also "improves" the code; only the
    docstring (Python: the first string of the body) or the comment lines above the definition
    are kept, so the code itself stays exactly as it was."""
    old = target.text.split("\n")
    new = code.split("\n")
    old_set = {line.strip() for line in old if line.strip()}
    if language == "python":
        return _python_docstring(old, new, old_set)
    comment = comment_syntax(language)
    markers = (*(m for m in (comment.line, *(comment.block or ())) if m), "*")
    header = next((i for i, line in enumerate(old) if line.strip()), 0)
    first_code = next(
        (i for i, line in enumerate(new) if line.strip() and not line.strip().startswith(markers)),
        len(new),
    )
    added = [line for line in new[:first_code] if line.strip() and line.strip() not in old_set]
    if not added or not all(line.strip().startswith(markers) for line in added):
        return None
    indent = _indent_of(old[header])
    doc = [
        indent + line.strip() if not line.strip().startswith("*") else indent + " " + line.strip()
        for line in added
    ]
    return "\n".join(old[:header] + doc + old[header:])


def _python_docstring(old: list[str], new: list[str], old_set: set[str]) -> str | None:
    def opening(lines: list[str]) -> int | None:
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith(("def ", "async def ", "class ")) and stripped.endswith(":"):
                return i
        return None

    old_def, new_def = opening(old), opening(new)
    if old_def is None or new_def is None:
        return None
    start = next((i for i in range(new_def + 1, len(new)) if new[i].strip()), None)
    if start is None or not new[start].strip().startswith(('"""', "'''", 'r"""')):
        return None
    quote = '"""' if '"""' in new[start] else "'''"
    end: int | None = start
    if new[start].strip().count(quote) < 2 or new[start].strip() in (quote, "r" + quote):
        end = next((i for i in range(start + 1, len(new)) if quote in new[i]), None)
    if end is None:
        return None
    doc = new[start : end + 1]
    body = next((i for i in range(old_def + 1, len(old)) if old[i].strip()), None)
    indent = _indent_of(old[body]) if body is not None else _indent_of(old[old_def]) + "    "
    have = _indent_of(doc[0])
    shifted = [indent + line[len(have) :] if line.startswith(have) else line for line in doc]
    if any(line.strip() in old_set for line in doc if line.strip() not in (quote, "")):
        return None  # the "docstring" is code the function already has
    return "\n".join(old[: old_def + 1] + shifted + old[old_def + 1 :])
