"""The LSP base protocol framing shared by the server, the bench client and the tests."""

from __future__ import annotations

import io

import pytest

from quill.lsp.jsonrpc import (
    MAX_HEADER_LINE,
    encode_message,
    frame_body,
    read_frame,
    read_message,
    write_message,
)


def test_round_trip_and_end_of_input() -> None:
    stream = io.BytesIO()
    write_message(stream, {"jsonrpc": "2.0", "id": 1, "method": "x", "params": {"é": "ü"}})
    write_message(stream, {"jsonrpc": "2.0", "method": "y"})
    stream.seek(0)
    assert read_message(stream)["params"] == {"é": "ü"}
    assert read_message(stream) == {"jsonrpc": "2.0", "method": "y"}
    with pytest.raises(EOFError):
        read_message(stream)


def test_headers_blank_lines_and_bare_newlines() -> None:
    body = b'{"a":1}'
    raw = (
        b"\r\n\n"  # blank lines before the headers are skipped
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
        b"content-length:  7 \n"
        b"\n" + body
    )
    frame = read_frame(io.BytesIO(raw))
    assert frame is not None and frame.body == body and frame.error is None


def test_missing_length_is_an_error_frame() -> None:
    stream = io.BytesIO(b"Content-Type: x\r\n\r\n" + frame_body(b"{}"))
    frame = read_frame(stream)
    assert frame is not None and frame.error == "missing Content-Length header"
    with pytest.raises(ValueError, match="missing Content-Length"):
        read_message(io.BytesIO(b"X: 1\r\n\r\n"))


def test_oversized_body_is_dropped_and_the_stream_stays_in_step() -> None:
    asked: list[int] = []

    def cap() -> int:
        asked.append(1)
        return 20

    stream = io.BytesIO(frame_body(b"x" * 3_000_000) + encode_message({"ok": True}))
    frame = read_frame(stream, cap)
    assert frame is not None and frame.body is None
    assert frame.error == "message of 3000000 bytes exceeds the limit of 20 bytes"
    assert read_message(stream, cap) == {"ok": True}
    assert len(asked) == 2  # asked once per frame, after its headers


def test_truncated_input_is_the_end() -> None:
    assert read_frame(io.BytesIO(b"Content-Length: 10\r\n\r\n{}")) is None
    assert read_frame(io.BytesIO(b"Content-Length: 10\r\n")) is None
    assert read_frame(io.BytesIO(frame_body(b"x" * 50)[:-1]), lambda: 10) is None


def test_long_header_lines_are_read_in_pieces() -> None:
    junk = b"X-Junk: " + b"j" * (3 * MAX_HEADER_LINE) + b"\r\n"
    frame = read_frame(io.BytesIO(junk + frame_body(b"[]")))
    assert frame is not None and frame.body == b"[]"


def test_malformed_json_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        read_message(io.BytesIO(frame_body(b'{"jsonrpc": ')))
