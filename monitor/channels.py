"""Alert channels: apprise URLs, plus the built-in `outbox://` file channel.

apprise owns delivery to Slack, email and the rest; this module validates a
channel's URL at start-up, picks the body format a channel reads best, sends one
notification per (alert, channel) so each delivery's outcome is known, and keeps
secrets out of every error it returns.

`outbox://PATH` is registered as an apprise schema exactly like any custom
plugin: each notification is appended as one JSON line to PATH (the offline
demo and the tests read it), whole or not at all: a write the disk cannot take is
undone, so a reader never meets half a line.

Every delivery is bounded in time (the channel's `timeout`): apprise stops waiting
then, and the outcome is *unknown* (`Delivery.unknown`): the service may have the
message. The plugin's own socket timeouts are set a little longer, so a service that
answers slowly is always that unknown outcome, never a failure retried blindly.

Two limits of the services are respected here. A Slack-format message is kept
within SLACK_TEXT_LIMIT characters by `fit_slack` (our own summary line says
what was left out), and apprise is told `overflow=truncate` for it, never
`split`: a split message is several posts, and a retry after a failed later
part would post the earlier parts again. A service answering HTTP 429 gets its
`Retry-After` honoured: `Delivery.retry_after` tells the outbox not to try
again sooner.

An email is sent by apprise's own email plugin (SMTP, TLS, headers, one
message per recipient) as multipart/alternative with our HTML and our own
plain-text rendering. The plugin takes one body: given HTML it builds the text
part itself, by converting that HTML through apprise's converter registry
(`apprise.conversion.format.CONVERTERS[(HTML, TEXT)]`, apprise 2.x). While
`send` runs, a converter registered here answers, for exactly the HTML body
being sent, with our text template's output; any other conversion goes to
apprise's converter unchanged.
"""

from __future__ import annotations

import contextvars
import errno
import fcntl
import functools
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import apprise
from apprise.conversion import format as conversion
from apprise.decorators import notify
from apprise.result import AppriseResultStatus
from requests.adapters import HTTPAdapter

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
    try:
        append_line(path, line)
    except OSError as exc:  # apprise keeps what its logger says as the delivery's error
        logging.getLogger("apprise").warning("cannot append to %s: %s", path, exc)
        return False
    return True


def append_line(path: Path, line: str) -> None:
    """Append one line to `path` whole, or nothing: on a full disk (a short write, or
    ENOSPC at once) the file is cut back to where it was and the OSError raised. A line
    a crash left without its newline is ended first, so it cannot swallow this one.
    Processes appending to the same file take turns (flock)."""
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        with _outbox_lock:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = os.fstat(fd).st_size
            if start and os.pread(fd, 1, start - 1) != b"\n":
                data = b"\n" + data
            try:
                written = os.write(fd, data)
                if written != len(data):
                    why = f"{os.strerror(errno.ENOSPC)}: {written} of {len(data)} bytes written"
                    raise OSError(errno.ENOSPC, why)
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, start)
                raise
    finally:
        os.close(fd)


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
    if parts.scheme == OUTBOX:  # a local file's path holds no credential
        return []
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


# Slack asks clients to keep a message's text within 4,000 characters (it truncates
# at 40,000; apprise's own Slack limit is 35,000). Mattermost's apprise limit is
# the same 4,000, title included.
SLACK_TEXT_LIMIT = 4000
RATE_LIMIT_DEFAULT = 60.0  # seconds to wait after a 429 that gave no Retry-After
RATE_LIMIT_MAX = 86400.0  # a Retry-After beyond a day is read as a day
_RATE_LIMITED = re.compile(r"error=429\b|\bHTTP 429\b|\bToo Many Requests\b", re.IGNORECASE)


@dataclass
class Delivery:
    ok: bool
    error: str | None = None
    retry_after: float | None = None  # seconds: the service rate-limited us (HTTP 429)
    unknown: bool = False  # no answer within the time bound: the service may have it


DEFAULT_TIMEOUT = 30.0  # seconds a delivery may take (a channel's `timeout`)
ANSWER_GRACE = 5.0  # the plugin waits this much longer, so the bound decides first


def fit_slack(title: str, body: str, limit: int = SLACK_TEXT_LIMIT) -> str:
    """The body, shortened so title and body fit in `limit` characters.

    The head is kept up to a line break, then one summary line saying how much
    was left out, then the body's last line (the templates end with the link to
    the full document). A body that fits is returned unchanged.
    """
    budget = limit - len(title) - 2  # apprise may join title and body with CRLF
    if len(body) <= budget:
        return body
    text = body.rstrip("\n")
    head, _, tail = text.rpartition("\n")
    if not head or len(tail) > budget // 4:
        head, tail = text, ""
    total = len(text)
    # the summary's own length depends on the numbers in it: reserve room generously
    room = max(budget - len(tail) - len(_summary(total, total)) - 3, 0)  # 3 line breaks
    cut = head[:room]
    newline = cut.rfind("\n")
    if newline >= room * 3 // 4:
        cut = cut[:newline]
    else:  # no line break near the end: do not leave half a <link|text> or &amp;
        if cut.rfind("<") > cut.rfind(">"):
            cut = cut[: cut.rfind("<")]
        if cut.rfind("&") > max(cut.rfind(";"), len(cut) - 6):
            cut = cut[: cut.rfind("&")]
    cut = cut.rstrip()
    left_out = total - len(cut) - len(tail)
    lines = [cut, _summary(left_out, total)] + ([tail] if tail else [])
    return "\n".join(lines) + "\n"


def _summary(left_out: int, total: int) -> str:
    return f"_… shortened to fit Slack: {left_out:,} of {total:,} characters left out_"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now; None if unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), RATE_LIMIT_MAX)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), RATE_LIMIT_MAX)


# apprise logs a 429 ("error=429") but not the response's Retry-After header. While
# `send` runs, every HTTP response requests builds is seen here and a 429's
# Retry-After noted in the list of the current context (apprise runs a service in
# a worker thread with a copy of the caller's context, so the list is shared).
# Outside `send` the context holds None and nothing is recorded or changed.
_rate_limits: contextvars.ContextVar[list[float | None] | None] = contextvars.ContextVar(
    "regmonitor_rate_limits", default=None
)


def _observe_rate_limits() -> None:
    original = HTTPAdapter.build_response
    if getattr(original, "_regmonitor_observer", False):
        return

    @functools.wraps(original)
    def build_response(self, req, resp):
        response = original(self, req, resp)
        seen = _rate_limits.get()
        if seen is not None and response.status_code == 429:
            seen.append(retry_after_seconds(response.headers.get("Retry-After")))
        return response

    build_response._regmonitor_observer = True  # type: ignore[attr-defined]
    HTTPAdapter.build_response = build_response


_observe_rate_limits()


# The plain-text part of the email `send` is sending: {html body: text}; None outside.
_text_parts: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "regmonitor_text_parts", default=None
)


def _use_our_text_parts() -> None:
    pair = (apprise.NotifyFormat.HTML, apprise.NotifyFormat.TEXT)
    original = conversion.CONVERTERS[pair]
    if getattr(original, "_regmonitor_text_part", False):
        return

    @functools.wraps(original)
    def html_to_text(content: str) -> str:
        ours = _text_parts.get() or {}
        text = ours.get(content.strip())  # apprise strips the body it is handed
        return text if text is not None else original(content)

    html_to_text._regmonitor_text_part = True  # type: ignore[attr-defined]
    conversion.CONVERTERS[pair] = html_to_text


_use_our_text_parts()


def apprise_service(url: str, fmt: str):
    """The apprise service for a URL; a Slack-format one truncates rather than splits."""
    service = apprise.Apprise.instantiate(url)
    if service is None or fmt != "slack":
        return service
    query = urlsplit(url.replace("#", "%23")).query
    if "overflow" not in dict(parse_qsl(query)):  # an explicit ?overflow= in the URL wins
        service.overflow_mode = apprise.OverflowMode.TRUNCATE
    return service


def send(
    url: str,
    title: str,
    body: str,
    fmt: str,
    timeout: float = DEFAULT_TIMEOUT,
    text: str | None = None,
) -> Delivery:
    """One apprise notify call within `timeout` seconds; an error comes back scrubbed of
    the URL's secrets. No answer in time is `unknown`: the service may have it.

    A Slack-format body is fitted to SLACK_TEXT_LIMIT first. An email's `text`
    is its plain-text part (else apprise derives one from the HTML). When the
    service answered HTTP 429, `retry_after` is its Retry-After
    (RATE_LIMIT_DEFAULT if it gave none).
    """
    service = apprise_service(url, fmt)
    sender = apprise.Apprise()
    if service is None or not sender.add(service):
        return Delivery(False, "apprise rejected the channel URL")
    # the plugin's own waits (connect, then the answer; SMTP uses the first for both)
    # outlast the bound, so a slow service is an unknown outcome, not a failure
    service.socket_connect_timeout = service.socket_read_timeout = timeout + ANSWER_GRACE
    if fmt == "slack":
        body = fit_slack(title, body)
    seen: list[float | None] = []
    token = _rate_limits.set(seen)
    parts = _text_parts.set({body.strip(): text} if fmt == "email" and text is not None else None)
    try:
        result = sender.notify(
            body=body,
            title=title,
            body_format=BODY_FORMAT[fmt],
            timeout=timeout,
        )
    finally:
        _text_parts.reset(parts)
        _rate_limits.reset(token)
    if result:
        return Delivery(True)
    if result.status == AppriseResultStatus.TIMEOUT:
        return Delivery(
            False,
            f"outcome unknown: no answer within {timeout:g} s; the channel may have the message",
            unknown=True,
        )
    messages = [e.message for e in result.logs() if e.level in ("ERROR", "WARNING")]
    error = "; ".join(dict.fromkeys(" ".join(m.split()) for m in messages))
    error = error or f"apprise reported {result.status.name}"
    error = scrub(error, secrets_of(url))[:900]
    if not seen and not any(_RATE_LIMITED.search(m) for m in messages):
        return Delivery(False, error)
    given = [s for s in seen if s is not None]
    retry_after = max(given) if given else RATE_LIMIT_DEFAULT
    note = f"rate limited (HTTP 429): next try in {retry_after:.0f} s at the earliest"
    return Delivery(False, f"{error}; {note}", retry_after)
