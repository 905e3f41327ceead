"""Fetched text shown at a terminal: never markup, never an escape sequence.

Titles, agencies, reasons, stored errors and notes come from sources we do not
control. Printed through rich as a string they would be read as markup (`[/]`
raises, `[link=...]` becomes a terminal link); printed at all, an escape character
or a C1 control would reach the terminal and could recolour, retitle or rewrite
what the analyst sees. `shown` makes every such character visible as `\\xNN`
(`\\u202e` for the bidirectional overrides that reorder what is read), and `cell`
wraps the result in a rich `Text`, which rich never parses for markup.
"""

from __future__ import annotations

import re
from typing import Any

_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_VISIBLE = {c: f"\\x{c:02x}" for c in _CONTROLS} | {c: f"\\u{c:04x}" for c in _BIDI}
_KEEP_LINES = {k: v for k, v in _VISIBLE.items() if k not in (0x09, 0x0A)}


_ANY = re.compile("[" + "".join(f"\\x{c:02x}" for c in _CONTROLS) + "\u202a-\u202e\u2066-\u2069]")
_ANY_BUT_LINES = re.compile(_ANY.pattern.replace("\\x09", "").replace("\\x0a", ""))


def shown(text: Any, lines: bool = True) -> str:
    """`text` with control characters visible; tabs and newlines kept if `lines`. A text
    with none is returned as it is (a search in C, not a translation per character)."""
    text = str(text)
    if not (_ANY_BUT_LINES if lines else _ANY).search(text):
        return text
    return text.translate(_KEEP_LINES if lines else _VISIBLE)


def cell(text: Any, style: str = "", lines: bool = False) -> Any:
    """A table cell (or a line) of data: rich Text, whose content is never markup; one
    line unless `lines` (reasons listed one per line)."""
    from rich.text import Text

    return Text(shown("" if text is None else text, lines), style=style)
