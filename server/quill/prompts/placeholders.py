"""``{{name}}`` placeholders in prompt data files, filled in one pass.

Only lower-case names are placeholders, so an upper-case marker such as ``{{FILL_HERE}}`` is
left alone, and the values are never scanned again: code that happens to contain
``{{prefix}}`` cannot inject anything into a prompt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["context_section", "fill_placeholders", "placeholder_names"]

_PLACEHOLDER = re.compile(r"\{\{([a-z][a-z0-9_]*)\}\}")


def placeholder_names(template: str) -> list[str]:
    """The placeholder names of ``template`` in order of appearance (repeats included)."""
    return [match.group(1) for match in _PLACEHOLDER.finditer(template)]


def fill_placeholders(template: str, values: Mapping[str, str]) -> str:
    """Replace every ``{{name}}`` of ``template`` with ``values[name]``.

    Raises ``KeyError`` for a placeholder without a value: a data file that asks for
    something the code does not provide is a bug to surface, not to paper over.
    """

    def replace(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return _PLACEHOLDER.sub(replace, template)


def context_section(template: str, context: str) -> str:
    """``template`` (a section such as "Code from other files: <context>{{context}}</context>")
    filled with ``context``; "" when there is no context, so the section disappears."""
    if not context.strip():
        return ""
    return fill_placeholders(template, {"context": context.rstrip("\n")})
