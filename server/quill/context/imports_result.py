"""What import resolution answers for one imported name: :class:`ResolvedImport`.

Its own module so that the per-language resolvers (:mod:`quill.context.imports_python`,
``imports_javascript``, ``imports_go``) and the dispatch in :mod:`quill.context.imports` can all
build it without importing each other; import it from :mod:`quill.context.imports`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quill.index.records import Definition

__all__ = ["ResolvedImport"]


@dataclass(slots=True)
class ResolvedImport:
    """One name a file imports, resolved.

    ``kind`` is ``"name"`` (a function, class, constant... of another module) or ``"module"``
    (a module, package or namespace imported whole; ``definitions`` are then its public
    top-level definitions). ``module_path`` is the workspace-relative file (or folder, for a
    Go package or a Python namespace package) the import points at, ``None`` when it is
    outside the workspace or missing. ``star`` marks names brought in by ``import *``.
    """

    local_name: str
    module: str | None
    module_path: str | None
    kind: str
    definitions: list[Definition] = field(default_factory=list)
    line: int = 0
    star: bool = False
