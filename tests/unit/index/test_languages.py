"""The language registry's lexical facts (comments, strings) and the file-watcher glob."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from quill.completion.lexical import LexState, state_at_end, syntax_for
from quill.index import languages
from quill.index.languages import (
    CommentSyntax,
    comment_syntax,
    language_for_language_id,
    language_for_path,
    language_specs,
    lexical_syntax,
    watched_files_glob,
)

C_COMMENTS = CommentSyntax(line="//", block=("/*", "*/"))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("python", CommentSyntax(line="#", block=None)),
        ("javascript", C_COMMENTS),
        ("typescript", C_COMMENTS),
        ("tsx", C_COMMENTS),
        ("go", C_COMMENTS),
        ("rust", C_COMMENTS),
        ("java", C_COMMENTS),
        ("c", C_COMMENTS),
        ("cpp", C_COMMENTS),
        ("typescriptreact", C_COMMENTS),
        ("kotlin", C_COMMENTS),
        ("lua", CommentSyntax(line="--", block=("--[[", "]]"))),
        ("html", CommentSyntax(line=None, block=("<!--", "-->"))),
        ("shellscript", CommentSyntax(line="#", block=None)),
        # Unknown: what callers expected before the table had comments.
        (None, CommentSyntax(line="#", block=None)),
        ("", CommentSyntax(line="#", block=None)),
        ("no-such-language", CommentSyntax(line="#", block=None)),
    ],
)
def test_comment_syntax(language: str | None, expected: CommentSyntax) -> None:
    assert comment_syntax(language) == expected


def test_every_indexed_language_has_comment_syntax() -> None:
    for name, spec in language_specs().items():
        comments = comment_syntax(name)
        assert comments.line is not None, name
        assert comments.line == spec.lexical.line_comments[0]
        assert comments.block == spec.lexical.block_comment


def test_families_are_inherited_and_overridden() -> None:
    specs = language_specs()
    c, js, go, rust = (specs[n].lexical for n in ("c", "javascript", "go", "rust"))
    assert js.line_comments == c.line_comments == go.line_comments == ("//",)
    assert js.block_comment == c.block_comment == ("/*", "*/")
    assert (c.quotes, c.multiline_quotes, c.raw_quotes) == ("\"'", "", "")
    assert (js.quotes, js.multiline_quotes, js.raw_quotes) == ("\"'`", "`", "")
    assert (go.quotes, go.multiline_quotes, go.raw_quotes) == ("\"'`", "`", "`")
    assert rust.nested_block_comments and rust.char_literals and rust.quotes == '"'
    assert not c.nested_block_comments and not c.char_literals
    python = specs["python"].lexical
    assert python.triple_quotes and python.block_comment is None


def test_lexical_table_is_not_a_language(caplog: pytest.LogCaptureFixture) -> None:
    languages._reset_caches_for_tests()
    try:
        with caplog.at_level(logging.ERROR):
            names = set(language_specs())
            lexical_syntax("kotlin")
        assert "lexical" not in names
        assert names == set("c cpp go java javascript python rust tsx typescript".split())
        assert not caplog.records
    finally:
        languages._reset_caches_for_tests()


def test_watched_files_glob_covers_every_extension() -> None:
    glob = watched_files_glob()
    match = re.fullmatch(r"\*\*/\*\.\{([^{}]*)\}", glob)
    assert match, glob
    alternatives = match.group(1).split(",")
    assert len(alternatives) == len(set(alternatives))
    for alternative in alternatives:
        assert alternative and not set(alternative) & set("*?[]{}!/"), alternative
    wanted = {ext.lstrip(".") for spec in language_specs().values() for ext in spec.extensions}
    assert set(alternatives) == wanted
    assert {"py", "pyw", "c++", "h++", "ipp", "tpp", "tsx", "h"} <= wanted
    for ext in (".pyw", ".c++", ".h++", ".ipp", ".tpp"):
        assert language_for_path(f"src/a{ext}") is not None, ext


# A registry of our own: the scanner follows the table, whatever the table says.


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``languages.toml`` in a temporary grammars folder, swapped in for the real one."""
    grammars = tmp_path / "grammars"
    grammars.mkdir()
    languages._reset_caches_for_tests()
    monkeypatch.setattr(languages, "grammars_dir", lambda: grammars)
    try:
        yield grammars / "languages.toml"
    finally:
        monkeypatch.undo()
        languages._reset_caches_for_tests()


ENTRY = '[{name}]\nextensions = [".{name}"]\nmodule = "no_such_module"\ntags = "x.scm"\n'


def test_scanner_follows_the_table(registry: Path) -> None:
    registry.write_text(
        ENTRY.format(name="semi")
        + 'lexical = "fam"\nquotes = ["|"]\n'
        + '[lexical.fam]\nline_comment = ";"\nblock_comment = ["{-", "-}"]\n'
        + 'nested_block_comments = true\nlanguage_ids = ["lexonly"]\n'
        + '[lexical.generic]\nline_comment = "%"\n'
    )
    semi = syntax_for("semi")
    assert state_at_end("x ; y", semi) is LexState.COMMENT
    assert state_at_end("x # y", semi) is LexState.CODE
    assert state_at_end("x = |a", semi) is LexState.STRING
    assert state_at_end("x = 'a", semi) is LexState.CODE
    assert state_at_end("{- a {- b -} still", semi) is LexState.COMMENT
    assert comment_syntax("semi") == CommentSyntax(line=";", block=("{-", "-}"))
    # A family's own language ids; the family's keys, not the language's override.
    assert comment_syntax("lexonly") == CommentSyntax(line=";", block=("{-", "-}"))
    assert syntax_for("lexonly").quotes == ""
    # The generic table answers for unknown languages; comment_syntax keeps its own default.
    assert syntax_for("other").line_comments == ("%",)
    assert comment_syntax("other") == CommentSyntax(line="#", block=None)
    # Lexical facts need no grammar: this one cannot load, and still has its syntax.
    assert language_for_language_id("semi") is not None  # before any grammar load is tried
    assert languages.get_tags_query("semi") is None
    assert language_for_language_id("semi") is None
    assert comment_syntax("semi").line == ";"


def test_malformed_lexical_keys_are_logged_and_the_language_is_kept(
    registry: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry.write_text(
        ENTRY.format(name="bad")
        + 'quotes = ["ab"]\nline_comment = "//"\n'
        + ENTRY.format(name="loop")
        + 'lexical = "a"\nline_comment = "#"\n'
        + '[lexical.a]\nlexical = "b"\n[lexical.b]\nlexical = "a"\n'
        + ENTRY.format(name="lost")
        + 'lexical = "missing"\nline_comment = "--"\n'
        + '[lexical.ids]\nline_comment = "!"\nlanguage_ids = 3\n'
    )
    with caplog.at_level(logging.ERROR):
        specs = language_specs()
        other = syntax_for("other")
        ids = syntax_for("ids")
    assert set(specs) == {"bad", "loop", "lost"}
    assert specs["bad"].lexical == languages.LexicalSyntax()
    assert specs["loop"].lexical.line_comments == ("#",)
    assert specs["lost"].lexical.line_comments == ("--",)
    # No generic table: unknown languages get no comments at all, and nothing crashes.
    assert other == ids == languages.LexicalSyntax()
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "malformed lexical keys for 'bad'" in messages
    assert "circular lexical family 'a'" in messages
    assert "unknown or circular lexical family 'missing'" in messages
    assert "[lexical.ids]: language_ids must be a list of strings" in messages


def test_unreadable_registry_degrades_to_no_syntax(registry: Path) -> None:
    registry.write_text("not [ toml")
    assert syntax_for("python") == languages.LexicalSyntax()
    assert comment_syntax("python") == CommentSyntax(line="#", block=None)
