"""Hostile servers on loopback against the HTTP seam: stacked gzip, a socket dripping one
byte at a time, redirects to another host, a page of a million results. Each is a real
server; the limits hold while the bytes arrive, not after."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from werkzeug import Response

from monitor.config import load_config
from monitor.http import FetchError, get_bytes, make_client
from monitor.pipeline import check
from tests.conftest import ROOT, write_page
from watchers.federal_register import FederalRegisterOptions, poll

GiB = 1 << 30


def gzip_stream(size: int) -> bytes:
    """`size` zero bytes gzipped, compressed as a stream (never held whole): about 1 MB."""
    first = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join(first.compress(block) for _ in range(size // len(block))) + first.flush()


@pytest.fixture(scope="module")
def bombs() -> dict[int, bytes]:
    """1 GiB of zeros gzipped twice (1,8 KB) and three times (a few hundred bytes)."""
    two = gzip.compress(gzip_stream(GiB), 9)
    return {2: two, 3: gzip.compress(two, 9)}


FETCH = """
import sys
from monitor.http import FetchError, get_bytes, make_client
from tests.hostile import peak_mb
with make_client(sys.argv[1], 30) as client:
    try:
        get_bytes(client, sys.argv[1], retries=0, max_bytes=50_000_000)
        print("read")
    except FetchError as exc:
        print(exc)
print(peak_mb())
"""


@pytest.mark.parametrize("layers", [2, 3])
def test_stacked_gzip_is_capped_while_it_is_decoded(httpserver, bombs, layers):
    """1 GiB of zeros in a few hundred bytes: rejected by the 50 MB cap in the layer that
    crosses it, the process never holding much more than the cap (the old code held the
    whole layer: 2.2 GB for two layers, MemoryError for three)."""
    body = bombs[layers]
    assert len(body) < 2_000
    encoding = ", ".join(["gzip"] * layers)
    httpserver.expect_request("/bomb").respond_with_response(
        Response(body, headers={"Content-Encoding": encoding, "Content-Type": "application/json"})
    )
    child = subprocess.run(
        [sys.executable, "-c", FETCH, httpserver.url_for("/bomb")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    said, peak_mb = child.stdout.strip().splitlines()
    assert said.endswith("exceeds the 50000000-byte limit after gzip"), child.stderr
    assert float(peak_mb) < 250  # interpreter and libraries ~60 MB, the capped body 50 MB


def test_every_encoding_layer_is_decoded(httpserver):
    data = json.dumps({"count": 0, "results": []}).encode() * 1000
    for path, body, encoding in [
        ("/one", gzip.compress(data), "gzip"),
        ("/two", gzip.compress(gzip.compress(data)), "gzip, gzip"),
        ("/zlib", zlib.compress(data), "deflate"),
        ("/members", gzip.compress(data[:500]) + gzip.compress(data[500:]), "gzip"),
    ]:
        httpserver.expect_request(path).respond_with_response(
            Response(body, headers={"Content-Encoding": encoding})
        )
    with make_client(httpserver.url_for("/"), 10) as client:
        for path in ("/one", "/two", "/zlib", "/members"):
            assert get_bytes(client, httpserver.url_for(path), retries=0) == data
        httpserver.expect_request("/br").respond_with_response(
            Response(b"x", headers={"Content-Encoding": "br"})
        )
        with pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
            get_bytes(client, httpserver.url_for("/br"), retries=0)


@contextmanager
def dripping(headers_fast: bool) -> Iterator[str]:
    """A server that answers every connection one byte every 50 ms, for up to 60 s: its
    status line and headers (or, with `headers_fast`, its body)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            if headers_fast:
                connection.sendall(head + b"Content-Length: 100000\r\n\r\n")
            drip = (b"" if headers_fast else head + b"X-Padding: ") + b"x" * 10_000
            for byte in drip[:1200]:
                if stop.wait(0.05):  # the drip is the fault itself, not a synchronisation
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1/"
    finally:
        stop.set()
        listener.close()


@pytest.mark.parametrize("headers_fast", [False, True], ids=["headers-drip", "body-drips"])
def test_a_dripping_server_cannot_hold_a_request_past_its_timeout(headers_fast):
    """A read timeout of 1 s never fires when a byte comes every 50 ms (the old code waited
    the full minute); the deadline ends the request after 1 s, each attempt."""
    with dripping(headers_fast) as base:
        options = FederalRegisterOptions(name="fr", base_url=base, timeout=1, retries=1, backoff=0)
        start = time.monotonic()
        with make_client(base, options.timeout) as client, pytest.raises(FetchError) as info:
            poll(options, {}, client, date(2024, 1, 1))
        took = time.monotonic() - start
    assert "timed out (the 1 s deadline) after 2 attempts" in str(info.value)
    assert took < 15  # two attempts of 1 s, with room for a busy machine; not 2 x 60 s


def test_a_dripping_source_does_not_hold_the_next_one(tmp_path, write_config):
    good = write_page(tmp_path / "good", "2020-10856")
    with dripping(headers_fast=False) as base:
        config = load_config(
            write_config(
                f"""
                data_dir: state
                sources:
                  - {{name: slow, kind: federal_register, base_url: "{base}", timeout: 1,
                      retries: 0}}
                  - {{name: good, kind: federal_register, base_url: "file:{good}/",
                      since: 2020-01-01}}
                """
            )
        )
        start = time.monotonic()
        report = check(config)
        took = time.monotonic() - start
    assert "timed out" in report.errors["slow"]
    assert [f.document.document_number for f in report.found] == ["2020-10856"]
    assert took < 30


def test_redirects_stay_on_the_host_asked_unless_allowed(httpserver):
    """A feed that redirects to another host (here `127.0.0.1` for `localhost`, the same
    server) is refused and the other host never asked; `redirect_hosts` allows it; the same
    host is fine."""
    assert "//localhost:" in httpserver.url_for("/")
    other = httpserver.url_for("/elsewhere.json").replace("//localhost:", "//127.0.0.1:")
    httpserver.expect_request("/away").respond_with_response(
        Response(status=302, headers={"Location": other})
    )
    httpserver.expect_request("/here").respond_with_response(
        Response(status=301, headers={"Location": "/elsewhere.json"})
    )
    httpserver.expect_request("/elsewhere.json").respond_with_data("{}")
    with make_client(httpserver.url_for("/"), 10) as client:
        with pytest.raises(FetchError) as info:
            get_bytes(client, httpserver.url_for("/away"), retries=0)
        assert get_bytes(client, httpserver.url_for("/here"), retries=0) == b"{}"
    assert "redirected to another host, 127.0.0.1: not followed" in str(info.value)
    assert [r.path for r, _ in httpserver.log] == ["/away", "/here", "/elsewhere.json"]
    with make_client(httpserver.url_for("/"), 10, ["127.0.0.1"]) as client:
        assert get_bytes(client, httpserver.url_for("/away"), retries=0) == b"{}"


def test_a_redirect_from_https_to_http_is_refused():
    import httpx

    from monitor.http import _kept_on

    request = httpx.Request("GET", "https://www.federalregister.gov/api/v1/documents.json")
    response = httpx.Response(302, headers={"Location": "http://www.federalregister.gov/x"},
                              request=request)  # fmt: skip
    with pytest.raises(FetchError, match="redirected from https to http: not followed"):
        _kept_on(frozenset())(response)


def test_a_page_of_a_million_results_is_read_up_to_the_largest_page(httpserver):
    """28 MB of tiny results (under the body cap): 1,000 are read, with a note, not all."""
    results = [{"document_number": f"2099-{i:07d}"} for i in range(1_000_000)]
    body = json.dumps({"count": len(results), "results": results})
    assert len(body) < 50_000_000
    httpserver.expect_request("/api/v1/documents.json").respond_with_data(body)
    options = FederalRegisterOptions(name="fr", base_url=httpserver.url_for("/api/v1/"))
    start = time.process_time()
    with make_client(options.base_url, 30) as client:
        result = poll(options, {}, client, date(2024, 1, 1))
    assert len(result.documents) == result.fetched == 1000
    assert any("holds 1000000 results, more than the API's largest page of 1000" in n
               for n in result.notes)  # fmt: skip
    assert time.process_time() - start < 30  # seconds, not the hours of a million documents
