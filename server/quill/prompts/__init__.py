"""Prompt and fill-in-the-middle templates, kept as data files next to this module."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def read_prompt(relative_path: str) -> str:
    """Return the text of a template file under ``quill/prompts`` (e.g. ``"chat/ask.md"``)."""
    node = resources.files(__name__)
    for part in relative_path.split("/"):
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")
