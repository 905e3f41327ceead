"""Plain text out of the HTML fragments feeds carry (descriptions, summaries)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _Text(HTMLParser):
    BLOCK = frozenset({"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "tr", "td"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.parts.append(" ")


def html_to_text(value: str | None) -> str | None:
    """Plain text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    if not value:
        return None
    parser = _Text()
    parser.feed(value)
    parser.close()
    text = " ".join("".join(parser.parts).split())
    return text or None
