"""Types guessed from names, where nothing else says what a receiver is.

Much code leaves the values it calls methods on unannotated: a parameter (``def run(self,
state_machine)``), an attribute set from one (``self.document = document``), a local from a
call whose return type is not written. What such a value is called usually says which class
it holds: ``self.document`` a ``document``, ``state_machine`` a ``StateMachine``,
``console`` a ``Console``, ``ctx`` a ``Context``. :func:`guess_by_name` reads the receivers
written in the enclosing function (and, for the receiver's attributes, anywhere in its
class), nearest to the cursor first, and binds those the inference left untyped to the class
their name spells, when the file can see exactly such a class (its own, imported, or defined
in few enough files of the workspace). Guesses have the origin ``"guess"`` and rank below
everything inferred.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection

from quill.context.type_resolution import Env, TypeRef

__all__ = ["guess_by_name", "names_for"]

MAX_GUESSES = 12  # receivers guessed per cursor, at most
MIN_NAME = 3  # shorter names say nothing (``x``, ``s``, ``db``)

#: receivers as written before a member access: ``a.b.c(`` gives ``a`` and ``a.b``
_CHAIN = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.[A-Za-z_$]")
#: common abbreviations of class names
ABBREVIATIONS = {
    "ctx": ("Context",),
    "env": ("Environment",),
    "cfg": ("Config", "Configuration"),
    "conf": ("Config", "Configuration"),
    "config": ("Config", "Configuration"),
    "req": ("Request",),
    "resp": ("Response",),
    "conn": ("Connection",),
    "mgr": ("Manager",),
    "doc": ("Document",),
    "msg": ("Message",),
    "sess": ("Session",),
}


def names_for(variable: str) -> tuple[str, ...]:
    """Class names a variable's name may stand for: ``state_machine`` → ``state_machine``,
    ``StateMachine``; ``self._console`` → ``console``, ``Console``; ``ctx`` → ``Context``."""
    last = variable.rsplit(".", 1)[-1].strip("_$")
    if len(last) < MIN_NAME or not last.isidentifier():
        return ()
    if "_" in last:
        camel = "".join(part[:1].upper() + part[1:] for part in last.split("_") if part)
    else:
        camel = last[:1].upper() + last[1:]
    out = [last, camel, *ABBREVIATIONS.get(last.lower(), ())]
    return tuple(dict.fromkeys(out))


def _receivers(text: str) -> list[str]:
    """Receivers written in ``text``, in order of appearance (with repeats)."""
    out: list[str] = []
    for match in _CHAIN.finditer(text):
        parts = match.group(1).split(".")
        out.extend(".".join(parts[: i + 1]) for i in range(len(parts)))
    return out


def guess_by_name(
    env: Env,
    origins: dict[str, str],
    *,
    before: str,
    after: str,
    class_text: str,
    self_name: str | None,
    skip: Collection[str],
    resolve: Callable[[str], list[TypeRef]],
) -> None:
    """Bind, in ``env``, receivers nothing typed to the class their name spells (see the
    module docstring). ``before`` and ``after`` are the enclosing function's text before and
    after the cursor; ``class_text`` the enclosing class's; ``skip`` the heads that are no
    values (imported names and modules, classes and functions of the file)."""
    order: list[str] = []
    # Nearest first: the lines above the cursor from the cursor up, then those below it.
    for line in reversed(before.split("\n")):
        order.extend(reversed(_receivers(line)))
    for line in after.split("\n"):
        order.extend(_receivers(line))
    if self_name and class_text:
        prefix = self_name + "."
        counts = Counter(r for r in _receivers(class_text) if r.startswith(prefix))
        order.extend(name for name, _n in counts.most_common())
    # A plain name must be there at the cursor: written above it (a parameter, an earlier
    # use), not first bound below it.
    written_before = set(re.findall(r"[A-Za-z_$][\w$]*", before))
    guessed = 0
    tried: set[str] = set()
    for var in order:
        if guessed >= MAX_GUESSES:
            break
        if var in tried or var in env or var == self_name:
            continue
        tried.add(var)
        head = var.split(".", 1)[0]
        if head in skip or (head != self_name and "." in var and head not in env):
            continue  # `mod.x`, a class's attribute, or a chain on an unknown value
        if head != self_name and head not in written_before:
            continue
        for name in names_for(var):
            types = resolve(name)
            if types:
                env[var] = types
                origins[var] = "guess"
                guessed += 1
                break
