"""The small Python project every editor test opens, and what the checks expect of it.

The project lives in a folder whose path holds a space (``.../My Projects/app``), is a git
repository (the root marker the README's configurations look for) and has one line with
non-ASCII text before the name under the cursor, so that a server which mixes up URI quoting
or position encodings gives a wrong answer.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

GEOMETRY = '''\
"""Shapes and their measures."""

import math


def area_of_circle(radius):
    """The area of a circle of the given radius."""
    return math.pi * radius * radius


class Rectangle:
    """An axis-aligned rectangle."""

    def __init__(self, width, height):
        self.width = width
        self.height = height

    def area(self):
        return self.width * self.height


def circumference(radius):
    return 2 * math.pi * radius


def circle_label(radius):
    if radius == None:
        return "no circle"
    return "a circle of area " + str(area_of_circle(radius))
'''

#: the function the code-action checks work on (no docstring yet), and the line the cursor is on
ACTION_FUNCTION = "circumference"
ACTION_LINE = "    return 2 * math.pi * radius"

#: a line the static rules flag with a mechanical quick fix, and the line the fix leaves
FIX_BEFORE = "    if radius == None:"
FIX_AFTER = "    if radius is None:"

#: the line with text before the name whose UTF-8, UTF-16 and code-point columns all differ
CALL_LINE = 'label = "éééé 📐"; result = area_of_circle(2)'

#: the indented empty line where completion is invoked
INDENT = " " * 4

MAIN = f"""\
from geometry import Rectangle, area_of_circle

{CALL_LINE}
box = Rectangle(3, 4)


def perimeter_of_square(side):
{INDENT}
"""

NAME = "area_of_circle"
SYMBOL_QUERY = "area"
COMPLETION_DETAIL = "Quill AI suggestion"


@dataclass(frozen=True)
class Spec:
    """Where the editor puts its cursor, and the right answers."""

    root: str
    main: str
    geometry: str
    name: str
    symbol_query: str
    #: 0-based line of the call in main.py
    call_line: int
    #: the cursor for go-to-definition: on the last character of the name, so that a column
    #: read in the wrong encoding (6 units too far here) falls off the name
    cursor_codepoint: int
    cursor_utf8: int
    cursor_utf16: int
    #: 0-based line and column of the definition in geometry.py
    def_line: int
    def_character: int
    #: the indented empty line in main.py where completion is invoked, and its end column
    completion_line: int
    completion_character: int
    completion_detail: str
    #: code actions: the function (in geometry.py), the 0-based line of the cursor inside it and
    #: two columns: on a name (`math`), and in the indentation; the line with the quick fix
    #: before and after it
    action_function: str
    action_line: int
    action_character: int
    action_indent_character: int
    fix_line: int
    fix_before: str
    fix_after: str

    def column(self, encoding: str) -> int:
        return {"utf-8": self.cursor_utf8, "utf-16": self.cursor_utf16}.get(
            encoding, self.cursor_codepoint
        )

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")
        return path


def make_workspace(base: Path) -> Spec:
    """Write the project under ``base / "My Projects" / "app"`` and return what to expect."""
    root = base / "My Projects" / "app"
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)
    (root / "geometry.py").write_text(GEOMETRY, encoding="utf-8")
    (root / "main.py").write_text(MAIN, encoding="utf-8")

    main_lines = MAIN.split("\n")
    call_line = main_lines.index(CALL_LINE)
    prefix = CALL_LINE[: CALL_LINE.index(NAME) + len(NAME) - 1]
    geometry_lines = GEOMETRY.split("\n")
    def_line = next(i for i, s in enumerate(geometry_lines) if s.startswith(f"def {NAME}("))
    completion_line = main_lines.index("def perimeter_of_square(side):") + 1
    assert main_lines[completion_line].strip() == "" and main_lines[completion_line]
    return Spec(
        root=str(root.resolve()),
        main=str((root / "main.py").resolve()),
        geometry=str((root / "geometry.py").resolve()),
        name=NAME,
        symbol_query=SYMBOL_QUERY,
        call_line=call_line,
        cursor_codepoint=len(prefix),
        cursor_utf8=len(prefix.encode("utf-8")),
        cursor_utf16=len(prefix.encode("utf-16-le")) // 2,
        def_line=def_line,
        def_character=geometry_lines[def_line].index(NAME),
        completion_line=completion_line,
        completion_character=len(main_lines[completion_line]),
        completion_detail=COMPLETION_DETAIL,
        action_function=ACTION_FUNCTION,
        action_line=geometry_lines.index(ACTION_LINE),
        action_character=ACTION_LINE.index("math"),
        action_indent_character=2,
        fix_line=geometry_lines.index(FIX_BEFORE),
        fix_before=FIX_BEFORE,
        fix_after=FIX_AFTER,
    )
