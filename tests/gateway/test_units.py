"""The gateway's pure parts: FIM prompts, frames, path confinement, the security policy."""

from __future__ import annotations

import asyncio
import json
import socket
import stat
from pathlib import Path

import pytest

from quill.gateway.context_provider import same_workspace
from quill.gateway.fim import split_fim_prompt
from quill.gateway.protocol import Code, FrameError, parse_frame
from quill.gateway.runner import _bind
from quill.gateway.security import (
    SecurityPolicy,
    TokenBucket,
    loopback_only,
    new_token,
    read_or_create_token_file,
    write_token_file,
)
from quill.gateway.workspace import PathRefused, confine

# ----------------------------------------------------------------------------- FIM


def test_qwen_fim_prompt_from_continue_splits_into_prefix_and_suffix() -> None:
    prompt = (
        "<|fim_prefix|># Path: pkg/util.py\ndef add(a, b):\n    return "
        "<|fim_suffix|>\n\nprint(add(1, 2))<|fim_middle|>"
    )
    split = split_fim_prompt(prompt)
    assert split is not None
    assert split.prefix == "# Path: pkg/util.py\ndef add(a, b):\n    return "
    assert split.suffix == "\n\nprint(add(1, 2))"
    assert split.path == "pkg/util.py"
    assert split.language == "python"


def test_repository_level_qwen_prompt_names_the_current_file() -> None:
    prompt = (
        "<|repo_name|>demo\n<|file_sep|>other.py\nX = 1\n<|file_sep|>src/main.go\n"
        "<|fim_prefix|>func main() {<|fim_suffix|>}<|fim_middle|>"
    )
    split = split_fim_prompt(prompt)
    assert split is not None
    assert (split.prefix, split.suffix, split.path) == ("func main() {", "}", "src/main.go")


@pytest.mark.parametrize(
    ("prompt", "prefix", "suffix"),
    [
        ("<fim_prefix>a = <fim_suffix>\nb<fim_middle>", "a = ", "\nb"),  # StarCoder
        ("<PRE> def f(): <SUF>\n    pass <MID>", "def f():", "\n    pass"),  # Code Llama
        ("[SUFFIX]tail()[PREFIX]head = ", "head = ", "tail()"),  # Codestral: suffix first
        ("<｜fim▁begin｜>x = <｜fim▁hole｜>\ny<｜fim▁end｜>", "x = ", "\ny"),  # DeepSeek
    ],
)
def test_every_family_quill_writes_it_can_read(prompt: str, prefix: str, suffix: str) -> None:
    split = split_fim_prompt(prompt)
    assert split is not None
    assert (split.prefix, split.suffix) == (prefix, suffix)


def test_a_plain_prompt_is_not_fim() -> None:
    assert split_fim_prompt("def hello():\n    ") is None
    assert split_fim_prompt("<|fim_prefix|>only a prefix") is None


# ---------------------------------------------------------------------------- frames


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", Code.BAD_JSON),
        ("[1, 2]", Code.BAD_FRAME),
        ('{"v": 2, "type": "ping"}', Code.BAD_VERSION),
        ('{"type": "ping"}', Code.BAD_VERSION),
        ('{"v": 1, "type": "launch"}', Code.UNKNOWN_TYPE),
        ('{"v": 1, "type": "chat", "message": "hi"}', Code.BAD_REQUEST),  # no id
        ('{"v": 1, "type": "chat", "id": true, "message": "hi"}', Code.BAD_REQUEST),
        ("[" * 100_000, Code.BAD_JSON),
    ],
)
def test_bad_frames_get_their_error_code(text: str, code: str) -> None:
    with pytest.raises(FrameError) as caught:
        parse_frame(text)
    assert caught.value.code == code


def test_a_good_frame_and_its_fields() -> None:
    req = parse_frame(json.dumps({"v": 1, "type": "chat", "id": "a1", "message": "hi"}))
    assert (req.type, req.id, req.str_field("message")) == ("chat", "a1", "hi")
    with pytest.raises(FrameError, match="line"):
        req.body["line"] = -1
        req.int_field("line")
    assert parse_frame('{"v": 1, "type": "ping"}').id is None  # ping needs no id


# ------------------------------------------------------------------- confinement


def test_confine_keeps_paths_inside_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "ws" / "pkg").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("x")
    (tmp_path / "ws" / "out").symlink_to(tmp_path / "secret.txt")
    root = tmp_path / "ws"
    assert confine(root, "pkg/a.py")[0] == "pkg/a.py"
    assert confine(root, "./pkg\\a.py")[0] == "pkg/a.py"
    for bad in ("../secret.txt", "pkg/../../secret.txt", "/etc/passwd", "out", "C:/x", "", "a\0b"):
        with pytest.raises(PathRefused):
            confine(root, bad)
    with pytest.raises(PathRefused) as caught:
        confine(None, "a.py")
    assert caught.value.code == "no_workspace"


# ---------------------------------------------------------------------- security


def test_host_and_origin_allow_lists() -> None:
    policy = SecurityPolicy(token="t", port=8765, extra_origins=("vscode-webview://abc",))
    assert policy.host_allowed("127.0.0.1:8765")
    assert policy.host_allowed("localhost:8765")
    assert policy.host_allowed("LOCALHOST")
    for host in (None, "", "evil.com", "evil.com:8765", "127.0.0.1:9999", "127.0.0.1.evil.com"):
        assert not policy.host_allowed(host)
    assert policy.origin_allowed(None)  # not a browser
    assert policy.origin_allowed("http://127.0.0.1:8765")
    assert policy.origin_allowed("http://localhost:8765/")
    assert policy.origin_allowed("vscode-webview://abc")
    for origin in ("null", "http://evil.com", "http://localhost:9999", "https://127.0.0.1:8765"):
        assert not policy.origin_allowed(origin)
    assert policy.token_ok("t") and not policy.token_ok("T") and not policy.token_ok(None)


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=3)
    assert [bucket.take(now=100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after() > 0
    assert bucket.take(now=100.2)  # refilled after a while


def test_token_file_is_readable_by_the_user_only(tmp_path: Path) -> None:
    token = new_token()
    assert len(token) >= 40 and token != new_token()
    path = write_token_file(8765, token, tmp_path / "run")
    assert path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_kept_token_file_is_made_once_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "quill.token"
    token = read_or_create_token_file(path)
    assert len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_or_create_token_file(path) == token


def test_a_kept_token_file_others_can_read_or_too_short_is_refused(tmp_path: Path) -> None:
    loose = tmp_path / "loose.token"
    loose.write_text("a-long-enough-token-for-the-check\n")
    loose.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        read_or_create_token_file(loose)
    short = tmp_path / "short.token"
    short.write_text("abc\n")
    short.chmod(0o600)
    with pytest.raises(ValueError, match="at least 16"):
        read_or_create_token_file(short)
    with pytest.raises(ValueError, match="regular file"):
        read_or_create_token_file(tmp_path)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.2", "localhost"])
def test_the_gateway_binds_loopback_only(host: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        loopback_only(host)


def test_context_provider_answers_only_for_its_workspace(tmp_path: Path) -> None:
    root = tmp_path / "my project"
    (root / "src").mkdir(parents=True)
    assert same_workspace(root, str(root))
    assert same_workspace(root, (root / "src").as_uri())  # file URI, %20 and all
    assert same_workspace(root, None)
    assert not same_workspace(root, "/etc")
    assert not same_workspace(root, str(tmp_path / "other"))
    assert not same_workspace(root, 42)


async def test_gateway_connections_send_each_chunk_at_once() -> None:
    """Nagle's algorithm off (TCP_NODELAY) on every accepted connection: else a streamed chunk
    waits up to 40 ms for the next one."""
    sock = _bind("127.0.0.1", 0)
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        seen.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=sock)
    try:
        port = sock.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(seen, 10) == 1
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
