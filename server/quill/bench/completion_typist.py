"""The simulated typist of ``quill bench completion``: one keystroke, one ``didChange`` and
one automatic ``inlineCompletion`` at a time, at human speed, with pauses, acceptance by
typing (type-through) and undo. See :mod:`quill.bench.completion_bench` for the scenario."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from quill.bench.completion_workspace import Doc, u16
from quill.lsp.client import Call, StdioClient

__all__ = [
    "ACCEPT_PROBABILITY",
    "COLD_SETTLE_CAP_S",
    "SETTLE_CAP_S",
    "Inline",
    "Spent",
    "Tally",
    "Typist",
]

TYPE_DELAY_S = (0.06, 0.14)
PAUSE_S = (0.3, 0.8)
TOKEN_PAUSE_PROBABILITY = 0.2
TOKEN_BOUNDARIES = frozenset(" (.,:=[")
ACCEPT_PROBABILITY = 0.5
ACCEPT_CHARS = (1, 5)
#: how long the simulated user waits at a pause point for the server's answer
SETTLE_CAP_S = 15.0
#: the same for the first pause of a server, whose answer pays for loading the model
COLD_SETTLE_CAP_S = 45.0
#: how long the last accepted-by-typing keystroke may take to answer before moving on
TYPE_THROUGH_WAIT_S = 2.0


class Spent(Exception):
    """The keystroke budget of a session is used up."""


@dataclass
class Inline:
    """One inlineCompletion request and what came back."""

    call: Call
    session: int
    kind: str  # line_start | key | line_end | accept | undo
    expected: str | None = None  # what a type-through (or re-shown) answer must be
    origin: str = ""  # accept | natural | undo, for requests with an expectation
    pause: bool = False  # a pause point: time to the first suggestion is measured here
    capped: bool = False  # the user stopped waiting for the answer at a pause
    considered: bool = False

    @property
    def text(self) -> str:
        result = self.call.result
        items = result.get("items") if isinstance(result, dict) else result
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            return ""
        insert = items[0].get("insertText")
        if isinstance(insert, dict):  # a snippet StringValue
            insert = insert.get("value")
        return insert if isinstance(insert, str) else ""

    @property
    def hit(self) -> bool:
        return (
            self.expected is not None
            and self.call.arrived is not None
            and self.call.error is None
            and self.text == self.expected
        )


@dataclass
class Tally:
    inline: list[Inline] = field(default_factory=list)
    keystrokes: int = 0
    accepted_by_typing: int = 0


class Typist:
    """Replays typing into open documents, one keystroke and one request at a time."""

    def __init__(
        self,
        client: StdioClient,
        session: int,
        budget: int,
        rng: random.Random,
        rng_accept: random.Random,
        accept_probability: float,
        tally: Tally,
    ) -> None:
        self.client = client
        self.session = session
        self.left = budget
        self.rng = rng
        self.rng_accept = rng_accept
        self.accept_probability = accept_probability
        self.tally = tally
        self.latest: Inline | None = None
        self.doc: Doc | None = None
        self.li = 0
        self.col = 0
        self.content = ""
        self.j = 0  # characters of ``content`` typed so far
        self.cold = True  # no pause yet: the next answer is this server's first

    # ------------------------------------------------------------- protocol

    def open(self, doc: Doc) -> None:
        self.client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": doc.uri,
                    "languageId": doc.language_id,
                    "version": doc.version,
                    "text": doc.text,
                }
            },
        )

    def _edit(self, start: int, end: int, text: str) -> None:
        """Replace columns ``start:end`` of the current line (one didChange)."""
        if self.left <= 0:
            raise Spent
        doc = self.doc
        assert doc is not None
        self.left -= 1
        self.tally.keystrokes += 1
        line = doc.lines[self.li]
        change = {
            "range": {
                "start": {"line": self.li, "character": u16(line[:start])},
                "end": {"line": self.li, "character": u16(line[:end])},
            },
            "text": text,
        }
        doc.lines[self.li] = line[:start] + text + line[end:]
        doc.version += 1
        self.col = start + len(text)
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": doc.uri, "version": doc.version},
                "contentChanges": [change],
            },
        )

    def _complete(self, kind: str, expected: str | None = None, origin: str = "") -> Inline:
        doc = self.doc
        assert doc is not None
        call = self.client.call(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": doc.uri},
                "position": {"line": self.li, "character": u16(doc.lines[self.li][: self.col])},
                "context": {"triggerKind": 2},
            },
        )
        record = Inline(call, self.session, kind, expected, origin)
        self.tally.inline.append(record)
        self.latest = record
        return record

    def _key(self, ch: str, kind: str = "key", expected: str | None = None) -> Inline:
        origin = "accept" if expected is not None else ""
        shown = self.latest
        if expected is None and shown is not None and shown.call.arrived is not None:
            text = shown.text
            if len(text) > 1 and text[0] == ch and ch != "\n":
                expected, origin = text[1:], "natural"  # typing through a shown suggestion
        self._edit(self.col, self.col, ch)
        return self._complete(kind, expected, origin)

    # ------------------------------------------------------------- pacing

    def _ready(self) -> bool:
        latest = self.latest
        return latest is not None and latest.call.arrived is not None and not latest.considered

    def _idle(self, seconds: float, settle: Inline | None = None, cap_s: float = 0.0) -> None:
        """Let ``seconds`` pass (and, with ``settle``, until its answer came, up to a cap).

        A suggestion that arrives for the cursor meanwhile may be accepted by typing, which
        ends the pause.
        """
        now = time.perf_counter()
        deadline = now + seconds
        cap = now + max(seconds, cap_s or SETTLE_CAP_S)
        while True:
            target = deadline
            if settle is not None and settle.call.arrived is None:
                target = cap
            if time.perf_counter() >= target:
                if settle is not None and settle.call.arrived is None:
                    settle.capped = True
                return
            self.client.wait_until(target, self._ready)
            if self._ready():
                assert self.latest is not None
                if self._consider(self.latest):
                    self.client.sleep(self.rng_accept.uniform(*TYPE_DELAY_S))
                    return

    def _consider(self, record: Inline) -> bool:
        """Maybe accept the suggestion of ``record`` by typing its first characters."""
        record.considered = True
        text = record.text
        most = min(ACCEPT_CHARS[1], len(text.split("\n", 1)[0]), len(text) - 1)
        if most < ACCEPT_CHARS[0] or self.rng_accept.random() >= self.accept_probability:
            return False
        count = self.rng_accept.randint(ACCEPT_CHARS[0], most)
        self.tally.accepted_by_typing += 1
        last: Inline | None = None
        for i in range(1, count + 1):
            self.client.sleep(self.rng_accept.uniform(*TYPE_DELAY_S))
            last = self._key(text[i - 1], kind="accept", expected=text[i:])
            last.considered = True
        assert last is not None
        self.client.wait(last.call, TYPE_THROUGH_WAIT_S)
        typed = text[:count]
        if self.content.startswith(typed, self.j):
            self.j += count  # the suggestion said what the line says: keep it
        else:
            self.client.sleep(self.rng_accept.uniform(*TYPE_DELAY_S))
            self._edit(self.col - count, self.col, "")  # undo what was accepted
            undo = self._complete("undo", expected=text, origin="undo")
            undo.considered = True
        return True

    # ------------------------------------------------------------- scenario

    def type_line(self, doc: Doc, li: int) -> None:
        """Delete line ``li`` after its indentation, then type it again."""
        self.doc, self.li = doc, li
        line = doc.lines[li]
        indent = line[: len(line) - len(line.lstrip())]
        self.content = line[len(indent) :].rstrip()
        self.j = 0
        self._edit(len(indent), len(line), "")
        start = self._complete("line_start")
        start.pause = True
        cap = COLD_SETTLE_CAP_S if self.cold else SETTLE_CAP_S
        self.cold = False
        self._idle(self.rng.uniform(*PAUSE_S), settle=start, cap_s=cap)
        while self.j < len(self.content):
            ch = self.content[self.j]
            self._key(ch)
            self.j += 1
            if self.j >= len(self.content):
                break
            if ch in TOKEN_BOUNDARIES and self.rng.random() < TOKEN_PAUSE_PROBABILITY:
                self._idle(self.rng.uniform(*PAUSE_S))
            else:
                self._idle(self.rng.uniform(*TYPE_DELAY_S))
        end = self.latest
        if end is not None and end.expected is None and end.kind == "key":
            end.kind = "line_end"  # a cache hit is no first suggestion: only these count
            end.pause = True
        self._idle(self.rng.uniform(*PAUSE_S), settle=end)
