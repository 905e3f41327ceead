"""Deadlines as an iCalendar file, so they land in the team's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from icalendar import Calendar, Event

from monitor import __version__

URL_SAFE = ":/?#[]@!$&'()*+,;=%~"  # a URL keeps these; a newline or a space is escaped


def _line(text: str) -> str:
    """One line of printable text: a record's number or title may hold a newline or an
    escape sequence, which a calendar file cannot carry in a UID or a summary."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


LABELS = {"comments": "Comments due", "effective": "Effective", "compliance": "Compliance date"}


@dataclass
class CalendarEntry:
    key: str  # the document's key, for a stable UID
    document_number: str
    kind: str
    due: date
    title: str
    url: str | None
    note: str | None = None


def to_ics(entries: list[CalendarEntry], now: datetime | None = None) -> bytes:
    """One all-day event per deadline; UIDs are stable so re-imports update, not duplicate."""
    calendar = Calendar()
    calendar.add("prodid", f"-//regmonitor {__version__}//export-control deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Export-control deadlines")
    stamp = now or datetime.now(UTC)
    for entry in entries:
        event = Event()
        event.add("uid", _line(f"{entry.key}-{entry.kind}-{entry.due.isoformat()}@regmonitor"))
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.due)
        event.add("dtend", entry.due + timedelta(days=1))
        event.add("summary", _line(f"{LABELS.get(entry.kind, entry.kind)}: {entry.title} "
                                   f"({entry.document_number})"))  # fmt: skip
        url = quote(entry.url, safe=URL_SAFE) if entry.url else None
        if url:
            event.add("url", url)
        lines = [_line(x) for text in (entry.note, url) if text for x in text.splitlines()]
        event.add("description", "\n".join(lines))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
