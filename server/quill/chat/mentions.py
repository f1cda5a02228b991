"""``@`` mentions in a chat message, and reading the workspace files they name safely.

``@src/app.py`` names a workspace-relative file, ``@parse_config`` (or ``@Config.load``) a
symbol of the index. A path that leaves the workspace (absolute, ``..``, ``~``, a symlink
out) is refused, and so is a file that holds secrets (``.env``, keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from quill.safety.secrets import is_secret_file

__all__ = [
    "FileRefused",
    "Mention",
    "confine",
    "find_mentions",
    "identifiers",
    "plain_words",
    "read_workspace_file",
]

#: ``@`` not inside a word (so ``user@example.com`` is no mention); the name may not end in
#: punctuation, so ``see @app.py.`` names ``app.py``
_MENTION = re.compile(r"(?<![\w@`])@([\w~./\\-]*[\w/])")
_IDENTIFIER = re.compile(r"`([A-Za-z_][\w.]*)`|\b([A-Za-z_]\w*)(?=\s*\()|\b([A-Za-z_]\w*)\b")
_CODE_SHAPED = re.compile(r"_|[a-z][A-Z]|^[A-Z][a-z]+[A-Z]")
_WORD = re.compile(r"\b[A-Za-z]\w*\b")
#: words too common in questions to look up as symbols
_COMMON = frozenset(
    "what when where which does this that there these those with from have about into would "
    "could should explain code file function class method work works mean means make using "
    "used there their they them then than here also just like need want your help".split()
)
#: longest file sent for one mention (bigger ones are refused)
MAX_FILE_BYTES = 1_000_000


class FileRefused(Exception):
    """A mentioned file that is not sent, with the reason for the user."""


@dataclass(frozen=True, slots=True)
class Mention:
    """``@text`` as written; ``path_like`` when it can only be a path (has a ``/``)."""

    text: str

    @property
    def path_like(self) -> bool:
        return "/" in self.text or "\\" in self.text or self.text.startswith(("~", "."))


def find_mentions(message: str) -> list[Mention]:
    """The distinct ``@`` mentions of ``message``, in order."""
    seen: dict[str, Mention] = {}
    for match in _MENTION.finditer(message):
        text = match.group(1)
        if text and text not in seen:
            seen[text] = Mention(text)
    return list(seen.values())


def identifiers(message: str, limit: int = 8) -> list[str]:
    """Names in ``message`` that look like code, best first: backticked names and calls,
    then snake_case / camelCase words. Plain words are left out."""
    strong: list[str] = []
    weak: list[str] = []
    for match in _IDENTIFIER.finditer(_MENTION.sub(" ", message)):
        quoted, called, word = match.groups()
        if quoted or called:
            name = (quoted or called).rsplit(".", 1)[-1]
            if name not in strong:
                strong.append(name)
        elif word and len(word) > 2 and _CODE_SHAPED.search(word) and word not in weak:
            weak.append(word)
    return (strong + [w for w in weak if w not in strong])[:limit]


def plain_words(message: str, limit: int = 12) -> list[str]:
    """The other words of ``message`` (four letters or more), which may still name a symbol
    exactly (``Router``, ``tokenize``)."""
    code = set(identifiers(message, limit=64))
    out: list[str] = []
    for word in _WORD.findall(_MENTION.sub(" ", message)):
        if len(word) >= 4 and word not in code and word.lower() not in _COMMON and word not in out:
            out.append(word)
    return out[:limit]


def confine(root: Path, rel: str) -> Path | None:
    """The file ``rel`` names inside ``root``, or None when it would be outside (absolute,
    ``..``, ``~``, or a symlink that leads out)."""
    rel = rel.replace("\\", "/")
    if not rel or rel.startswith("~") or PurePosixPath(rel).is_absolute() or ":" in rel[:3]:
        return None
    base = root.resolve()
    try:
        candidate = (base / rel).resolve()
        candidate.relative_to(base)
    except (OSError, ValueError, RuntimeError):
        return None
    return candidate


def read_workspace_file(
    root: Path | None,
    rel: str,
    read_text: Callable[[str], str | None] | None = None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
) -> tuple[str, str]:
    """The workspace-relative path and text of the mentioned file ``rel``: the editor's
    buffer when ``read_text`` has it, else the file on disk. Raises :class:`FileRefused`."""
    if root is None:
        raise FileRefused(f"`@{rel}`: no workspace is open")
    path = confine(root, rel)
    if path is None:
        raise FileRefused(f"`@{rel}` is outside the workspace; it is not sent")
    rel_path = path.relative_to(root.resolve()).as_posix()
    if is_secret_file(rel_path):
        raise FileRefused(f"`@{rel}` holds secrets; it is never sent to a model")
    if read_text is not None:
        buffer = read_text(rel_path)
        if buffer is not None:
            return rel_path, buffer
    try:
        if not path.is_file():
            raise FileRefused(f"`@{rel}` is not a file of the workspace")
        if path.stat().st_size > max_bytes:
            raise FileRefused(f"`@{rel}` is larger than {max_bytes // 1000} kB; it is not sent")
        data = path.read_bytes()
    except OSError as exc:
        raise FileRefused(f"`@{rel}` cannot be read ({exc.strerror or exc})") from exc
    if b"\0" in data[:8192]:
        raise FileRefused(f"`@{rel}` is a binary file; it is not sent")
    return rel_path, data.decode("utf-8", errors="replace")
