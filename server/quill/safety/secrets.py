"""Keep secrets out of prompts: files that hold them are never sent, and key-like strings in
any text are replaced before it reaches a model."""

from __future__ import annotations

import re
from pathlib import PurePath

#: file names whose whole content is secret
SECRET_FILE_NAMES = frozenset(
    {
        ".env",
        ".envrc",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".pgpass",
        "credentials",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "secrets.toml",
        "secrets.yaml",
        "secrets.yml",
        "secrets.json",
    }
)
SECRET_SUFFIXES = frozenset({".pem", ".key", ".p12", ".pfx", ".keystore", ".jks"})

_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"),  # OpenAI / Anthropic style keys
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API keys
    # NAME_KEY = "value" / password: value — keep the name, drop the value
    re.compile(
        r"(?i)(\b[\w.-]*(?:api[_-]?key|secret|password|passwd|token)[\w.-]*\s*[:=]\s*)"
        r"(['\"]?)([^\s'\"]{8,})(\2)"
    ),
]
REDACTED = "[REDACTED]"


def is_secret_file(path: str | PurePath | None) -> bool:
    """True for files such as ``.env``, ``.env.production``, ``id_rsa`` or ``*.pem``."""
    if not path:
        return False
    name = PurePath(str(path)).name.lower()
    if name in SECRET_FILE_NAMES or name.startswith(".env."):
        return True
    return PurePath(name).suffix in SECRET_SUFFIXES


def redact(text: str) -> str:
    """``text`` with key-like strings replaced by ``[REDACTED]``."""
    if not text:
        return text
    for pattern in _PATTERNS[:-1]:
        text = pattern.sub(REDACTED, text)
    return _PATTERNS[-1].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(4)}", text)
