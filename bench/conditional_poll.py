"""CPU time of an unchanged poll (one conditional GET answered 304) against a full one.

Serves the real recorded documents.json page (1,000 results, its next-page
link removed) from a loopback HTTP server in a child process, with an ETag,
then times the CPU of this process for `poll` of the Federal Register watcher:
without validators (200, the body parsed into Documents) and with them (304,
no body). Prints the medians and the ratio.

    .venv/bin/python bench/conditional_poll.py [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import statistics
import threading
import time
from datetime import date
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.http import make_client
from watchers.federal_register import FederalRegisterOptions, poll

PAGE = Path(__file__).resolve().parent.parent / "examples" / "demo" / "recorded" / "documents.json"
ETAG = '"bench-v1"'


def serve(port: multiprocessing.Queue) -> None:
    """The server, in its own process so its CPU is not counted."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    page = json.loads(PAGE.read_bytes())
    page["next_page_url"] = None
    body = json.dumps(page).encode()
    server = HTTPServer(host="127.0.0.1", port=0)

    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == ETAG:
            return Response(status=304, headers={"ETag": ETAG})
        return Response(body, content_type="application/json", headers={"ETag": ETAG})

    server.expect_request("/api/v1/documents.json").respond_with_handler(handler)
    server.start()
    port.put(server.port)
    threading.Event().wait()


def cpu_seconds(options: FederalRegisterOptions, cursor: dict, since: date) -> float:
    with make_client(options.base_url, options.timeout) as client:
        start = time.process_time()
        poll(options, cursor, client, since)
        return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    child.start()
    try:
        base = f"http://127.0.0.1:{queue.get(timeout=30)}/api/v1/"
        options = FederalRegisterOptions(name="bench", base_url=base, retries=0, backoff=0)
        since = date(2024, 1, 1)
        with make_client(options.base_url, options.timeout) as client:
            cursor = poll(options, {}, client, since).cursor  # learns the ETag
        assert cursor.get("validators"), "the server's ETag was not kept"
        full = [cpu_seconds(options, {}, since) for _ in range(args.runs)]
        unchanged = [cpu_seconds(options, cursor, since) for _ in range(args.runs)]
    finally:
        child.terminate()
    full_ms = statistics.median(full) * 1000
    unchanged_ms = statistics.median(unchanged) * 1000
    print(f"full poll (200, 1000 results)  median CPU {full_ms:8.2f} ms over {args.runs} runs")
    print(f"unchanged poll (304, no body)  median CPU {unchanged_ms:8.2f} ms over {args.runs} runs")
    print(
        f"ratio unchanged/full: {unchanged_ms / full_ms:.3f} ({full_ms / unchanged_ms:.0f}x less)"
    )


if __name__ == "__main__":
    main()
