"""Secrets never reach a prompt: secret files are refused, key-like strings redacted."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from quill.app import Quill, SecretFileRefused
from quill.completion.service import CompletionRequest
from quill.safety import _detect
from quill.safety import secrets as secrets_module
from quill.safety.secrets import REDACTED, is_secret_file, redact, redact_with_count

# Canaries are glued from pieces so that no literal in this file looks like a live secret
# (GitHub push protection); what redact() sees is the whole value.
KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4"
AWS_ID = "AKIA" + "Q3EXAMPLE7ZT4WXY"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
GITHUB = "ghp_" + "Xq7Lm2Np9Rs4Tv6Wy8Za1Bc3De5Fg0Hj2Kk4"
SLACK = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
GOOGLE = "AIza" + "SyB4x9Qm2Lr7Tk1Vz8Nw3Hc6Jd0Fp5Gs2eQ"
STRIPE = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
JWT = ".".join(
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    )
)
ENTROPY = "Zm9vYmFyYmF6cXV4" + "MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A"
PEM_BEGIN = "-----BEGIN " + "RSA PRIVATE KEY-----"
PEM_END = "-----END " + "RSA PRIVATE KEY-----"
PEM_BODY = ["MIIEowIBAAKCAQEA" + "x1Y2z3W4v5U6t7S8" * 3, "a9B8c7D6e5F4g3H2" * 4, "Zz09qR"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    secrets_module.clear_cache()
    yield
    secrets_module.clear_cache()


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
        f"aws = '{AWS_ID}'\n"
        "db_password: hunter2hunter2\n"
        f"{PEM_BEGIN}\nMIIEabc\n{PEM_END}\n"
        "total = compute(items)\n"
    )
    out = redact(text)
    assert KEY not in out and AWS_ID not in out
    assert "hunter2hunter2" not in out and "MIIEabc" not in out
    assert 'OPENAI_API_KEY = "[REDACTED]"' in out
    assert "aws = '[REDACTED]'" in out and "db_password: [REDACTED]" in out
    assert "total = compute(items)" in out


@pytest.mark.parametrize(
    ("line", "secret", "expected"),
    [
        (f"aws_access_key_id = '{AWS_ID}'", AWS_ID, "aws_access_key_id = '[REDACTED]'"),
        (
            f'aws_secret_access_key = "{AWS_SECRET}"',
            AWS_SECRET,
            'aws_secret_access_key = "[REDACTED]"',
        ),
        (f'OPENAI_API_KEY = "{KEY}"', KEY, 'OPENAI_API_KEY = "[REDACTED]"'),
        (f'client = OpenAI(api_key="{KEY}")', KEY, 'client = OpenAI(api_key="[REDACTED]")'),
        (f"GITHUB_TOKEN={GITHUB}", GITHUB, "GITHUB_TOKEN=[REDACTED]"),
        (f'slack = WebClient(token="{SLACK}")', SLACK, 'slack = WebClient(token="[REDACTED]")'),
        (f"maps_key: '{GOOGLE}'", GOOGLE, "maps_key: '[REDACTED]'"),
        (f"stripe.api_key = '{STRIPE}'", STRIPE, "stripe.api_key = '[REDACTED]'"),
        (f"headers = {{'Authorization': 'Bearer {JWT}'}}", JWT, None),
        (
            "DATABASE_URL = 'postgres://admin:s3cr3tpw@db/app'",
            "s3cr3tpw",
            "DATABASE_URL = 'postgres://admin:[REDACTED]@db/app'",
        ),
        (
            "url = 'https://user:hunter2hunter2@example.com'",
            "hunter2hunter2",
            "url = 'https://user:[REDACTED]@example.com'",
        ),
        ("redis://:pw2x@cache:6379/0", "pw2x", "redis://:[REDACTED]@cache:6379/0"),
        (
            'password = "correct-horse-battery"',
            "correct-horse-battery",
            'password = "[REDACTED]"',
        ),
        ("DB_PASSWORD: hunter2hunter2", "hunter2hunter2", "DB_PASSWORD: [REDACTED]"),
        ("  db_password: hunter2hunter2  # prod", "hunter2hunter2", None),
        ("export DB_PASSWORD=changeme", "changeme", "export DB_PASSWORD=[REDACTED]"),
        (
            'conn = psycopg2.connect(host="db", password="hunter2hunter2")',
            "hunter2hunter2",
            'conn = psycopg2.connect(host="db", password="[REDACTED]")',
        ),
        ("password: str = 'hunter2x!'", "hunter2x!", "password: str = '[REDACTED]'"),
        ("access_token = 'abc123def456ghi'", "abc123def456ghi", "access_token = '[REDACTED]'"),
        (f'blob = "{ENTROPY}"', ENTROPY, 'blob = "[REDACTED]"'),
    ],
)
def test_every_kind_of_canary_is_redacted(line: str, secret: str, expected: str | None) -> None:
    out, count = redact_with_count(line)
    assert secret not in out and REDACTED in out and count == 1
    if expected is not None:
        assert out == expected
    assert redact(f"x = 1\n{line}\ny = 2\n") == f"x = 1\n{out}\ny = 2\n"


def test_detect_secrets_findings_are_whole_tokens() -> None:
    # its GitHub pattern reports only the ``ghp`` group; the whole token must go
    assert _detect.scan_line(f"GITHUB_TOKEN={GITHUB}") == [GITHUB]
    assert _detect.scan_line(f'aws_secret_access_key = "{AWS_SECRET}"') == [AWS_SECRET]
    assert _detect.scan_line("x = compute(a, b)") == []


@pytest.mark.parametrize(
    "text",
    [
        f"before = 1\n{PEM_BEGIN}\n" + "\n".join(PEM_BODY) + f"\n{PEM_END}\nafter = 2\n",
        f"before = 1\n{PEM_BEGIN}\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B\n\n"
        + "\n".join(PEM_BODY)
        + f"\n{PEM_END}\nafter = 2\n",
        # a prompt window cut inside the key, at either end
        f"before = 1\n{PEM_BEGIN}\n" + "\n".join(PEM_BODY),
        "\n".join(PEM_BODY) + f"\n{PEM_END}\nafter = 2\n",
        # inside a string literal, with escaped line breaks
        f'KEY = "{PEM_BEGIN}\\n' + "\\n".join(PEM_BODY) + f'\\n{PEM_END}\\n"\nafter = 2\n',
        # indented in YAML
        "tls:\n  key: |\n    "
        + f"{PEM_BEGIN}\n    "
        + "\n    ".join(PEM_BODY)
        + f"\n    {PEM_END}\n  after: 2\n",
    ],
)
def test_private_key_blocks_are_removed_whole(text: str) -> None:
    out, count = redact_with_count(text)
    assert count == 1 and REDACTED in out
    assert "PRIVATE KEY" not in out
    assert not any(part in out for part in PEM_BODY)
    assert ("before = 1" in out) == ("before = 1" in text)
    assert ("after" in out) == ("after" in text)


LOOK_ALIKES = [
    "max_tokens=settings.max_tokens,",
    "token = self.next_token()",
    'api_key = os.environ["KEY"]',
    "password_field = forms.CharField()",
    "x = compute(a, b)",
    "secret_santa = pick(names)",
    "self.password = password",
    "password = password",
    "    password=password,",
    "password: str",
    "api_key: str | None = None",
    "def login(user: str, password: str) -> bool:",
    "if password == confirm:",
    "const data = { password: password };",
    '    "password": password,',
    "MAX_PASSWORD_LENGTH = 128  # bytes",
    'api_key_env = "OPENAI_API_KEY"',
    "url = f'postgres://{user}:{pw}@{host}/db'",
    "url = 'postgres://user:${DB_PASS}@host/db'",
    "tokenizer = 'bert-base-uncased'",
    "author_email = 'jane2@example.com'",
    "request_id = '550e8400-e29b-41d4-a716-446655440000'",
    "DNS = '8.8.8.8'",
    "see https://example.com/docs:8080/page@2",
]


@pytest.mark.parametrize("line", LOOK_ALIKES)
def test_look_alikes_stay_byte_for_byte(line: str) -> None:
    assert redact_with_count(line) == (line, 0)
    assert redact(line + "\r\n") == line + "\r\n"


def test_ordinary_python_file_is_untouched() -> None:
    config = Path(__file__).parents[2] / "server" / "quill" / "config.py"
    text = config.read_text(encoding="utf-8")
    assert redact_with_count(text) == (text, 0)


def test_count_and_line_endings() -> None:
    text = (
        f"a = '{AWS_ID}'\r\n"
        f"b = '{GITHUB}'  # and again: {GITHUB}\r\n"
        "c = 'postgres://u:pw1@h/db'\r\n"
        "\r\n"
        "d = compute(a, b)\r\n"
    )
    out, count = redact_with_count(text)
    assert count == 4
    assert out == (
        "a = '[REDACTED]'\r\n"
        "b = '[REDACTED]'  # and again: [REDACTED]\r\n"
        "c = 'postgres://u:[REDACTED]@h/db'\r\n"
        "\r\n"
        "d = compute(a, b)\r\n"
    )
    assert redact_with_count("") == ("", 0)
    assert redact_with_count("x = 1") == ("x = 1", 0)


def test_long_lines_are_scanned_in_windows_in_linear_time() -> None:
    filler = ",".join(f'k{i}:"v{i}"' for i in range(2000))
    cut = filler.index(",", 980)  # the secret straddles the first window's end
    line = (
        f'var a={{{filler[:cut]},password:"hunter2hunter2"{filler[cut:]},'
        f'b:"{ENTROPY}",c:"{GITHUB}"}};'
    )
    out, count = redact_with_count(line)
    assert count == 3
    assert "hunter2hunter2" not in out and ENTROPY not in out and GITHUB not in out
    assert out.replace(REDACTED, "") == line.replace("hunter2hunter2", "").replace(
        ENTROPY, ""
    ).replace(GITHUB, "")
    started = time.perf_counter()
    for text in ("token_" * 10000, "x://" * 10000, "password: " + "a " * 20000):
        redact(text)
    text = "PRIVATE KEY\n" + "\n".join(["A" * 20] * 5000) + "\nx"
    assert redact(text) == text
    assert time.perf_counter() - started < 10  # each took 1 to 35 s with naive patterns


def test_plugin_hints_hold_for_the_installed_detect_secrets() -> None:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.keyword import DENYLIST

    plugins = {cls.__name__: cls for cls in get_mapping_from_secret_type_to_class().values()}
    for name, (hints, lowered) in _detect._PLUGIN_HINTS.items():
        if name == "KeywordDetector":
            patterns = list(DENYLIST)
        elif name.endswith("HighEntropyString"):
            continue  # their pattern is a quoted string
        else:
            patterns = [regex.pattern for regex in plugins[name].denylist]
        for pattern in patterns:
            text = pattern.lower() if lowered else pattern
            assert any(hint in text for hint in hints), (name, pattern)


def test_warm_up_loads_detect_secrets() -> None:
    assert secrets_module.warm_up() is True


def test_lines_are_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "\n".join(f"value_{i} = compute_{i}(alpha, beta)" for i in range(50))
    calls: list[str] = []
    scan = _detect.scan_line

    def counting(line: str) -> list[str] | None:
        calls.append(line)
        return scan(line)

    monkeypatch.setattr(_detect, "scan_line", counting)
    assert redact(text) == text
    assert len(calls) == 50
    assert redact(text) == text and redact(text + "\nnew_line = other(value)") != ""
    assert len(calls) == 51


def test_detect_secrets_failures_fall_back_to_regexes(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, line: str) -> list[str]:
        raise RuntimeError("boom")

    monkeypatch.setattr(_detect._Engine, "scan", broken)
    text = f'OPENAI_API_KEY = "{KEY}"\npassword = "correct-horse-battery"\nx = compute(a, b)\n'
    out, count = redact_with_count(text)
    assert KEY not in out and "correct-horse-battery" not in out and count == 2
    assert "x = compute(a, b)" in out and "max_tokens=settings.max_tokens," == redact(
        "max_tokens=settings.max_tokens,"
    )


def test_unavailable_detect_secrets_falls_back_to_regexes(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object) -> None:
        raise ImportError("no detect_secrets")

    _detect.reset()
    monkeypatch.setattr(_detect._Engine, "__init__", broken)
    try:
        out, count = redact_with_count("DB_PASSWORD: hunter2hunter2\ntoken = self.next_token()")
        assert out == "DB_PASSWORD: [REDACTED]\ntoken = self.next_token()" and count == 1
    finally:
        monkeypatch.undo()
        _detect.reset()
    assert redact("DB_PASSWORD: hunter2hunter2") == "DB_PASSWORD: [REDACTED]"


def test_detect_secrets_is_loaded_lazily_and_its_settings_left_alone() -> None:
    code = (
        "import sys\n"
        "import quill.safety.secrets as s\n"
        "assert 'detect_secrets' not in sys.modules, 'imported at import time'\n"
        "from detect_secrets.settings import get_settings\n"
        "before = get_settings().json()\n"
        "assert s.redact('password = \"hunter2hunter2\"') == 'password = \"[REDACTED]\"'\n"
        "assert get_settings().json() == before\n"
    )
    server = Path(__file__).parents[2] / "server"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=server)


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


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("  bot_token: CGZ0tXDfcCg1pUpNJJp5rOs695V71eZM", "  bot_token: "),
        ("  - token: abcdefgh12345678  # the bot's", "  - token: "),
        ("SLACK_TOKEN=xyzABC123456789", "SLACK_TOKEN="),
    ],
)
def test_unquoted_values_under_token_names_are_redacted(line: str, kept: str) -> None:
    out, count = redact_with_count(line)
    assert out.startswith(kept + "[REDACTED]") and count == 1, out


@pytest.mark.parametrize(
    "line",
    [
        "token_count: 1234567890123",
        "    tokenizer: bert-base-uncased-v2",
        "access_key: ${ACCESS_KEY_ID_1}",
        "max_tokens: 4096",
    ],
)
def test_unquoted_look_alikes_stay(line: str) -> None:
    assert redact_with_count(line) == (line, 0)


def test_a_huge_line_is_redacted_and_not_kept() -> None:
    from quill.safety import secrets

    secrets.clear_cache()
    key = "AKIA" + "Q7RXM2PLKD9WZB4T"
    line = "data = '" + "z" * 200_000 + "' # aws " + key
    redacted = secrets.redact(line)
    assert key not in redacted
    assert secrets._redact_long.cache_info().currsize == 0  # scanned, not cached
    medium = "blob = '" + "y" * 5_000 + "'"
    secrets.redact(medium)
    assert secrets._redact_long.cache_info().currsize == 1
