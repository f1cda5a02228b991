"""Secrets never reach a prompt: secret files are refused, key-like strings redacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from quill.app import Quill, SecretFileRefused
from quill.completion.service import CompletionRequest
from quill.safety.secrets import is_secret_file, redact

KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4"


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        (".env", True),
        ("config/.env.production", True),
        ("deploy/id_rsa", True),
        ("certs/server.pem", True),
        ("app/settings.py", False),
        ("README.md", False),
        (None, False),
    ],
)
def test_secret_files(path: str | None, secret: bool) -> None:
    assert is_secret_file(path) is secret


def test_redaction_keeps_names_drops_values() -> None:
    text = (
        f'OPENAI_API_KEY = "{KEY}"\n'
        "aws = 'AKIAABCDEFGHIJKLMNOP'\n"
        "db_password: hunter2hunter2\n"
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\n"
        "total = compute(items)\n"
    )
    out = redact(text)
    assert KEY not in out and "AKIAABCDEFGHIJKLMNOP" not in out
    assert "hunter2hunter2" not in out and "MIIEabc" not in out
    assert 'OPENAI_API_KEY = "[REDACTED]"' in out
    assert "total = compute(items)" in out


async def test_completion_in_a_secret_file_never_calls_the_model(gguf_path: Path) -> None:
    app = Quill()
    try:
        calls: list[int] = []
        outcome = await app.completion.complete(
            CompletionRequest(
                "file:///w/.env", f"OPENAI_API_KEY={KEY}\n", 1, 0, 1, None, ".env", True
            ),
            on_model_call=lambda: calls.append(1),
        )
        assert outcome.reason == "secret file" and not calls
        req = CompletionRequest(
            "file:///w/app.py",
            f'KEY = "{KEY}"\n\ndef f():\n    ',
            3,
            4,
            1,
            "python",
            "app.py",
            True,
        )
        await app.completion.complete(req)
        record = app.completion.last_prompt
        assert record is not None and KEY not in str(record.prompt)
        with pytest.raises(SecretFileRefused):
            app.ask("what is in here?", file_path=".env", file_text=f"KEY={KEY}")
        messages = app.ask_messages("explain", file_path="app.py", file_text=f'KEY = "{KEY}"\n')
        assert KEY not in str(messages)
    finally:
        await app.aclose()
