"""The pipeline in-process (`monitor.pipeline.check`) against the Celery runtime.

N documents (default 5,000) made from the real recorded documents.json (each
result copied with its texts, given a distinct document_number `BENCH-00000`...)
are served as documents.json pages of 1,000 from a loopback HTTP server in a
child process. A portfolio of two watch terms and threshold 15 makes about 2%
of them relevant; the channel is a JSON-lines outbox.

1. in-process: `monitor.pipeline.check` on a fresh store, timed;
2. Celery: a private redis-server, one worker with 2 prefork processes on another
   fresh store; `poll_source` is sent, and the run ends when every alert is sent.

Prints throughput (documents/s) of both, p50/p95 latency from the poll's start
to each alert's `sent_at` (read from the store), the ratio Celery/in-process,
and whether the goals (p95 <= 2 s; ratio >= 0.5) are met.

    .venv/bin/python bench/pipeline.py [--docs 5000]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import redis
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from monitor import pipeline, store
from monitor.config import load_config

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "examples" / "demo" / "recorded" / "documents.json"
PER_PAGE = 1000
GOAL_P95 = 2.0
GOAL_RATIO = 0.5


def documents(n: int) -> list[dict]:
    recorded = json.loads(PAGE.read_bytes())["results"]
    out = []
    for i in range(n):
        result = dict(recorded[i % len(recorded)])
        result["document_number"] = f"BENCH-{i:05d}"
        out.append(result)
    return out


def serve(n: int, port: multiprocessing.Queue) -> None:
    """documents.json pages of PER_PAGE, in its own process so its CPU is not counted."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    results = documents(n)
    pages = max(1, -(-n // PER_PAGE))
    server = HTTPServer(host="127.0.0.1", port=0)

    def handler(request: Request) -> Response:
        number = int(request.args.get("page", "1"))
        chunk = results[(number - 1) * PER_PAGE : number * PER_PAGE]
        following = f"{server.url_for('/api/v1/documents.json')}?page={number + 1}"
        body = {"count": n, "total_pages": pages, "results": chunk,
                "next_page_url": following if number < pages else None}  # fmt: skip
        return Response(json.dumps(body), content_type="application/json")

    server.expect_request("/api/v1/documents.json").respond_with_handler(handler)
    server.start()
    port.put(server.port)
    threading.Event().wait()


def write_config(folder: Path, api: str, broker: str) -> Path:
    folder.mkdir(parents=True)
    path = folder / "monitor.yaml"
    path.write_text(
        f"""
data_dir: {folder / "state"}
sources:
  - name: fr
    kind: federal_register
    base_url: {api}
    since: 2016-01-01
    per_page: {PER_PAGE}
    max_pages: 1000
    retries: 0
portfolio:
  watch_terms: [Rule, Air]
scoring:
  threshold: 15
channels:
  - name: outbox
    url: outbox://{folder / "alerts.jsonl"}
    min_severity: info
celery:
  broker_url: {broker}
  result_backend: {broker}
""",
        encoding="utf-8",
    )
    return path


def sent_latencies(db: store.Store, start: datetime) -> list[float]:
    with db.session() as s:
        times = s.scalars(select(store.AlertRow.sent_at).where(store.AlertRow.status == "sent"))
        return sorted((t.replace(tzinfo=t.tzinfo or UTC) - start).total_seconds() for t in times)


def count_sent(db: store.Store) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count()).select_from(store.AlertRow).where(store.AlertRow.status == "sent")
        )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def in_process(path: Path, n: int) -> dict:
    config = load_config(path)
    start = datetime.now(UTC)
    began = time.perf_counter()
    report = pipeline.check(config)
    elapsed = time.perf_counter() - began
    assert not report.errors, report.errors
    latencies = sent_latencies(store.open_store(config.database_url), start)
    return {"seconds": elapsed, "docs": n, "alerts": len(latencies), "latencies": latencies}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def celery(path: Path, n: int, broker: str, folder: Path, timeout: float) -> dict:
    from monitor.tasks import make_app

    config = load_config(path)
    db = store.open_store(config.database_url)  # migrated before the workers start
    client = make_app(config)
    log = folder / "worker.log"
    env = {**os.environ, "MONITOR_CONFIG": str(path), "MONITOR_BROKER_URL": broker}
    command = [sys.executable, "-m", "celery", "-A", "monitor.tasks", "worker", "-P", "prefork",
               "-c", "2", "--without-mingle", "--without-gossip", "-l", "WARNING",
               "-n", f"bench-{os.getpid()}@localhost"]  # fmt: skip
    with open(log, "ab") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        ping = client.control.ping
        wait_for(lambda: worker.poll() is not None or ping(timeout=0.5), "the worker", 60)
        if worker.poll() is not None:
            raise SystemExit(f"the worker stopped:\n{log.read_text()[-3000:]}")
        start = datetime.now(UTC)
        began = time.perf_counter()
        result = client.send_task("monitor.tasks.poll_source", args=["fr"]).get(timeout=timeout)
        assert not result["errors"] and result["found"] == n, result
        expected = len(result["alerts"])
        what = f"{expected} alerts sent (log: {log})"
        backstop = time.monotonic() + 5

        def done() -> bool:  # beat's deliver_due every minute, here every 5 s
            nonlocal backstop
            if time.monotonic() > backstop:
                client.send_task("monitor.tasks.deliver_due")
                backstop = time.monotonic() + 5
            return count_sent(db) >= expected

        wait_for(done, what, timeout)
        elapsed = time.perf_counter() - began
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    latencies = sent_latencies(db, start)
    locked = log.read_text(errors="replace").count("database is locked")
    print(f"celery: {locked} 'database is locked' errors in the worker log (SQLite, 2 writers)")
    return {"seconds": elapsed, "docs": n, "alerts": len(latencies), "latencies": latencies}


def describe(name: str, run: dict) -> str:
    lat = run["latencies"]
    return (
        f"{name:<11} {run['docs']} docs in {run['seconds']:6.2f} s = "
        f"{run['docs'] / run['seconds']:7.1f} docs/s; {run['alerts']} alerts sent; latency "
        f"p50 {percentile(lat, 50):5.2f} s, p95 {percentile(lat, 95):5.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="regmonitor-bench-"))
    queue: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=serve, args=(args.docs, queue), daemon=True)
    child.start()
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    os.environ["MONITOR_BROKER_URL"] = broker  # before monitor.tasks is imported
    try:
        api = f"http://127.0.0.1:{queue.get(timeout=30)}/api/v1/"
        ping = redis.Redis.from_url(broker).ping

        def up() -> bool:
            try:
                return ping()
            except redis.ConnectionError:
                return False

        wait_for(up, "redis-server", 20)
        local = in_process(write_config(folder / "inprocess", api, broker), args.docs)
        path = write_config(folder / "celery", api, broker)
        distributed = celery(path, args.docs, broker, folder, args.timeout)
    finally:
        child.terminate()
        server.terminate()
        server.wait(timeout=10)
    print(describe("in-process", local))
    print(describe("celery -c 2", distributed))
    ratio = (distributed["docs"] / distributed["seconds"]) / (local["docs"] / local["seconds"])
    p95 = percentile(distributed["latencies"], 95)
    print(f"throughput ratio celery/in-process: {ratio:.2f}")
    print(f"goal p95 <= {GOAL_P95} s (celery): {'met' if p95 <= GOAL_P95 else 'NOT met'}")
    print(f"goal ratio >= {GOAL_RATIO}: {'met' if ratio >= GOAL_RATIO else 'NOT met'}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
