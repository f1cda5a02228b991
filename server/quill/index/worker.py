"""Reading and tagging one file, in the calling process or in a worker process.

Everything here returns plain, picklable values so that a process pool can run it. References
are packed into one ``array('i')`` per file (seven ints per reference: name index, kind code,
start line, start column, end line, end column, scope index or -1) with the names listed once;
that is what the store keeps, so the main process only copies bytes.
"""

from __future__ import annotations

import logging
import os
from array import array
from dataclasses import dataclass, field

from quill.index.tags import DefRow, ImportRecord, RefRow, extract_raw

log = logging.getLogger(__name__)

__all__ = [
    "REF_FIELDS",
    "REF_KINDS_BY_CODE",
    "REF_KIND_CODES",
    "FileResult",
    "pack_refs",
    "parse_batch",
    "parse_file",
    "parse_source",
]

REF_FIELDS = 7
REF_KINDS_BY_CODE = ("call", "type", "import")
REF_KIND_CODES = {kind: code for code, kind in enumerate(REF_KINDS_BY_CODE)}
BINARY_SNIFF_BYTES = 8192


@dataclass(slots=True)
class FileResult:
    """The outcome for one file. ``status`` is ``"ok"`` or why it was not indexed:
    ``"binary"``, ``"too large"``, ``"unreadable"``, ``"gone"`` (deleted meanwhile)."""

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


def pack_refs(refs: list[RefRow]) -> tuple[list[str], bytes]:
    """References as (names, packed ints); see the module docstring."""
    names: dict[str, int] = {}
    data = array("i")
    append = data.extend
    codes = REF_KIND_CODES
    for name, kind, sl, sc, el, ec, scope in refs:
        ni = names.get(name)
        if ni is None:
            ni = names[name] = len(names)
        if scope is None:
            si = -1
        else:
            si = names.get(scope, -1)
            if si < 0:
                si = names[scope] = len(names)
        append((ni, codes.get(kind, 0), sl, sc, el, ec, si))
    return [n.replace("\n", " ") for n in names], data.tobytes()


def parse_source(rel: str, language: str, source: bytes, mtime_ns: int, size: int) -> FileResult:
    """Tag ``source`` (the file's content, from disk or from an editor buffer)."""
    if b"\0" in source[:BINARY_SNIFF_BYTES]:
        log.info("%s: binary content, not indexed", rel)
        return FileResult(rel, language, mtime_ns, size, "binary")
    raw = extract_raw(source, language, rel)
    names, data = pack_refs(raw.refs)
    return FileResult(
        rel,
        language,
        mtime_ns,
        size,
        "ok",
        raw.lines,
        raw.has_error,
        raw.defs,
        names,
        data,
        raw.imports,
    )


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
