"""One diagnostics stream, source ``quill``: the static bug rules (no model, on open, change
and save) and the findings of the last model review, pushed with ``publishDiagnostics`` or
pulled with ``textDocument/diagnostic``, as the client supports.

A static finding with a mechanical fix carries it in the diagnostic's ``data``, so the quick
fix in the code-action menu needs no second look at the file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from quill.actions.service import ModelFinding
from quill.lsp.completions import language_of
from quill.lsp.documents import Documents, DocumentSnapshot

if TYPE_CHECKING:
    from quill.lsp.server import QuillLanguageServer

log = logging.getLogger(__name__)

SOURCE = "quill"
#: static rules run this long after the last keystroke
CHANGE_DELAY_S = 0.4
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


class Diagnostics:
    """Per document: the static findings and the model's, for the version they were made for."""

    def __init__(self) -> None:
        self._model: dict[str, tuple[int | None, list[ModelFinding]]] = {}
        self._pending: dict[str, asyncio.TimerHandle] = {}

    # ------------------------------------------------------------------ wiring

    @staticmethod
    def pulls(ls: QuillLanguageServer) -> bool:
        caps = ls.client_capabilities.text_document
        return caps is not None and caps.diagnostic is not None

    def schedule(self, ls: QuillLanguageServer, uri: str, delay: float = 0.0) -> None:
        """Publish the diagnostics of ``uri`` after ``delay`` (push clients only)."""
        if self.pulls(ls) or not ls.app.settings.actions.static_rules:
            return
        key = ls.documents.key(uri)
        handle = self._pending.pop(key, None)
        if handle is not None:
            handle.cancel()

        def fire() -> None:
            self._pending.pop(key, None)
            ls.app.tasks.spawn(self.publish(ls, uri), "publish-diagnostics")

        self._pending[key] = asyncio.get_running_loop().call_later(delay, fire)

    def forget(self, ls: QuillLanguageServer, uri: str) -> None:
        key = ls.documents.key(uri)
        self._model.pop(key, None)
        handle = self._pending.pop(key, None)
        if handle is not None:
            handle.cancel()
        if not self.pulls(ls):
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    async def publish(self, ls: QuillLanguageServer, uri: str) -> None:
        snap = ls.documents.snapshot(uri)
        if snap is None:
            return
        items = await self.compute(ls, snap)
        if ls.documents.version(uri) != snap.version:
            return  # a newer version will publish its own
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=snap.uri, version=snap.version, diagnostics=items)
        )

    def set_model_findings(
        self, ls: QuillLanguageServer, snap: DocumentSnapshot, findings: list[ModelFinding]
    ) -> None:
        self._model[snap.key] = (snap.version, findings)
        if self.pulls(ls):
            try:
                ls.workspace_diagnostic_refresh(None)
            except Exception:
                log.debug("the client cannot refresh diagnostics", exc_info=True)
        else:
            ls.app.tasks.spawn(self.publish(ls, snap.uri), "publish-diagnostics")

    # ----------------------------------------------------------------- content

    async def compute(
        self, ls: QuillLanguageServer, snap: DocumentSnapshot
    ) -> list[types.Diagnostic]:
        settings = ls.app.settings.actions
        language = language_of(snap)
        documents = ls.documents
        out: list[types.Diagnostic] = []
        static_lines: set[int] = set()
        if settings.static_rules and language:
            from quill.actions.rules import check

            disabled = tuple(settings.disabled_rules)
            trees, key, text = ls.app.trees, snap.rel, snap.text

            def run() -> list[Any]:
                # The buffer's tree from the one tree cache (re-parsed from the last edit).
                try:
                    tree = trees.parse(key, language, text.encode()) if key else None
                except Exception:  # the rules parse the text themselves then
                    log.debug("tree cache parse failed", exc_info=True)
                    tree = None
                return check(text, language, disabled=disabled, tree=tree)

            findings = await asyncio.to_thread(run)
            lines = snap.text.split("\n")
            for f in findings:
                static_lines.add(f.start[0])
                out.append(_static_diagnostic(documents, lines, f))
        version, model = self._model.get(snap.key, (None, []))
        if model and version == snap.version:
            lines = snap.text.split("\n")
            for m in model:
                if m.line in static_lines or not 0 <= m.line < len(lines):
                    continue  # the static rule already says it
                text = lines[m.line]
                indent = len(text) - len(text.lstrip())
                out.append(
                    types.Diagnostic(
                        range=types.Range(
                            start=documents.client_position(text, m.line, indent),
                            end=documents.client_position(text, m.line, len(text.rstrip())),
                        ),
                        message=m.message,
                        severity=_SEVERITY.get(m.severity, types.DiagnosticSeverity.Warning),
                        source=SOURCE,
                        code="model-review",
                    )
                )
        return out


def _position(documents: Documents, lines: Sequence[str], point: tuple[int, int]) -> types.Position:
    line, column = point
    if line >= len(lines):
        return types.Position(line=len(lines), character=0)
    return documents.client_position(lines[line], line, column)


def _static_diagnostic(
    documents: Documents, lines: Sequence[str], finding: Any
) -> types.Diagnostic:
    data: dict[str, Any] = {"rule": finding.rule}
    if finding.fix is not None:
        data["fix"] = {
            "title": finding.fix.title,
            "edits": [
                {
                    "range": _range_json(
                        _position(documents, lines, e.start), _position(documents, lines, e.end)
                    ),
                    "newText": e.new_text,
                }
                for e in finding.fix.edits
            ],
        }
    return types.Diagnostic(
        range=types.Range(
            start=_position(documents, lines, finding.start),
            end=_position(documents, lines, finding.end),
        ),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        source=SOURCE,
        code=finding.rule,
        data=data,
    )


def _range_json(start: types.Position, end: types.Position) -> dict[str, Any]:
    return {
        "start": {"line": start.line, "character": start.character},
        "end": {"line": end.line, "character": end.character},
    }


def quick_fix(uri: str, diagnostic: types.Diagnostic) -> types.CodeAction | None:
    """The mechanical fix a static finding carries, as a code action."""
    data = diagnostic.data
    fix = data.get("fix") if isinstance(data, dict) else getattr(data, "fix", None)
    if not fix:
        return None

    def get(value: Any, name: str) -> Any:
        return value.get(name) if isinstance(value, dict) else getattr(value, name, None)

    edits = []
    for e in get(fix, "edits") or []:
        r = get(e, "range")
        start, end = get(r, "start"), get(r, "end")
        edits.append(
            types.TextEdit(
                range=types.Range(
                    start=types.Position(
                        line=get(start, "line"), character=get(start, "character")
                    ),
                    end=types.Position(line=get(end, "line"), character=get(end, "character")),
                ),
                new_text=str(get(e, "newText")),
            )
        )
    if not edits:
        return None
    return types.CodeAction(
        title=f"Quill: {get(fix, 'title')}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(changes={uri: edits}),
        is_preferred=True,
    )


def register_diagnostic_features(server: QuillLanguageServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier=SOURCE, inter_file_dependencies=False, workspace_diagnostics=False
        ),
    )
    async def pull(
        ls: QuillLanguageServer, params: types.DocumentDiagnosticParams
    ) -> types.RelatedFullDocumentDiagnosticReport:
        snap = ls.documents.snapshot(params.text_document.uri)
        items: list[types.Diagnostic] = []
        if snap is not None and ls.app.settings.actions.static_rules:
            items = await ls.diagnostics.compute(ls, snap)
        return types.RelatedFullDocumentDiagnosticReport(items=items)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: QuillLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.diagnostics.schedule(ls, params.text_document.uri)
