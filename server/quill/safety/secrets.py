"""Keep secrets out of prompts: files that hold them are never sent, and key-like strings in
any text are replaced before it reaches a model.

Detection is Yelp's detect-secrets (its plugins with their entropy limits, and its
false-positive filters, driven the way its file scan drives them, see
:mod:`quill.safety._detect`) plus a few precise patterns of our own for what it misses: URL
passwords in any scheme, today's OpenAI/Anthropic keys, Google API keys, full JWTs, token
assignments, and private-key blocks spanning lines. Results are cached per line, so
redacting the same file again on the next keystroke costs a dictionary look-up per line.
Nothing here raises: when detect-secrets is missing or fails, the regexes alone are used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import PurePath

from quill.safety import _detect

log = logging.getLogger(__name__)

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

REDACTED = _detect.REDACTED

#: lines shorter than this cannot hold anything worth redacting (the shortest canary,
#: ``pwd="ab"``, is eight characters); they skip the cache as well as the scan
_MIN_LINE = 8
#: per-line results kept; a few files' worth of lines at a few hundred bytes each
_CACHE_LINES = 8192
#: longer lines (minified code) go to a cache of their own, of _CACHE_LONG_LINES
_LONG_LINE = 2000
_CACHE_LONG_LINES = 64
#: lines longer than this are scanned each time, never kept (64 of them, text and result,
#: stay under 9 MB; a pasted megabyte line would otherwise stay in memory twice)
_MAX_CACHED_LINE = 65_536

# ---- private keys: whole blocks, across lines (also inside strings with ``\n`` escapes)
_PEM_BEGIN = r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_EOL = r"(?:\\r)?\\n|\r?\n"  # a real line break or an escaped one inside a string literal
_B64_LINE = r"[ \t]*[A-Za-z0-9+/=]{16,}[ \t]*"
#: a whole block; ``(?!-----BEGIN)`` keeps each search to one block (linear time)
_KEY_BLOCK = re.compile(_PEM_BEGIN + r"(?:(?!-----BEGIN).)*?" + _PEM_END, re.S)
#: a header whose footer was cut off (a prompt window ends inside the key)
_KEY_HEAD = re.compile(
    _PEM_BEGIN
    + rf"(?:(?:{_EOL})[ \t]*[A-Za-z-]+:[^\n\\]*)*"  # Proc-Type: / DEK-Info: headers
    + rf"(?:(?:{_EOL})[ \t]*)?"
    + rf"(?:(?:{_EOL}){_B64_LINE})+"
    + rf"(?:(?:{_EOL})[ \t]*[A-Za-z0-9+/=]+)?"
)
#: a footer whose header was cut off (a prompt window starts inside the key): the footer
#: and the base64 lines above it go, see :func:`_key_tails`
_KEY_FOOT = re.compile(r"[ \t]*" + _PEM_END)
_KEY_LINE = re.compile(r"[ \t]*[A-Za-z0-9+/=]+[ \t]*\r?")

# ---- precise single-line patterns, always applied before detect-secrets
#: ``scheme://user:PASSWORD@host``: user and host stay, the password goes
_URL_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*+://[^\s:/?#@'\"`<>]*+:)([^\s/?#@'\"`<>]++)(@)"
)
_PLACEHOLDER = re.compile(r"\$\{?\w+\}?|\{\w*\}|<[^>]*>|%\(?\w*\)?s|\*+|x+|\.\.\.", re.I)
_TOKENS = re.compile(
    "|".join(
        (
            # OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-api03-)
            # (a key holds a digit: checked in _sub_tokens, not here, to stay linear)
            r"\bsk-(?:proj-|ant-(?:[a-z]+\d\d-)?|svcacct-|admin-)?[\w-]{20,}",
            r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}\b",  # AWS access key id
            r"\bgh[pousr]_[A-Za-z0-9_]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}\b",  # GitHub
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
            r"\bAIza[0-9A-Za-z_-]{35}",  # Google API key
            r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}",  # Stripe secret / restricted
            r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
            r"\bglpat-[A-Za-z0-9_-]{20,}",  # GitLab
            r"\bnpm_[A-Za-z0-9]{36}\b",  # npm
            r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",  # PyPI
            # JWT: header, payload and signature (detect-secrets keeps the signature)
            r"(?<![\w-])eyJ[A-Za-z0-9_-]{5,}+\.eyJ[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]*",
        )
    )
)
#: what every pattern in _TOKENS starts with: a cheap test before the costly one
_TOKEN_HINT = re.compile(
    r"(?=[sAgxrhnpe])(?:sk-|A[KSB3]|AC|gh[pousr]_|github_|xox|AIza|[rs]k_|hf_|glpat|npm_"
    r"|pypi-|eyJ)"
)
#: a line holding none of these cannot match _KEYWORDS (checked on the lower-cased line)
_KEYWORD_WORDS = ("pass", "pwd", "secret", "token", "key", "credential")
#: ``auth_token = "a1b2..."`` / ``password: str = "..."``: names detect-secrets' keyword
#: list lacks (token, credential) or shapes it does not parse (annotated assignments).
#: The value must be quoted, space-free, and hold a letter and a digit or symbol.
_KEYWORDS = (
    r"passw(?:or)?d|pwd|secret|token(?!iz|s)|api_?key|access_?key|private_?key|auth_?key"
    r"|credential"
)
#: a name holding a keyword; it starts only where a name starts and is matched
#: possessively, so a long run of name characters costs linear time
_NAME = rf"(?<![\w.-])(?=[\w.-]*?(?:{_KEYWORDS}))[\w.-]++"
_ASSIGNED = re.compile(
    rf"(?i)({_NAME}['\"\]]*+"
    r"(?:\s*:\s*[A-Za-z_][\w.\[\], |]*?)?\s*(?::=|=>|==?|:)\s*)"
    r"(['\"])([^\s'\"/]{6,})(\2)"
)
#: ``bot_token: a1B2c3...`` (YAML, .ini, .properties): an unquoted value on a line of its own
#: under a secret-sounding name (detect-secrets' keyword list has no "token"); the value is one
#: run of key characters holding a letter and a digit
_UNQUOTED = re.compile(
    rf"(?i)^(\s*(?:export\s+|-\s+)?['\"]?{_NAME}['\"]?\s*[:=]\s*)"
    r"([A-Za-z0-9+/=_.~-]{12,})(\s*(?:#.*)?)$"
)
_DIGIT = re.compile(r"[0-9]")
#: ``settings.API_KEY_2``: an attribute path is code, not a value
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_LETTER = re.compile(r"[A-Za-z]")
_NOT_LETTER = re.compile(r"[^A-Za-z]")

# ---- used only when detect-secrets is unavailable or fails
#: ``name = "value"`` for secret-sounding names, quoted
_FALLBACK_QUOTED = re.compile(
    rf"(?i)({_NAME}['\"\]]*+\s*(?::=|=>|==?|:)\s*)"
    r"(['\"])([^'\"\n]{4,})(\2)"
)
#: ``NAME=value`` / ``name: value`` (env, yaml, ini), a whole line
_FALLBACK_CONFIG = re.compile(
    rf"(?i)^(\s*(?:export\s+)?['\"]?{_NAME}['\"]?\s*[:=]\s*)"
    r"([^\s'\"#][^'\"#]*?)(\s*(?:#.*)?)$"
)


def is_secret_file(path: str | PurePath | None) -> bool:
    """True for files such as ``.env``, ``.env.production``, ``id_rsa`` or ``*.pem``."""
    if not path:
        return False
    name = PurePath(str(path)).name.lower()
    if name in SECRET_FILE_NAMES or name.startswith(".env."):
        return True
    return PurePath(name).suffix in SECRET_SUFFIXES


def redact(text: str) -> str:
    """``text`` with key-like strings replaced by ``[REDACTED]``; names are kept."""
    return redact_with_count(text)[0]


def redact_with_count(text: str) -> tuple[str, int]:
    """``text`` with every secret replaced by ``[REDACTED]``, and how many were replaced.

    Lines are redacted one at a time (and cached by their text); private-key blocks,
    which span lines, are removed whole first. Never raises.
    """
    if not text:
        return text, 0
    try:
        text, count = _redact_key_blocks(text)
        lines = text.split("\n")
        for index, line in enumerate(lines):
            if len(line) < _MIN_LINE:
                continue
            n = len(line)
            scan = _redact_short if n <= _LONG_LINE else _redact_long
            new, found = (scan if n <= _MAX_CACHED_LINE else _redact_line)(line)
            if found:
                lines[index] = new
                count += found
        return ("\n".join(lines) if count else text), count
    except Exception:  # never let redaction take a request down; regexes only
        log.debug("secret redaction failed; using the regexes alone", exc_info=True)
        try:
            text, count = _redact_key_blocks(text)
            lines = text.split("\n")
            for index, line in enumerate(lines):
                lines[index], found = _redact_line_regex(line, fallback=True)
                count += found
            return "\n".join(lines), count
        except Exception:  # pragma: no cover - the regexes above cannot fail
            log.debug("regex redaction failed too; dropping the text", exc_info=True)
            return REDACTED, 1


def warm_up() -> bool:
    """Load detect-secrets now rather than on the first redaction (about 0.2 s); True
    when it is available, False when redaction runs on the regexes alone."""
    try:
        return _detect.ready()
    except Exception:
        log.debug("detect-secrets failed to load", exc_info=True)
        return False


def clear_cache() -> None:
    """Forget cached per-line results (tests; settings changes)."""
    _redact_short.cache_clear()
    _redact_long.cache_clear()


def _redact_key_blocks(text: str) -> tuple[str, int]:
    if "PRIVATE KEY" not in text:
        return text, 0
    text, count = _KEY_BLOCK.subn(REDACTED, text)
    text, found = _KEY_HEAD.subn(REDACTED, text)
    count += found
    if "-----END" in text:
        text, found = _key_tails(text)
        count += found
    return text, count


def _key_tails(text: str) -> tuple[str, int]:
    """Footers left alone by the block patterns, with the base64 lines right above them
    (real or escaped line breaks), removed; a footer with none above it stays."""
    spans: list[tuple[int, int]] = []
    for match in _KEY_FOOT.finditer(text):
        start = cut = match.start()
        while True:
            if text.endswith("\\n", 0, start):
                line_end = start - 2
            elif text.endswith("\n", 0, start):
                line_end = start - 1
            else:
                break
            real, escaped = text.rfind("\n", 0, line_end), text.rfind("\\n", 0, line_end)
            line_start = max(real + 1, escaped + 2 if escaped >= 0 else 0)
            if line_start < (spans[-1][1] if spans else 0) or not _KEY_LINE.fullmatch(
                text, line_start, line_end
            ):
                break
            start = cut = line_start
        if cut < match.start():
            spans.append((cut, match.end()))
    for start, end in reversed(spans):
        text = text[:start] + REDACTED + text[end:]
    return text, len(spans)


def _redact_line(line: str) -> tuple[str, int]:
    """One line (no ``\\n``; a trailing ``\\r`` is kept) redacted, and its count."""
    line, count = _redact_line_regex(line, fallback=False)
    if not _detect.could_hold_secret(line):
        return line, count
    try:
        values = _detect.scan_line(line)
    except Exception:
        log.debug("detect-secrets failed on a line; using the regexes", exc_info=True)
        values = None
    if values is None:  # detect-secrets unavailable or failed
        line, found = _redact_line_regex(line, fallback=True, precise=False)
        return line, count + found
    if values:
        line, found = _detect.replace_values(line, values)
        count += found
    return line, count


_redact_short = lru_cache(maxsize=_CACHE_LINES)(_redact_line)
#: minified code: few lines, each long; kept apart so they cannot fill memory
_redact_long = lru_cache(maxsize=_CACHE_LONG_LINES)(_redact_line)


def _redact_line_regex(line: str, *, fallback: bool, precise: bool = True) -> tuple[str, int]:
    """The precise patterns (``precise``) and, with ``fallback``, the keyword patterns that
    stand in for detect-secrets."""
    count = 0
    if precise:
        if "://" in line:
            line, found = _sub_url_passwords(line)
            count += found
        if _TOKEN_HINT.search(line):
            line, found = _sub_tokens(line)
            count += found
        lower = line.lower()
        if any(word in lower for word in _KEYWORD_WORDS):
            line, found = _sub_values(_ASSIGNED, line, _literal_like)
            count += found
            line, found = _sub_unquoted(line)
            count += found
    if fallback:
        line, found = _sub_values(_FALLBACK_QUOTED, line, lambda value: True)
        count += found
        match = _FALLBACK_CONFIG.match(line)
        if match and REDACTED not in match.group(2) and not _detect.code_like(match.group(2), line):
            line = match.group(1) + REDACTED + match.group(3)
            count += 1
    return line, count


def _sub_url_passwords(line: str) -> tuple[str, int]:
    count = 0

    def sub(match: re.Match[str]) -> str:
        nonlocal count
        password = match.group(2)
        if password == REDACTED or _PLACEHOLDER.fullmatch(password):
            return match.group(0)
        count += 1
        return f"{match.group(1)}{REDACTED}{match.group(3)}"

    return _URL_PASSWORD.sub(sub, line), count


def _sub_tokens(line: str) -> tuple[str, int]:
    count = 0

    def sub(match: re.Match[str]) -> str:
        nonlocal count
        token = match.group()
        if token.startswith("sk-") and not any(c.isdigit() for c in token):
            return token  # ``sk-fading-circle-animation``: a CSS class, not a key
        count += 1
        return REDACTED

    return _TOKENS.sub(sub, line), count


def _sub_unquoted(line: str) -> tuple[str, int]:
    match = _UNQUOTED.match(line)
    if match is None:
        return line, 0
    value = match.group(2)
    if (
        REDACTED in value
        or not _DIGIT.search(value)
        or not _literal_like(value)
        or _DOTTED_NAME.fullmatch(value)
        or _PLACEHOLDER.fullmatch(value)
        or _detect.ENV_NAME.fullmatch(value)
        or _detect.code_like(value, line)
    ):
        return line, 0
    return match.group(1) + REDACTED + match.group(3), 1


def _literal_like(value: str) -> bool:
    return bool(_LETTER.search(value) and _NOT_LETTER.search(value))


def _sub_values(
    pattern: re.Pattern[str], line: str, accept: Callable[[str], bool]
) -> tuple[str, int]:
    """Replace group 3 of each ``pattern`` match for which ``accept(value)`` holds."""
    count = 0

    def sub(match: re.Match[str]) -> str:
        nonlocal count
        value = match.group(3)
        if (
            REDACTED in value
            or _PLACEHOLDER.fullmatch(value)
            or _detect.ENV_NAME.fullmatch(value)  # the variable's name, not its value
            or not accept(value)
        ):
            return match.group(0)
        count += 1
        return f"{match.group(1)}{match.group(2)}{REDACTED}{match.group(4)}"

    return pattern.sub(sub, line), count
