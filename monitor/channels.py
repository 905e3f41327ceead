"""Alert channels: apprise URLs, plus the built-in `outbox://` file channel.

apprise owns delivery to Slack, email and the rest; this module validates a
channel's URL at start-up, picks the body format a channel reads best, sends one
notification per (alert, channel) so each delivery's outcome is known, and keeps
secrets out of every error it returns.

`outbox://PATH` is registered as an apprise schema exactly like any custom
plugin: each notification is appended as one JSON line to PATH (the offline
demo and the tests read it).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import apprise
from apprise.decorators import notify

from monitor.redact import scrub

OUTBOX = "outbox"
_outbox_lock = threading.Lock()

EMAIL_SCHEMAS = {"mailto", "mailtos"}
MARKDOWN_SCHEMAS = {"slack", "mmost", "mmosts", "msteams", "discord", "rocket", "rockets", "zulip"}
BODY_FORMAT = {
    "email": apprise.NotifyFormat.HTML,
    "slack": apprise.NotifyFormat.MARKDOWN,
    "text": apprise.NotifyFormat.TEXT,
}


def outbox_path(url: str) -> Path:
    """apprise hands `outbox:///abs/path` over as host + path without the root slash."""
    parts = urlsplit(url)
    return Path("/" + unquote(parts.netloc + parts.path).lstrip("/"))


@notify(on=OUTBOX, name="regmonitor JSON-lines outbox")
def _outbox(body: str, title: str, notify_type: str, meta: dict, *args, **kwargs) -> bool:
    path = outbox_path(meta["url"])
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "type": str(notify_type),
            "title": title,
            "body": body,
        },
        ensure_ascii=False,
    )
    with _outbox_lock, path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return True


def validate_url(url: str, base: Path) -> str:
    """Return the URL apprise will use (outbox paths made absolute), or raise ValueError."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == OUTBOX:
        rest = unquote(url.split("://", 1)[1])
        if not rest:
            raise ValueError("outbox:// needs a file path, e.g. outbox://alerts.jsonl")
        path = Path(rest).expanduser()
        url = f"{OUTBOX}://{quote(str(path if path.is_absolute() else base / path))}"
    if apprise.Apprise.instantiate(url) is None:
        shown = f"scheme {scheme!r}" if scheme else "no scheme://"
        raise ValueError(f"not a valid apprise URL ({shown}); see the apprise wiki for URL forms")
    return url


def private_url(url: str) -> str:
    """The URL as apprise shows it with secrets masked; safe for logs and the database."""
    plugin = apprise.Apprise.instantiate(url)
    return plugin.url(privacy=True) if plugin is not None else "<invalid url>"


def secrets_of(url: str) -> list[str]:
    """Every part of an apprise URL that could be a credential or token."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    host = parts.netloc.rsplit("@", 1)[-1]
    # token-in-host services (slack://TOKEN_A/...) put a secret where a host would be
    found = [parts.password or "", host if parts.scheme in MARKDOWN_SCHEMAS else ""]
    found += [unquote(seg) for seg in parts.path.split("/") if len(seg) >= 6]
    found += [unquote(v) for _, v in parse_qsl(parts.query) if len(v) >= 6]
    return [s for s in found if s]


def channel_format(url: str, configured: str) -> str:
    if configured != "auto":
        return configured
    scheme = url.split("://", 1)[0].lower()
    if scheme in EMAIL_SCHEMAS:
        return "email"
    if scheme in MARKDOWN_SCHEMAS:
        return "slack"
    return "text"


@dataclass
class Delivery:
    ok: bool
    error: str | None = None


def send(url: str, title: str, body: str, fmt: str, timeout: float = 60.0) -> Delivery:
    """One apprise notify call; an error comes back scrubbed of the URL's secrets."""
    sender = apprise.Apprise()
    if not sender.add(url):
        return Delivery(False, "apprise rejected the channel URL")
    result = sender.notify(
        body=body,
        title=title,
        body_format=BODY_FORMAT[fmt],
        timeout=timeout,
    )
    if result:
        return Delivery(True)
    messages = [e.message for e in result.logs() if e.level in ("ERROR", "WARNING")]
    error = "; ".join(dict.fromkeys(" ".join(m.split()) for m in messages))
    error = error or f"apprise reported {result.status.name}"
    return Delivery(False, scrub(error, secrets_of(url))[:1000])
