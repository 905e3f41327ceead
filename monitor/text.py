"""Plain text: out of the HTML fragments feeds carry (descriptions, summaries), on one
line for a note or an error, and read back from a position."""

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


def one_line(text: object, limit: int | None = None) -> str:
    """`text` (an exception, a message) on one line, its whitespace runs one space, cut
    at `limit` characters: what a note, a stored error or an error line can hold."""
    line = " ".join(str(text).split())
    return line if limit is None else line[:limit]


def html_to_text(value: str | None) -> str | None:
    """Plain text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    if not value:
        return None
    parser = _Text()
    parser.feed(value)
    parser.close()
    text = " ".join("".join(parser.parts).split())
    return text or None


# Reading back from a position: a pattern anchored at the end of a prefix
# (`re.search(r"\b(?:and|or)\s*$", text[:i])`) is tried from every position of that
# prefix, so asking it once per match of a long text costs the square of its length.


def skip_back(text: str, end: int, chars: str, space: bool = False) -> int:
    """Where the run of `chars` (and whitespace, with `space`) that ends at `end` starts."""
    while end and (text[end - 1] in chars or (space and text[end - 1].isspace())):
        end -= 1
    return end


def word_before(text: str, end: int, words: tuple[str, ...], ignore_case: bool = False) -> str:
    """The one of `words` that ends at `end` as a whole word (nothing, or a character
    that is not a letter, digit or underscore, before it), as written; else ""."""
    for word in words:
        start = end - len(word)
        found = text[start:end] if start >= 0 else ""
        if (found.lower() if ignore_case else found) == word and not (
            start and (text[start - 1].isalnum() or text[start - 1] == "_")
        ):
            return found
    return ""
