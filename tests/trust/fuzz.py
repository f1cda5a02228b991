"""Hypothesis strategies shared by the fuzz tests: JSON values, LSP-shaped params, and raw LSP
frames that leave the server's reader at a frame boundary.

Every frame strategy yields bytes after which a correct server is back in step, however
broken the frame itself is: a body cut short is padded to its declared length, a header
block without a usable ``Content-Length`` has no body after it, and a body longer than its
declared length ends on a blank line (so its tail reads as one more header block without a
length). A server that answers a normal request after any sequence of them is in step.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

import attrs
from hypothesis import strategies as st
from lsprotocol import types

#: how many examples the fuzz tests run; the default keeps `make test` short
EXAMPLES = int(os.environ.get("QUILL_FUZZ_EXAMPLES", "0") or 0)

#: methods a fuzzer must not send well-formed: they end the session or change settings that
#: decide whether the next normal request is accepted (``lsp.maxMessageBytes``)
LIFECYCLE = frozenset({"exit", "shutdown", "workspace/didChangeConfiguration"})

QUILL_METHODS = (
    "quill/status",
    "quill/ask",
    "quill/chat",
    "quill/chat/cancel",
    "quill/chat/sessions",
    "quill/chat/history",
    "textDocument/didShowCompletion",
    "textDocument/didPartiallyAcceptCompletion",
)
QUILL_COMMANDS = (
    "quill.acceptCompletion",
    "quill.lastPrompt",
    "quill.ask",
    "quill.explain",
    "quill.refactor",
    "quill.addDocstring",
    "quill.fix",
    "quill.generateTests",
    "quill.findBugs",
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _params_fields(method: str) -> list[str]:
    entry = types.METHOD_TO_TYPES.get(method)
    params_type = entry[2] if entry else None
    if params_type is None or not attrs.has(params_type):
        return []
    return [_camel(f.name) for f in attrs.fields(params_type)]


LSP_METHODS = tuple(sorted(m for m in types.METHOD_TO_TYPES if m not in LIFECYCLE))
#: what an editor sends all day: drawn as often as all the other LSP methods together
DOCUMENT_METHODS = (
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "textDocument/completion",
    "textDocument/inlineCompletion",
    "textDocument/codeAction",
    "textDocument/documentSymbol",
)
FIELDS = {m: _params_fields(m) for m in (*LSP_METHODS, *QUILL_METHODS)}
FIELDS["quill/ask"] = ["question", "uri", "position"]
FIELDS["quill/chat"] = ["message", "sessionId", "uri", "position", "selection"]
FIELDS["quill/chat/cancel"] = ["sessionId"]
FIELDS["quill/chat/history"] = ["sessionId", "limit", "before", "thinking"]
FIELDS["quill/chat/sessions"] = ["limit", "offset"]
FIELDS["textDocument/didShowCompletion"] = ["item"]
FIELDS["textDocument/didPartiallyAcceptCompletion"] = ["item", "acceptedLength"]

# ---------------------------------------------------------------------- JSON values

_ints = st.one_of(
    st.integers(-3, 300),
    st.sampled_from([-1, 2**31 - 1, 2**31, 2**53, -(2**63), 2**64, 10**30]),
)
_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.5, -0.0, 1e308])
)
_odd_text = st.sampled_from(
    [
        "",
        "\x00",
        "\ud83d\ude00",
        "é" * 3,
        "\u2028\u2029",
        "../../../../etc/passwd",
        "file:///etc/passwd",
        "%00%2e%2e",
        "$(rm -rf /)",
        "{{prefix}}",
        "<|fim_prefix|>",
        "a" * 70_000,
        "\n" * 5_000,
        "x" * 1_000_000,
    ]
)
texts = st.one_of(st.text(max_size=40), _odd_text)
scalars = st.one_of(st.none(), st.booleans(), _ints, _floats, texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``strategy``, or now and then any JSON value in its place (type confusion)."""
    return st.one_of(strategy, strategy, strategy, json_values)


# ---------------------------------------------------------------------- LSP shapes


def lsp_values(uris: list[str]) -> dict[str, st.SearchStrategy[Any]]:
    """Plausible values for the params fields that name what they hold."""
    uri = st.one_of(st.sampled_from(uris), texts)
    position = st.fixed_dictionaries({"line": maybe(_ints), "character": maybe(_ints)})
    range_ = st.fixed_dictionaries({"start": maybe(position), "end": maybe(position)})
    document = st.fixed_dictionaries(
        {"uri": maybe(uri)},
        optional={
            "languageId": maybe(st.sampled_from(["python", "go", "rust", "plaintext", ""])),
            "version": maybe(_ints),
            "text": maybe(texts),
        },
    )
    change = st.one_of(
        st.fixed_dictionaries({"text": maybe(texts)}),
        st.fixed_dictionaries({"range": maybe(range_), "text": maybe(texts)}),
    )
    return {
        "textDocument": document,
        "position": position,
        "range": range_,
        "selection": range_,
        "uri": uri,
        "contentChanges": st.lists(maybe(change), max_size=3),
        "query": texts,
        "question": texts,
        "message": texts,
        "command": st.one_of(st.sampled_from(QUILL_COMMANDS), texts),
        "arguments": st.lists(maybe(st.one_of(uri, range_, texts)), max_size=4),
        "context": st.dictionaries(
            st.sampled_from(["triggerKind", "triggerCharacter", "diagnostics", "only"]),
            json_values,
            max_size=3,
        ),
        "sessionId": texts,
        "id": json_values,
    }


@dataclass(frozen=True)
class Message:
    """One generated message: its JSON value, and whether it is a request that a correct
    server must answer exactly once (a fresh integer id on a well-formed request)."""

    value: Any
    tracked_id: int | None = None


def messages(uris: list[str], ids: st.SearchStrategy[int]) -> st.SearchStrategy[Message]:
    """JSON-RPC messages from the LSP shapes, with missing, extra and type-confused parts."""
    values = lsp_values(uris)
    methods = st.one_of(
        st.sampled_from(DOCUMENT_METHODS),
        st.sampled_from(LSP_METHODS),
        st.sampled_from(QUILL_METHODS),
        st.text(max_size=30),
    )

    @st.composite
    def build(draw: st.DrawFn) -> Message:
        method = draw(methods.filter(lambda m: m not in LIFECYCLE))
        fields = FIELDS.get(method, [])
        params: Any
        shape = draw(st.integers(0, 9))
        if shape < 6 and fields:  # the method's own fields, some missing, some confused
            params = {}
            for name in fields:
                if draw(st.integers(0, 3)) > 0:  # each field there three times in four
                    params[name] = draw(maybe(values.get(name, json_values)))
            if draw(st.integers(0, 4)) == 0:
                params[draw(st.text(max_size=8))] = draw(json_values)
        elif shape < 8:
            params = draw(json_values)
        else:
            params = None
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None or draw(st.booleans()):
            message["params"] = params
        kind = draw(st.integers(0, 9))
        tracked = None
        if kind < 5:  # a request with a fresh id: it must be answered once
            tracked = draw(ids)
            message["id"] = tracked
        elif kind < 7:  # a wrong id: duplicated, or of a wrong type
            message["id"] = draw(st.one_of(st.sampled_from([0, 1, -1, "1", ""]), json_values))
        # else: a notification (for request methods, one that needed an id)
        if draw(st.integers(0, 9)) == 0:  # a broken envelope
            broken = draw(st.sampled_from(["jsonrpc", "method", "extra", "response"]))
            if broken == "jsonrpc":
                message["jsonrpc"] = draw(st.one_of(st.just("1.0"), json_values))
            elif broken == "method":
                message["method"] = draw(json_values)
            elif broken == "extra":
                message[draw(st.text(max_size=8))] = draw(json_values)
            else:  # a response to a request the server never sent
                message = {"jsonrpc": "2.0", "id": draw(json_values), "result": params}
            tracked = None
        return Message(message, tracked)

    return build()


def editing(uris: list[str], ids: st.SearchStrategy[int]) -> st.SearchStrategy[Message]:
    """What an editor sends while someone types, every field present and of the right type:
    opens, ranged and whole changes, closes and the requests made at a position, on the
    known URIs, with ranges near (and past) the start of the text and text with line breaks,
    tabs, characters beyond UTF-16's first plane and combining marks."""
    uri = st.sampled_from(uris)
    small = st.integers(0, 6)
    position = st.fixed_dictionaries({"line": small, "character": st.integers(0, 24)})
    range_ = st.fixed_dictionaries({"start": position, "end": position})
    pieces = [*"abc xyz_(){}[]:.,=+-*/#'\"\n\r\t", "\r\n", "😀", "é", "e\u0301"]
    code = st.lists(st.sampled_from(pieces), max_size=30).map("".join)
    version = st.integers(1, 1_000)

    def document(u: str, v: int) -> dict[str, Any]:
        return {"uri": u, "version": v}

    opened = st.builds(
        lambda u, text, lang: {
            "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": u, "languageId": lang, "version": 1, "text": text}},
        },
        uri,
        code,
        st.sampled_from(["python", "rust", "typescript", "plaintext"]),
    )
    changed = st.builds(
        lambda u, v, changes: {
            "method": "textDocument/didChange",
            "params": {"textDocument": document(u, v), "contentChanges": changes},
        },
        uri,
        version,
        st.lists(
            st.one_of(
                st.fixed_dictionaries({"range": range_, "text": code}),
                st.fixed_dictionaries({"text": code}),
            ),
            min_size=1,
            max_size=3,
        ),
    )
    closed = st.builds(
        lambda u: {"method": "textDocument/didClose", "params": {"textDocument": {"uri": u}}},
        uri,
    )

    def request(
        method: str, where: str, at: st.SearchStrategy[Any], **extra: Any
    ) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(
            lambda u, w, i: {
                "method": method,
                "id": i,
                "params": {"textDocument": {"uri": u}, where: w, **extra},
            },
            uri,
            at,
            ids,
        )

    completion = request("textDocument/completion", "position", position)
    hover = request("textDocument/hover", "position", position)
    inline = request(
        "textDocument/inlineCompletion", "position", position, context={"triggerKind": 2}
    )
    actions = request("textDocument/codeAction", "range", range_, context={"diagnostics": []})
    return st.one_of(
        opened, changed, changed, changed, closed, completion, hover, inline, actions
    ).map(lambda body: Message({"jsonrpc": "2.0", **body}, body.get("id")))


# ---------------------------------------------------------------------- frames


def dumps(value: Any) -> bytes:
    """Compact JSON with no raw line breaks (``ensure_ascii``), lone surrogates kept."""
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def framed(body: bytes, header: bytes = b"Content-Length: %d\r\n\r\n") -> bytes:
    return (header % len(body)) + body


_NEWLINES = re.compile(rb"\r|\n")


def frames(
    uris: list[str], ids: st.SearchStrategy[int], max_body: int
) -> st.SearchStrategy[tuple[bytes, Message | None]]:
    """One frame on the wire, and the message in it when the server can read one."""
    well_formed = messages(uris, ids).map(lambda m: (framed(dumps(m.value)), m))
    typing = editing(uris, ids).map(lambda m: (framed(dumps(m.value)), m))
    odd_headers = st.sampled_from(
        [
            b"Content-Length: %d\r\n"
            b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n",
            b"\r\n\r\ncontent-length:%d\r\n\r\n",
            b"Content-Length: %d\n\n",
            b"X-Noise: " + b"n" * 9000 + b"\r\nContent-Length: %d\r\n\r\n",
            b"Content-Length: 999999\r\nContent-Length: %d\r\n\r\n",
        ]
    )
    odd_framing = st.tuples(messages(uris, ids), odd_headers).map(
        lambda mh: (framed(dumps(mh[0].value), mh[1]), mh[0])
    )
    no_length = st.sampled_from(
        [
            b"Content-Type: text/plain\r\n\r\n",
            b"Content-Length: abc\r\n\r\n",
            b"Content-Length: -5\r\n\r\n",
            b"Content-Length: 1e3\r\n\r\n",
            b"Content-Length:\r\n\r\n",
            b"Content-Length: 0x10\r\n\r\n",
            b"\xff\xfe\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
    ).map(lambda b: (b, None))
    not_json = st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [
                b"",
                b"{",
                b"[]",
                b"null",
                b"1",
                b'"x"',
                b"\xc3\x28",
                b"\xed\xa0\x80",
                b'{"jsonrpc":"2.0","id":5,"method":"quill/status","params":"\xff"}',
                b'\xef\xbb\xbf{"jsonrpc":"2.0","method":"initialized","params":{}}',
            ]
        ),
        messages(uris, ids).map(lambda m: dumps(m.value) + b"\xff"),
    ).map(lambda body: (framed(body), None))
    truncated = st.tuples(messages(uris, ids), st.floats(0, 0.99)).map(
        lambda mf: _truncated(dumps(mf[0].value), mf[1])
    )
    too_long = st.tuples(messages(uris, ids), st.floats(0.01, 0.99)).map(
        lambda mf: _too_long(dumps(mf[0].value), mf[1])
    )
    oversized = st.integers(max_body + 1, max_body * 2).map(
        lambda n: (framed(b'{"jsonrpc":"2.0","id":1,"method":"x","p":"' + b"a" * n + b'"}'), None)
    )
    batch = st.lists(messages(uris, ids), min_size=0, max_size=3).map(
        lambda ms: (framed(dumps([m.value for m in ms])), None)
    )
    return st.one_of(
        well_formed,
        well_formed,
        well_formed,
        typing,
        typing,
        odd_framing,
        no_length,
        not_json,
        truncated,
        too_long,
        oversized,
        batch,
    )


def _truncated(body: bytes, fraction: float) -> tuple[bytes, None]:
    """The first part of ``body``, padded with spaces to the length declared for it."""
    cut = body[: int(len(body) * fraction)]
    return framed(cut + b" " * (len(body) - len(cut)), b"Content-Length: %d\r\n\r\n"), None


def _too_long(body: bytes, fraction: float) -> tuple[bytes, None]:
    """``Content-Length`` shorter than the body; the rest of it, on one line, then a blank
    line, is one more header block without a length."""
    keep = max(1, int(len(body) * fraction))
    rest = _NEWLINES.sub(b" ", body[keep:])
    return b"Content-Length: %d\r\n\r\n" % keep + body[:keep] + rest + b"\r\n\r\n", None
