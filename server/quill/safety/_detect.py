"""detect-secrets, one line at a time, driven the way its own file scan drives it.

:func:`scan_line` mirrors ``detect_secrets.core.scan._process_line_based_plugins`` (what
``scan_file`` runs): the line-level filters first (``# pragma: allowlist secret``), then
every plugin's ``analyze_line`` with the plugin's configured entropy limits (no eager
search), then the secret-level false-positive filters (sequential strings, UUIDs, ``*_id``
names, templates, ``$VAR``, values without a letter). It does not use the ad-hoc
``scan_line`` of detect-secrets, which runs the plugins without limits or filters.

Plugins and filters come from ``default_settings()`` (every plugin detect-secrets ships,
with the default filters), read once, lazily, on the first line scanned; detect-secrets'
global settings are left as they were. Two differences, both for prompts rather than
repositories:

* ``IPPublicDetector`` is left out: an address is not a credential, and redacting it only
  damages code.
* ``is_indirect_reference`` (``x = get(...)`` lines) guards only the unquoted
  ``name: value`` pass below. detect-secrets applies it to whole lines, which would let
  ``connect(password="hunter2hunter2")`` or ``boto3.client(aws_secret_access_key="...")``
  through; every other plugin here only reports quoted literals or prefixed tokens, so the
  call around them does not make them any less literal.

``KeywordDetector`` runs twice: as for a file of unknown type (quoted values only), and as
for a config file (``DB_PASSWORD: hunter2hunter2``), keeping an unquoted value only when
it does not read as code (``password = password``, ``password: str``). A value that is an
environment variable's name (``api_key_env = "OPENAI_API_KEY"``) is not a secret either.

For speed, a plugin is skipped on a line holding none of the substrings all its patterns
need (:data:`_PLUGIN_HINTS`, checked by a test against the installed detect-secrets), and
lines over :data:`_WINDOW` characters are scanned in overlapping windows.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

log = logging.getLogger(__name__)

REDACTED = "[REDACTED]"

#: no extension: the keyword plugin only reports quoted values
_FILENAME = "quill-prompt"
#: a config file: the keyword plugin also reports ``name: value`` / ``name = value``
_CONFIG_FILENAME = "quill-prompt.yaml"
_EXCLUDED_PLUGINS = frozenset({"IPPublicDetector"})
_INDIRECT = "detect_secrets.filters.heuristic.is_indirect_reference"
_ALLOWLIST = "detect_secrets.filters.allowlist.is_line_allowlisted"
#: lines longer than this are scanned in windows this long, overlapping by _OVERLAP
_WINDOW = 1000
_OVERLAP = 250
#: what a filter may ask for here; file-level filters (lock files, swagger, non-text, the
#: file must exist) have no file to look at and are skipped
_INJECTABLE = frozenset({"filename", "line", "context", "secret", "plugin"})

#: every detect-secrets finding needs a run of 8 non-space characters (entropy strings,
#: prefixed tokens, ``scheme://u:p@h``) or a keyword for the keyword plugin
_CANDIDATE = re.compile(r"\S{8}|pass|pwd|secret|key|contrase", re.I)
#: plugin: (substrings, on the lower-cased line?) of which each of its patterns needs one
#: (detect-secrets 1.5.0), so that a line holding none skips it. Checking these halves the
#: first scan: the keyword plugin's patterns are the slowest, the entropy ones next.
_PLUGIN_HINTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "KeywordDetector": (("key", "pass", "pwd", "secret", "contrase"), True),
    "Base64HighEntropyString": (("'", '"'), False),  # quoted strings only
    "HexHighEntropyString": (("'", '"'), False),
    "ArtifactoryDetector": (("AKC", "AP"), False),
    "CloudantDetector": (("cl",), True),
    "IbmCosHmacDetector": (("secret",), True),
    "NpmDetector": (("_authToken",), False),
    "PypiTokenDetector": (("pypi-",), False),
    "TelegramBotTokenDetector": ((":",), False),
}

_NUMBER = re.compile(r"[-+]?\d[\d_.,]*[A-Za-z%]{0,3}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z_.]*")
_TRAILING = re.compile(r"[\s)\]}>,;:]*")
_OPERATOR = re.compile(
    r"\s*(?:[-+*/%|&^<>!=~@?()\[\]{}.,;:]|(?:if|else|or|and|not|in|is|for|as)\b)"
)
_ENV_LINE = re.compile(r"(?:export\s+)?[\w.-]+=[^\s=]\S*(?<![,;)\]}])\s*$")
_COMMENT = re.compile(r"\s+(?:#|//|;)")
_TYPE_NAMES = frozenset(
    """str bytes int float bool dict list tuple set frozenset object any none null nil
    true false optional union string number boolean undefined void char self cls this
    required secretstr secretbytes text varchar uuid""".split()
)
_WORD = re.compile(r"\w")
#: ``api_key_env = "OPENAI_API_KEY"``: the name of a variable, not its value
ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_KEY_AFTER = re.compile(r"['\"\]]*\s*(?::(?!//)|=(?!=)|=>)")


def could_hold_secret(line: str) -> bool:
    """Cheap pre-check: False for lines no detect-secrets plugin can report anything in."""
    return _CANDIDATE.search(line) is not None


def ready() -> bool:
    """Initialise detect-secrets if not yet done; True when it is usable."""
    return _engine() is not None


def scan_line(line: str) -> list[str] | None:
    """The secret values detect-secrets finds in ``line``, or None where it is unavailable.

    Raises whatever detect-secrets raises; the caller falls back to regexes.
    """
    engine = _engine()
    return None if engine is None else engine.scan(line)


def code_like(value: str, line: str) -> bool:
    """True where the unquoted ``value`` assigned in ``line`` reads as code, not a secret:
    a number, a bare name (``password = password``, ``password: str``) or an expression
    (``str = None``, ``a or b``). ``NAME=value`` lines (.env, .properties) and a lone
    lower-case word after ``name:`` (YAML) are secrets whatever they look like."""
    core = value.strip()
    if not core or _NUMBER.fullmatch(core):
        return True
    match = _NAME.match(core)
    if match is None:  # starts with a digit or a symbol: a literal
        return False
    name, rest = match.group(), core[match.end() :]
    if rest and not rest[0].isspace() and _OPERATOR.match(rest) is None:
        return False  # the word goes on with digits or symbols: ``hunter2hunter2``
    if _TRAILING.fullmatch(rest):  # a bare name
        if _ENV_LINE.match(line) and "." not in name:
            return False
        return not _yaml_word(name, rest, line, value)
    return _OPERATOR.match(rest) is not None


def replace_values(line: str, values: list[str]) -> tuple[str, int]:
    """``line`` with each occurrence of each value replaced by ``[REDACTED]``, and how many.

    Where a value also appears as a name (``password = "password"``) or inside a longer
    word, those occurrences are kept, unless no other occurrence exists."""
    count = 0
    for value in sorted(set(values), key=len, reverse=True):
        starts = _occurrences(line, value)
        if not starts:
            continue
        end = len(value)
        chosen = [
            start
            for start in starts
            if not _inside_word(line, start, value) and not _KEY_AFTER.match(line, start + end)
        ] or starts
        for start in reversed(chosen):
            line = line[:start] + REDACTED + line[start + end :]
        count += len(chosen)
    return line, count


def _yaml_word(name: str, rest: str, line: str, value: str) -> bool:
    """``password: changeme`` (YAML) rather than ``password: str`` or ``{password: pw}``."""
    if rest.strip() or "." in name or name[0].isupper() or name.lower() in _TYPE_NAMES:
        return False
    if any(c in line for c in "{}()[],;"):
        return False
    before = line[: line.find(value)].rstrip().rstrip("'\"")
    return before.endswith(":")


def _occurrences(line: str, value: str) -> list[int]:
    starts, start = [], line.find(value)
    while start >= 0:
        starts.append(start)
        start = line.find(value, start + len(value))
    return starts


def _inside_word(line: str, start: int, value: str) -> bool:
    end = start + len(value)
    left = start > 0 and _WORD.match(line[start - 1]) and _WORD.match(value[0])
    right = end < len(line) and _WORD.match(line[end]) and _WORD.match(value[-1])
    return bool(left or right)


class _Engine:
    """detect-secrets' plugins and filters, initialised once."""

    def __init__(self) -> None:
        from detect_secrets.plugins.keyword import KeywordDetector
        from detect_secrets.settings import default_settings, get_filters, get_plugins
        from detect_secrets.util.code_snippet import get_code_snippet

        with default_settings():
            plugins = [p for p in get_plugins() if type(p).__name__ not in _EXCLUDED_PLUGINS]
            filters = list(get_filters())
        if not plugins:
            raise RuntimeError("detect-secrets loaded no plugins")
        self._snippet = get_code_snippet
        self._plugins: list[Any] = plugins
        self._keyword: Any = next((p for p in plugins if isinstance(p, KeywordDetector)), None)
        self._gated = [(p, *_PLUGIN_HINTS.get(type(p).__name__, ((), False))) for p in plugins]
        self._allowlist: list[tuple[Any, frozenset[str]]] = []
        self._line_filters: list[tuple[Any, frozenset[str]]] = []
        self._secret_filters: list[tuple[Any, frozenset[str]]] = []
        self._indirect: list[tuple[Any, frozenset[str]]] = []
        for function in filters:
            needs = frozenset(getattr(function, "injectable_variables", ()))
            if getattr(function, "path", "") == _INDIRECT:
                self._indirect.append((function, needs))
            elif not needs <= _INJECTABLE or needs <= {"filename"}:
                continue
            elif "secret" in needs:
                self._secret_filters.append((function, needs))
            elif getattr(function, "path", "") == _ALLOWLIST:
                self._allowlist.append((function, needs))
            else:
                self._line_filters.append((function, needs))
        log.debug(
            "detect-secrets ready: %d plugins, %d filters",
            len(self._plugins),
            len(self._line_filters) + len(self._secret_filters) + len(self._indirect),
        )

    def scan(self, line: str) -> list[str]:
        text = line.rstrip()
        if len(text) <= _WINDOW:
            return self._scan(text)
        # Some detect-secrets patterns are quadratic in the line's length (NpmDetector's
        # ``//.+/:_authToken``: a second on a 40 kB line); minified code is scanned in
        # overlapping windows instead, which finds every secret shorter than the overlap.
        found: list[str] = []
        for start in range(0, len(text) - _OVERLAP, _WINDOW - _OVERLAP):
            for value in self._scan(text[start : start + _WINDOW]):
                if value not in found:
                    found.append(value)
        return found

    def _scan(self, text: str) -> list[str]:
        context = self._snippet(lines=[text], line_number=1)
        found: list[str] = []
        line_filters = self._line_filters
        if "pragma" in text:  # ``# pragma: allowlist secret`` (checked cheaply first: slow)
            line_filters = self._allowlist + line_filters
        if _filtered(line_filters, filename=_FILENAME, line=text, context=context):
            return found
        lower = text.lower()
        keyword = None
        for plugin, hints, lowered in self._gated:
            if hints and not any(hint in (lower if lowered else text) for hint in hints):
                continue  # it cannot match: every one of its patterns needs a hint
            if plugin is self._keyword:
                keyword = plugin
            for secret in plugin.analyze_line(
                filename=_FILENAME, line=text, line_number=1, context=context
            ):
                value = secret.secret_value
                if value and getattr(plugin, "denylist", None):
                    value = _whole_match(plugin.denylist, text, value)
                self._keep(value, plugin, text, context, found)
        if (
            keyword is not None
            and ("=" in text or ":" in text)
            and not _filtered(self._indirect, line=text)
        ):
            for secret in keyword.analyze_line(
                filename=_CONFIG_FILENAME, line=text, line_number=1, context=context
            ):
                value = _COMMENT.split(secret.secret_value or "", maxsplit=1)[0].strip()
                if value and value not in found and not code_like(value, text):
                    self._keep(value, keyword, text, context, found)
        return found

    def _keep(
        self, value: str | None, plugin: Any, line: str, context: Any, out: list[str]
    ) -> None:
        if not value or REDACTED in value or value in out or ENV_NAME.fullmatch(value):
            return
        if _filtered(
            self._secret_filters,
            filename=_FILENAME,
            secret=value,
            plugin=plugin,
            line=line,
            context=context,
        ):
            return
        out.append(value)


def _whole_match(denylist: Any, line: str, value: str) -> str:
    """The whole token where a detector reports only its leading group: the GitHub and
    GitLab patterns, ``(ghp|gho|...)_[A-Za-z0-9_]{36}``, report ``ghp``."""
    for regex in denylist:
        if not regex.groups:
            continue
        for match in regex.finditer(line):
            for group in range(1, regex.groups + 1):
                if (
                    match.group(group) == value
                    and match.start(group) == match.start()
                    and match.end() > match.end(group)
                ):
                    return str(match.group())
    return value


def _filtered(filters: list[tuple[Any, frozenset[str]]], **values: Any) -> bool:
    for function, needs in filters:
        try:
            if function(**{name: values[name] for name in needs}):
                return True
        except (TypeError, KeyError):  # as detect-secrets does: skip filters that don't fit
            continue
    return False


_lock = threading.Lock()
_ready: _Engine | None = None
_failed = False


def _engine() -> _Engine | None:
    global _ready, _failed
    if _ready is not None or _failed:
        return _ready
    with _lock:
        if _ready is None and not _failed:
            try:
                _ready = _Engine()
            except Exception:
                _failed = True
                log.debug("detect-secrets unavailable; redacting with regexes", exc_info=True)
        return _ready


def reset() -> None:
    """Forget the initialised plugins (tests)."""
    global _ready, _failed
    with _lock:
        _ready, _failed = None, False
