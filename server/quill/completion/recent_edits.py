"""The last few places the user edited: a context source for completions.

Only positions are kept; the text is read from the editor's buffer when a prompt is built.
Files that hold secrets never become context, not even as a recent edit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from quill.context.sections import ContextSection
from quill.index.languages import comment_syntax
from quill.prompts import read_prompt
from quill.prompts.placeholders import fill_placeholders
from quill.safety.secrets import is_secret_file

__all__ = ["RecentEdits"]


class RecentEdits:
    """The last few places the user edited, as (uri, path, line) — texts are read lazily."""

    def __init__(self, limit: int = 8) -> None:
        self._edits: deque[tuple[str, str | None, int]] = deque(maxlen=limit)

    def note(self, uri: str, path: str | None, line: int) -> None:
        if is_secret_file(path):
            return  # a secret file's lines never become context, not even as a recent edit
        for i, (u, _, ln) in enumerate(self._edits):
            if u == uri and abs(ln - line) <= 6:
                del self._edits[i]
                break
        self._edits.append((uri, path, line))

    def paths(self) -> list[str]:
        """Workspace-relative paths of the recently edited documents, newest first."""
        out: list[str] = []
        for _, path, _ in reversed(self._edits):
            if path and path not in out:
                out.append(path)
        return out

    def forget(self, uri: str) -> None:
        kept = [e for e in self._edits if e[0] != uri]
        self._edits.clear()
        self._edits.extend(kept)

    def sections(
        self,
        read: Callable[[str], str | None],
        exclude_uri: str,
        exclude_line: int,
        language: str | None = None,
    ) -> list[ContextSection]:
        """The lines around each recent edit (not those near the cursor), newest first, each
        under a header comment in ``language`` (the language of the file being completed)."""
        comment = comment_syntax(language).line or "#"
        out: list[ContextSection] = []
        for rank, (uri, path, line) in enumerate(reversed(self._edits)):
            if uri == exclude_uri and abs(line - exclude_line) <= 30:
                continue  # already in the prefix/suffix
            text = read(uri)
            if text is None:
                continue
            lines = text.split("\n")
            start = max(0, line - 3)
            chunk = "\n".join(lines[start : line + 4]).strip("\n")
            if chunk.strip():
                header = fill_placeholders(
                    read_prompt("completion/recent_edit.md"),
                    {"comment": comment, "path": path or uri, "line": str(line + 1)},
                )
                out.append(ContextSection("recent_edit", header + chunk + "\n", 1.0 - rank * 0.1))
        return out
