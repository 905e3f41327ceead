"""The one HTTP seam every watcher goes through.

httpx does the I/O; this module adds what a monitor needs on top: retries with
exponential backoff that honour `Retry-After`, one-line errors that name the URL
without its secrets, and a `file://` transport so a folder of recorded responses
can stand in for a live site (the offline demo; tests use a real loopback server
instead). And the limits a hostile server must not get past:

- a cap on body size, counted as the body streams in and again after every layer
  of its `Content-Encoding` is decoded, each layer decoded in bounded pieces (a few
  hundred bytes of stacked gzip would otherwise inflate to gigabytes in memory);
- a deadline per request: the source's `timeout` bounds the whole request (connect,
  headers, body), not each read, so a server dripping a byte a second cannot hold a
  poll (the network streams httpcore reads from are wrapped to read no later);
- redirects stay on the host asked (and `redirect_hosts`), never from https to http.
"""

from __future__ import annotations

import contextvars
import json
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin

import httpcore
import httpx
import tenacity

from monitor import __version__
from monitor.redact import redact_url

USER_AGENT = f"regmonitor/{__version__} (+export-control change monitor)"
RETRY_STATUS = {429, 500, 502, 503, 504}
ACCEPT = (
    "application/json, application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)
MAX_RETRY_AFTER = 300.0


class FetchError(Exception):
    """A source could not be read; the message is one line naming the URL."""


class FileTransport(httpx.BaseTransport):
    """Serve `file://` URLs from a folder of recorded responses.

    The query string is ignored except `page=N` (N > 1), which reads
    `<stem>.page<N><suffix>` beside the first page, mirroring how the Federal
    Register API paginates.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = Path(unquote(request.url.path))
        page = parse_qs(request.url.query.decode()).get("page", ["1"])[-1]
        if page.isdigit() and int(page) > 1:
            path = path.with_name(f"{path.stem}.page{page}{path.suffix}")
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            return httpx.Response(404, request=request, text=f"no recorded file {path}")
        except IsADirectoryError:
            return httpx.Response(404, request=request, text=f"{path} is a folder")
        return httpx.Response(200, request=request, stream=httpx.ByteStream(body))


def api_url(base_url: str, path: str) -> str:
    """`path` under an API root, whether or not the configured root ends in a slash."""
    return urljoin(base_url if base_url.endswith("/") else base_url + "/", path)


def make_client(base_url: str, timeout: float, redirect_hosts: Iterable[str] = ()) -> httpx.Client:
    """A client whose requests each end within `timeout` seconds (see `fetch`), and whose
    redirects stay on the host asked or go to one of `redirect_hosts`."""
    transport = FileTransport() if base_url.startswith("file:") else None
    client = httpx.Client(
        transport=transport,
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ENCODINGS},
        event_hooks={"response": [_kept_on(frozenset(h.lower() for h in redirect_hosts))]},
    )
    for mounted in (client._transport, *client._mounts.values()):  # proxies too
        pool = getattr(mounted, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = _DeadlineBackend(pool._network_backend)
    return client


# --- redirects --------------------------------------------------------------------------


def _kept_on(allowed: frozenset[str]) -> Callable[[httpx.Response], None]:
    """A response hook refusing a redirect to another host (unless allowed) or to http."""

    def check(response: httpx.Response) -> None:
        if not response.has_redirect_location:
            return
        asked = response.request.url
        target = asked.join(response.headers["Location"])
        shown = redact_url(str(asked))
        if target.host != asked.host and target.host not in allowed:
            raise FetchError(
                f"{shown}: redirected to another host, {target.host}: not followed"
                " (name it in the source's redirect_hosts to allow it)"
            )
        if asked.scheme == "https" and target.scheme != "https":
            raise FetchError(f"{shown}: redirected from https to {target.scheme}: not followed")

    return check


# --- the deadline -----------------------------------------------------------------------

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "regmonitor_http_deadline", default=None
)


def _left(timeout: float | None) -> float | None:
    """The timeout of one read, write or connect: at most what the request has left."""
    end = _deadline.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the current request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:  # fmt: skip
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, its connections wrapped in `_DeadlineStream`."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:  # fmt: skip
        stream = self._backend.connect_tcp(
            host, port, _left(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:  # fmt: skip
        return _DeadlineStream(
            self._backend.connect_unix_socket(path, _left(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (a number or an HTTP date), capped."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


@dataclass
class Fetched:
    """A body (empty when the server said 304 Not Modified), and the new validators."""

    body: bytes
    validators: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False


class _Transient(Exception):
    """A failure worth another attempt: 429/5xx, a timeout, a dropped connection."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


def _wait(backoff: float) -> Callable[[tenacity.RetryCallState], float]:
    """Exponential backoff with bounded jitter, unless the server said Retry-After."""
    exponential = tenacity.wait_exponential_jitter(
        multiplier=backoff, max=MAX_RETRY_AFTER, jitter=backoff / 2
    )

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return error.retry_after
        return exponential(state) if backoff > 0 else 0.0

    return wait


def fetch(
    client: httpx.Client,
    url: str,
    *,
    params: Any = None,
    validators: dict[str, str] | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    max_bytes: int = 50_000_000,
) -> Fetched:
    """GET `url`, retrying transient failures; raise FetchError with a one-line reason.

    `validators` (an earlier answer's ETag / Last-Modified) make the request
    conditional: an unchanged resource costs one 304 and no body.
    """
    shown = redact_url(url)
    headers = {}
    if validators and validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators and validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]

    def attempt() -> Fetched:
        deadline = _deadline.set(time.monotonic() + (client.timeout.read or 30.0))
        try:
            with client.stream("GET", url, params=params, headers=headers) as response:
                status = response.status_code
                if status == 304 and headers:
                    return Fetched(b"", dict(validators or {}), not_modified=True)
                reason = f"HTTP {status} {response.reason_phrase}"
                if status in RETRY_STATUS:
                    raise _Transient(reason, _retry_after(response))
                if status >= 400 or status == 304:
                    raise FetchError(f"{shown}: {reason}")
                return Fetched(_read_capped(response, max_bytes, shown), _validators(response))
        except httpx.TimeoutException:
            raise _Transient(f"timed out (the {client.timeout.read:g} s deadline)") from None
        except httpx.TooManyRedirects:
            raise FetchError(f"{shown}: redirect loop (more than {client.max_redirects})") from None
        except httpx.UnsupportedProtocol as exc:
            raise FetchError(f"{shown}: {exc}") from None
        except httpx.TransportError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        finally:
            _deadline.reset(deadline)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(retries + 1),
        wait=_wait(backoff),
        retry=tenacity.retry_if_exception_type(_Transient),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Transient as exc:
        tries = f" after {retries + 1} attempts" if retries else ""
        raise FetchError(f"{shown}: {exc.reason}{tries}") from None


@dataclass
class Conditional:
    """Conditional GETs for one poll: ETag / Last-Modified per request URL.

    A watcher starts one from its cursor's `validators`, fetches through it,
    and stores `used` back: only the URLs of this poll are kept, so the map
    never grows. An unchanged resource then costs one 304 and no body.
    """

    known: dict[str, dict[str, str]]
    used: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, cursor: dict[str, Any]) -> Conditional:
        return cls(known=dict(cursor.get("validators") or {}))

    def fetch(
        self, client: httpx.Client, url: str, *, params: Any = None, **kwargs: Any
    ) -> Fetched:
        key = redact_url(str(httpx.URL(url, params=params)) if params else url)
        answer = fetch(client, url, params=params, validators=self.known.get(key), **kwargs)
        if answer.validators:
            self.used[key] = answer.validators
        return answer

    def save(self, cursor: dict[str, Any]) -> None:
        if self.used:
            cursor["validators"] = self.used
        else:
            cursor.pop("validators", None)


def _validators(response: httpx.Response) -> dict[str, str]:
    found = {
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
    }
    return {k: v for k, v in found.items() if v}


def get_bytes(client: httpx.Client, url: str, **kwargs: Any) -> bytes:
    """The body of an unconditional GET (see `fetch` for the options)."""
    body = fetch(client, url, **kwargs).body
    assert body is not None  # only a conditional request can be answered 304
    return body


def parse_json(body: bytes, url: str) -> Any:
    """JSON from a body, or a FetchError saying whether it was cut short or not JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        head = body[:40].decode("utf-8", "replace").replace("\n", " ")
        what = "truncated JSON" if body.lstrip()[:1] in (b"{", b"[") else "not JSON"
        detail = f"{exc.__class__.__name__}: {exc}; starts {head!r}"
        raise FetchError(f"{redact_url(url)}: {what} ({detail})") from None


ENCODINGS = "gzip, deflate"  # what we ask for; each is decoded here, in bounded pieces
PIECE = 65_536  # bytes one decoding step may produce


def _read_capped(response: httpx.Response, max_bytes: int, shown: str) -> bytes:
    """The body, decoded, never more than `max_bytes` at any layer of its encoding."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{shown}: body of {declared} bytes exceeds the {max_bytes}-byte limit")
    codings = [c.strip().lower() for c in response.headers.get("Content-Encoding", "").split(",")]
    pieces: Iterator[bytes] = _capped(response.iter_raw(), max_bytes, shown, "")
    for coding in reversed([c for c in codings if c and c != "identity"]):  # last applied first
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise FetchError(f"{shown}: unsupported Content-Encoding {coding!r}")
        pieces = _capped(_inflate(pieces, coding, shown), max_bytes, shown, f" after {coding}")
    try:
        return b"".join(pieces)
    except httpx.TimeoutException:
        raise  # the deadline passed while the body came: a timeout, tried again
    except httpx.HTTPError as exc:
        raise FetchError(f"{shown}: body cut short ({type(exc).__name__})") from None


def _capped(pieces: Iterable[bytes], max_bytes: int, shown: str, layer: str) -> Iterator[bytes]:
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > max_bytes:
            raise FetchError(f"{shown}: body exceeds the {max_bytes}-byte limit{layer}")
        yield piece


def _inflate(pieces: Iterable[bytes], coding: str, shown: str) -> Iterator[bytes]:
    """One layer of gzip (members one after another) or deflate (zlib, else raw),
    decoded at most PIECE bytes at a time: the input not yet read waits in the decoder."""
    wbits = 31 if coding != "deflate" else zlib.MAX_WBITS
    decoder, started = zlib.decompressobj(wbits), False
    try:
        for data in pieces:
            while True:
                try:
                    out = decoder.decompress(data, PIECE)
                except zlib.error:
                    if coding != "deflate" or started:
                        raise
                    wbits = -zlib.MAX_WBITS  # "deflate" sent without the zlib header
                    decoder = zlib.decompressobj(wbits)
                    continue
                started = True
                if out:
                    yield out
                data = decoder.unconsumed_tail
                if decoder.eof and decoder.unused_data:  # another gzip member follows
                    data, decoder = decoder.unused_data, zlib.decompressobj(wbits)
                if not data and len(out) < PIECE:  # a full piece: more may be pending
                    break
        if started and not decoder.eof:
            raise FetchError(f"{shown}: {coding} body cut short")
    except zlib.error as exc:
        raise FetchError(f"{shown}: body is not valid {coding} ({exc})") from None


def get_json(client: httpx.Client, url: str, **kwargs: Any) -> Any:
    return parse_json(get_bytes(client, url, **kwargs), url)
