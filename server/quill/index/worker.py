"""Reading and tagging one file, in the calling process or in a worker process.

Everything here returns plain, picklable values so that a process pool can run it. References
arrive packed (:data:`quill.index.tag_records.REF_FIELDS`), which is what the store keeps, so the
main process only copies bytes.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field

from quill.index.languages import get_tags_query
from quill.index.tag_records import DefRow, ImportRecord, RawFileTags
from quill.index.tags import extract_raw

log = logging.getLogger(__name__)

__all__ = [
    "BINARY_SNIFF_BYTES",
    "FileResult",
    "init_worker",
    "parse_batch",
    "parse_file",
    "parse_source",
    "worker_ready",
]

BINARY_SNIFF_BYTES = 8192


@dataclass(slots=True)
class FileResult:
    """The outcome for one file. ``status`` is ``"ok"`` or why it was not indexed:
    ``"binary"``, ``"too large"``, ``"unreadable"``, ``"gone"`` (deleted meanwhile),
    ``"unsupported"`` (its language's grammar or query failed to load)."""

    rel: str
    language: str
    mtime_ns: int
    size: int
    status: str
    lines: int = 0
    has_error: bool = False
    defs: list[DefRow] = field(default_factory=list)
    ref_names: list[str] = field(default_factory=list)
    ref_data: bytes = b""
    imports: list[ImportRecord] = field(default_factory=list)

    @classmethod
    def from_raw(
        cls, rel: str, language: str, mtime_ns: int, size: int, raw: RawFileTags
    ) -> FileResult:
        """The ``"ok"`` result of a file tagged as ``raw``."""
        return cls(
            rel,
            language,
            mtime_ns,
            size,
            "ok",
            raw.lines,
            raw.has_error,
            raw.defs,
            raw.ref_names,
            raw.ref_data,
            raw.imports,
        )


def parse_source(rel: str, language: str, source: bytes, mtime_ns: int, size: int) -> FileResult:
    """Tag ``source`` (the file's content, from disk or from an editor buffer)."""
    if b"\0" in source[:BINARY_SNIFF_BYTES]:
        log.info("%s: binary content, not indexed", rel)
        return FileResult(rel, language, mtime_ns, size, "binary")
    if get_tags_query(language) is None:  # logged once per process by languages
        return FileResult(rel, language, mtime_ns, size, "unsupported")
    return FileResult.from_raw(rel, language, mtime_ns, size, extract_raw(source, language, rel))


def parse_file(root: str, rel: str, language: str, max_file_bytes: int) -> FileResult:
    """Read and tag one workspace file. Never raises."""
    path = os.path.join(root, rel)
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_size > max_file_bytes:
                return FileResult(rel, language, st.st_mtime_ns, st.st_size, "too large")
            source = fh.read(max_file_bytes + 1)
    except (FileNotFoundError, NotADirectoryError):
        return FileResult(rel, language, 0, 0, "gone")
    except OSError as exc:
        log.warning("%s: cannot read: %s", rel, exc)
        return FileResult(rel, language, 0, 0, "unreadable")
    if len(source) > max_file_bytes:
        return FileResult(rel, language, st.st_mtime_ns, len(source), "too large")
    return parse_source(rel, language, source, st.st_mtime_ns, st.st_size)


def init_worker() -> None:
    """Runs first in each worker process: its standard output goes to standard error, so
    that nothing a worker writes can reach a stdio protocol stream it inherited."""
    try:
        os.dup2(2, 1)
    except OSError:
        pass
    sys.stdout = sys.stderr


def worker_ready() -> bool:
    """A no-op task: sent to each worker process at start so that it imports this module
    (and tree-sitter) while the main process is still walking the workspace."""
    return True


def parse_batch(root: str, items: list[tuple[str, str]], max_file_bytes: int) -> list[FileResult]:
    """Tag several files (``(rel, language)`` pairs); the unit of work of the process pool."""
    out = []
    for rel, language in items:
        try:
            out.append(parse_file(root, rel, language, max_file_bytes))
        except Exception:  # a bug for one file must not lose the batch; logged with traceback
            log.exception("%s: indexing failed", rel)
            out.append(FileResult(rel, language, 0, 0, "unreadable"))
    return out
