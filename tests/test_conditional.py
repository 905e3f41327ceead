"""Every source polls conditionally: an unchanged resource is one 304 and no body."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.http import make_client
from watchers.ecfr import EcfrOptions
from watchers.ecfr import poll as ecfr_poll
from watchers.federal_register_rss import FederalRegisterRssOptions
from watchers.federal_register_rss import poll as rss_poll
from watchers.news import NewsOptions
from watchers.news import poll as news_poll
from watchers.public_inspection import PublicInspectionOptions
from watchers.public_inspection import poll as pi_poll

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def serve_with_etags(server: HTTPServer, files: dict[str, bytes]) -> list[int]:
    """Serve each path with an ETag of its bytes; answer 304 to a matching If-None-Match."""
    answered: list[int] = []

    def handler(request: Request) -> Response:
        body = files[request.path]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            answered.append(304)
            return Response(status=304, headers={"ETag": etag})
        answered.append(200)
        return Response(body, headers={"ETag": etag})

    for path in files:
        server.expect_request(path).respond_with_handler(handler)
    return answered


def rss(server: HTTPServer):
    files = {"/api/v1/documents.rss": (FIXTURES / "fr_rss" / "documents.rss").read_bytes()}
    options = FederalRegisterRssOptions(name="rss", base_url=server.url_for("/api/v1/"))
    return files, options, rss_poll


def inspection(server: HTTPServer):
    body = (FIXTURES / "public_inspection" / "current.json").read_bytes()
    files = {"/api/v1/public-inspection-documents/current.json": body}
    options = PublicInspectionOptions(name="pi", base_url=server.url_for("/api/v1/"))
    return files, options, pi_poll


def news(server: HTTPServer):
    files = {"/feeds/wire.rss": (FIXTURES / "news" / "tradewire.rss").read_bytes()}
    feeds = [{"url": server.url_for("/feeds/wire.rss")}]
    return files, NewsOptions(name="news", feeds=feeds, since="2023-01-01"), news_poll


def ecfr(server: HTTPServer):
    ecfr_dir = FIXTURES / "ecfr"
    files = {
        "/api/versioner/v1/versions/title-15.json": (
            ecfr_dir / "versions-title-15-part-744.json"
        ).read_bytes(),
        "/api/versioner/v1/full/2025-01-16/title-15.xml": (
            ecfr_dir / "part-744-2025-01-16.xml"
        ).read_bytes(),
    }
    options = EcfrOptions(name="ecfr", base_url=server.url_for("/api/versioner/v1/"), parts=[744])
    return files, options, ecfr_poll


@pytest.mark.parametrize("source", [rss, inspection, news, ecfr])
def test_second_poll_is_one_304(httpserver: HTTPServer, source):
    files, options, poll = source(httpserver)
    answered = serve_with_etags(httpserver, files)
    options = options.model_copy(update={"retries": 0})
    since = date(2023, 1, 1)
    with make_client(options.base_url or "http://x/", 10) as client:
        first = poll(options, {}, client, since)
        assert first.documents and first.cursor.get("validators")
        first_requests = len(answered)
        second = poll(options, dict(first.cursor), client, since)
    assert answered[first_requests:] == [304]  # one request, nothing else fetched
    assert second.documents == []
    assert second.cursor == first.cursor
