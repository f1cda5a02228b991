"""Canary secrets: random-looking values of every kind, made fresh for each run, a workspace
seeded with them, and a search for any piece of one in what was sent to a model.

A canary is found when any 12 characters in a row of its random part appear in a request
body, either as sent or in the JSON strings it holds (where a key block's line breaks are
``\\n`` escapes), so a secret cut in half, or with its prefix removed, still counts.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: a run of this many characters of a canary's random part is a leak
WINDOW = 12

_ALNUM = string.ascii_letters + string.digits
_UPPER = string.ascii_uppercase + string.digits
_B64 = string.ascii_letters + string.digits + "+/"
_HEX = "0123456789abcdef"


def _random(alphabet: str, n: int) -> str:
    """``n`` characters from ``alphabet`` holding at least one letter and one digit (when
    the alphabet has both), so no filter takes it for a word or a number."""
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(n))
        letters = any(c.isalpha() for c in value) or not any(c.isalpha() for c in alphabet)
        digits = any(c.isdigit() for c in value) or not any(c.isdigit() for c in alphabet)
        if letters and digits:
            return value


@dataclass(frozen=True)
class Canary:
    """One secret: what kind it is, where it lives, and its random part (what is searched)."""

    kind: str
    where: str
    secret: str

    def windows(self) -> list[str]:
        s = self.secret
        return [s[i : i + WINDOW] for i in range(0, max(1, len(s) - WINDOW + 1))]


@dataclass
class CanarySet:
    canaries: list[Canary] = field(default_factory=list)

    def add(self, kind: str, where: str, secret: str) -> str:
        self.canaries.append(Canary(kind, where, secret))
        return secret

    def found_in(self, text: str) -> list[tuple[Canary, str]]:
        """Each canary with a piece in ``text``, with the text around the first piece."""
        hits: list[tuple[Canary, str]] = []
        for canary in self.canaries:
            for window in canary.windows():
                at = text.find(window)
                if at >= 0:
                    hits.append((canary, text[max(0, at - 60) : at + len(window) + 20]))
                    break
        return hits

    def leaks(self, bodies: list[tuple[str, bytes]]) -> list[str]:
        """One line for each canary found in each ``(label, body)``."""
        out: list[str] = []
        for label, body in bodies:
            raw = body.decode("utf-8", "replace")
            text = raw + "\n" + "\n".join(_json_strings(raw))
            for canary, around in self.found_in(text):
                out.append(f"{canary.kind} (from {canary.where}) in {label}: …{around!r}…")
        return out


def _json_strings(raw: str) -> list[str]:
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            found.append(v)
        elif isinstance(v, dict):
            for k, item in v.items():
                found.append(str(k))
                walk(item)
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    return found


def aws_key_id(c: CanarySet, where: str) -> str:
    return "AKIA" + c.add("AWS access key id", where, _random(_UPPER, 16))


def private_key(c: CanarySet, where: str, newline: str = "\n") -> str:
    lines = [c.add("private key block", where, _random(_B64, 64)) for _ in range(4)]
    last = c.add("private key block", where, _random(_B64, 40)) + "=="
    body = newline.join([*lines, last])
    return f"-----BEGIN RSA PRIVATE KEY-----{newline}{body}{newline}-----END RSA PRIVATE KEY-----"


@dataclass
class Workspace:
    root: Path
    canaries: CanarySet
    #: the text typed into ``app/local_settings.py`` (never saved) and where it goes
    typed: str
    #: a secret pasted into a question, chat message or API request
    pasted: str


#: the disk version of the buffer a secret is typed into
LOCAL_SETTINGS = '''"""Settings for this machine; never committed."""

DEBUG = True


def load_overrides():
    return {"debug": DEBUG}
'''

DB = '''"""Database access for the service."""

from app.settings import AWS_SECRET_ACCESS_KEY, DATABASE_URL, PRIVATE_KEY, connect_url


class Repository:
    def __init__(self, url=DATABASE_URL):
        self.url = connect_url(url)
        self.rows = []

    def add(self, row):
        self.rows.append(row)
        return len(self.rows)

    def find(self, key):
        for row in self.rows:
            if row.get("key") == key:
                return row
        return None


def open_repository():
    repo = Repository()
    return repo


def signing_material():
    return PRIVATE_KEY, AWS_SECRET_ACCESS_KEY


def total(values):
    result = 0
    for v in values:
        result += v
    return result
'''


def seed(root: Path) -> Workspace:
    """Write the workspace; every secret in it is a fresh canary."""
    c = CanarySet()
    (root / "app").mkdir(parents=True)
    (root / "config").mkdir()
    (root / "deploy").mkdir()
    (root / "tests").mkdir()
    (root / ".git").mkdir()  # a project root, as editors find one

    aws_secret = c.add("AWS secret access key", "app/settings.py", _random(_B64, 40))
    github = "ghp_" + c.add("GitHub token", "app/settings.py", _random(_ALNUM, 36))
    slack = (
        "xoxb-"
        + c.add("Slack token", "app/settings.py", _random(string.digits, 12))
        + "-"
        + c.add("Slack token", "app/settings.py", _random(_ALNUM, 24))
    )
    openai = "sk-proj-" + c.add("OpenAI key", "app/settings.py", _random(_ALNUM, 48))
    db_password = c.add("URL password", "app/settings.py", _random(_ALNUM, 20))
    redis_password = c.add("URL password", "app/settings.py", _random(_ALNUM, 20))
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "settings.py").write_text(
        '"""Service settings."""\n\n'
        f'AWS_ACCESS_KEY_ID = "{aws_key_id(c, "app/settings.py")}"\n'
        f'AWS_SECRET_ACCESS_KEY = "{aws_secret}"\n'
        f'GITHUB_TOKEN = "{github}"\n'
        f'SLACK_BOT_TOKEN = "{slack}"\n'
        f'OPENAI_API_KEY = "{openai}"\n'
        f'DATABASE_URL = "postgresql://app:{db_password}@db.internal:5432/app"\n'
        f'CACHE_URL = "redis://:{redis_password}@cache.internal:6379/0"\n'
        f'PRIVATE_KEY = """{private_key(c, "app/settings.py")}"""\n'
        "\n\n"
        "def connect_url(url):\n"
        '    """The URL with the driver named."""\n'
        '    return url.replace("postgresql://", "postgresql+psycopg://")\n'
    )
    (root / "app" / "db.py").write_text(DB)
    (root / "app" / "local_settings.py").write_text(LOCAL_SETTINGS)

    env_salt = c.add(".env contents", ".env", _random(_ALNUM, 24))
    env_password = c.add(".env contents", ".env", _random(_ALNUM, 20))
    env_stripe = c.add(".env contents", ".env", _random(_ALNUM, 24))
    (root / ".env").write_text(
        "# local development\n"
        f"APP_SALT={env_salt}\n"
        f"DATABASE_PASSWORD={env_password}\n"
        f"STRIPE_API_KEY=sk_live_{env_stripe}\n"
    )
    prod = c.add(".env contents", ".env.production", _random(_ALNUM, 24))
    (root / ".env.production").write_text(f"SESSION_SECRET={prod}\n")

    json_password = c.add("JSON config secret", "config/settings.json", _random(_ALNUM, 20))
    json_key = c.add("JSON config secret", "config/settings.json", _random(_HEX, 32))
    (root / "config" / "settings.json").write_text(
        json.dumps(
            {
                "service": "billing",
                "database": {"host": "db.internal", "port": 5432, "password": json_password},
                "api_key": json_key,
                "retries": 3,
            },
            indent=2,
        )
        + "\n"
    )
    yaml_password = c.add("YAML config secret", "config/app.yaml", _random(_ALNUM, 20))
    yaml_token = c.add("YAML config secret", "config/app.yaml", _random(_ALNUM, 32))
    (root / "config" / "app.yaml").write_text(
        "service: billing\n"
        "database:\n"
        "  host: db.internal\n"
        f"  password: {yaml_password}\n"
        "slack:\n"
        f"  bot_token: {yaml_token}\n"
        "retries: 3\n"
    )
    (root / "deploy" / "id_rsa").write_text(private_key(c, "deploy/id_rsa") + "\n")
    (root / "deploy" / "server.pem").write_text(private_key(c, "deploy/server.pem") + "\n")
    (root / "tests" / "test_db.py").write_text(
        "from app.db import total\n\n\ndef test_total():\n    assert total([1, 2]) == 3\n"
    )

    stripe = "sk_live_" + c.add("secret typed into a buffer", "buffer", _random(_ALNUM, 24))
    token = c.add("secret typed into a buffer", "buffer", _random(_HEX, 40))
    typed = f'STRIPE_SECRET_KEY = "{stripe}"\nINTERNAL_API_TOKEN = "{token}"\n'
    pasted = aws_key_id(c, "pasted into a question")
    return Workspace(root, c, typed, pasted)
