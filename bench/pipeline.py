"""The pipeline in-process (`monitor.pipeline.check`) against the Celery runtime.

N documents (default 5,000) made from the real recorded documents.json (each result
copied with its texts under a distinct document number) are served on loopback by
an HTTP server in a child process; the alerts go by email to an SMTP server
(aiosmtpd) in another child, which notes when it accepted each message. A
portfolio of two watch terms at threshold 15 makes about 2% of them relevant; every
alert goes at once, in its own email (no digest, no grouping).

1. backlog, in-process: `monitor.pipeline.check` on a fresh store, timed;
2. backlog, Celery: a private redis-server, one worker with `--processes` (2) prefork
   processes on another store; one `poll_source` finds all N documents (pages of
   1,000) and, above `celery.fan_out_above` (`--fan-out-above`; by default 200 on
   PostgreSQL, never on SQLite), queues one `process_document` task per document;
3. feed, Celery: the same worker and a real `monitor beat` polling a second source
   every second; each poll is answered with the next `--per-poll` documents (a day
   of the whole Federal Register is about 100 to 200), as a live source would.

Latency is from the moment the server answered the request that first carried a
document (the poll that saw it) to the moment the SMTP server accepted the email
about it. Prints throughput (documents/s) of 1 and 2 and their ratio, p50/p95
latency of all three, and the goals: p95 <= 2 s, Celery >= 0.5x in-process. In a
backlog the documents wait for the ones before them, so its p95 can be no lower
than 95% of N over the rate; the bench prints that bound too.

The store is SQLite, or with `--store postgresql` a throw-away PostgreSQL server on
loopback (one new database per run, for both the in-process and the Celery runs).

    .venv/bin/python bench/pipeline.py [--docs 5000] [--per-poll 100] [--runs 3]
        [--store sqlite|postgresql] [--processes 2] [--fan-out-above N]
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import json
import logging
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path

import httpx
import redis
from aiosmtpd.controller import Controller
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
# children started fresh, not forked: a fork of a process with threads may inherit a held lock
CHILDREN = multiprocessing.get_context("spawn")
NUMBER = re.compile(r"\b(?:BENCH|FEED)-\d{5}\b")


def documents(n: int, prefix: str) -> list[dict]:
    """N copies of the recorded results, oldest publication date first (as a feed
    publishes them)."""
    recorded = json.loads(PAGE.read_bytes())["results"]
    out = []
    for i in range(n):
        result = dict(recorded[i % len(recorded)])
        result["document_number"] = f"{prefix}-{i:05d}"
        out.append(result)
    return sorted(out, key=lambda r: r["publication_date"])


def serve(n: int, prefix: str, per_poll: int | None, port: multiprocessing.Queue) -> None:
    """documents.json in its own process (its CPU is not the pipeline's).

    per_poll None: every document at once, in pages of PER_PAGE (a backlog); else each
    request is answered with the next per_poll documents (a feed). /state tells when
    each document was first served.
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    results = documents(n, prefix)
    seen: dict[str, float] = {}
    state = {"released": 0, "after_end": 0}
    pages = max(1, -(-n // PER_PAGE))
    server = HTTPServer(host="127.0.0.1", port=0)

    def page(request: Request) -> Response:
        following, total = None, 1
        if per_poll is None:
            number = int(request.args.get("page", "1"))
            chunk = results[(number - 1) * PER_PAGE : number * PER_PAGE]
            total = pages
            if number < pages:
                following = f"{server.url_for('/api/v1/documents.json')}?page={number + 1}"
        else:
            start = state["released"]
            chunk = results[start : start + per_poll]
            state["released"] += len(chunk)
            state["after_end"] += not chunk
        body = json.dumps(
            {
                "count": len(chunk),
                "total_pages": total,
                "results": chunk,
                "next_page_url": following,
            }
        )
        now = time.time()
        for result in chunk:
            seen.setdefault(result["document_number"], now)
        return Response(body, content_type="application/json")

    def report(_: Request) -> Response:
        return Response(json.dumps({**state, "seen": seen}), content_type="application/json")

    server.expect_request("/api/v1/documents.json").respond_with_handler(page)
    server.expect_request("/state").respond_with_handler(report)
    server.start()
    port.put(server.port)
    threading.Event().wait()


def text_of(content: bytes) -> str:
    message = email.message_from_bytes(content, policy=email.policy.default)
    parts = [str(message["subject"] or "")]
    parts += [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
    return "\n".join(parts)


def serve_smtp(log: Path, port: int, ready: multiprocessing.Queue) -> None:
    """An SMTP server noting, per accepted message, the time, recipients and document
    numbers, one JSON line each."""

    class Accepting:
        async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
            accepted = time.time()
            numbers = sorted(set(NUMBER.findall(text_of(envelope.content))))
            line = {"t": accepted, "to": envelope.rcpt_tos, "numbers": numbers}
            with log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
            return "250 OK"

    Controller(Accepting(), hostname="127.0.0.1", port=port).start()
    ready.put(port)
    threading.Event().wait()


def accepted(log: Path, to: str) -> dict[str, float]:
    """Document number -> when its first email to `to` was accepted."""
    first: dict[str, float] = {}
    if not log.exists():
        return first
    for line in log.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if to in record["to"]:
            for number in record["numbers"]:
                first.setdefault(number, record["t"])
    return first


def new_database(server: str | None, name: str) -> str:
    """The store's URL: SQLite under the run's folder (None), else a new database of
    that name on the PostgreSQL server."""
    if server is None:
        return ""
    import psycopg

    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"store_url: {server.rsplit('/', 1)[0]}/{name}"


@dataclass
class RunSetup:
    """The store (None: SQLite; else a PostgreSQL server's URL) and `celery.fan_out_above`."""

    server: str | None
    fan_out_above: int | None


def write_config(folder: Path, sources: str, smtp_port: int, to: str, setup: RunSetup) -> Path:
    folder.mkdir(parents=True)
    path = folder / "monitor.yaml"
    path.write_text(
        f"""
data_dir: {folder / "state"}
{new_database(setup.server, folder.name)}
sources:
{sources}
portfolio:
  watch_terms: [Rule, Air]
scoring:
  threshold: 15
channels:
  - name: mail
    url: mailto://127.0.0.1:{smtp_port}?to={to}&from=bench@example.com&mode=insecure
    min_severity: info
    immediate: info
alerting:
  group_above: 1000000
celery:
  result_backend: {os.environ["MONITOR_BROKER_URL"]}
  fan_out_above: {"null" if setup.fan_out_above is None else setup.fan_out_above}
""",
        encoding="utf-8",
    )
    return path


def source(name: str, api: str, every_minutes: float) -> str:
    return f"""  - name: {name}
    kind: federal_register
    base_url: {api}
    since: 2016-01-01
    per_page: {PER_PAGE}
    max_pages: 1000
    retries: 0
    full_text: []
    schedule: null
    every_minutes: {every_minutes}
    jitter_seconds: 0
"""


def start_server(n: int, prefix: str, per_poll: int | None) -> tuple[str, str, BaseProcess]:
    """The API root, the /state URL and the server's process."""
    queue = CHILDREN.Queue()
    child = CHILDREN.Process(target=serve, args=(n, prefix, per_poll, queue), daemon=True)
    child.start()
    root = f"http://127.0.0.1:{queue.get(timeout=30)}"
    return f"{root}/api/v1/", f"{root}/state", child


def server_state(url: str) -> dict:
    return httpx.get(url, timeout=30).json()


def latencies(state_url: str, log: Path, to: str, prefix: str) -> list[float]:
    seen = server_state(state_url)["seen"]
    emailed = accepted(log, to).items()
    return sorted(t - seen[number] for number, t in emailed if number.startswith(prefix))


def count_alerts(db: store.Store, prefix: str) -> int:
    """The outbox rows of the documents numbered `prefix-...`."""
    query = (
        select(func.count())
        .select_from(store.AlertRow)
        .join(store.EventRow, store.EventRow.id == store.AlertRow.event_id)
        .join(store.DocumentRow, store.DocumentRow.id == store.EventRow.document_id)
        .where(store.DocumentRow.document_number.like(f"{prefix}-%"))
    )
    with db.session() as s:
        return s.scalar(query)


def pending(db: store.Store) -> list[int]:
    """Documents stored whose `process_document` task has not run yet."""
    with db.session() as s:
        return store.pending_documents(s)


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, timeout: float, every: float = 0.05) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def figures(n: int, seconds: float, latency: list[float]) -> dict:
    return {"rate": n / seconds, "alerts": len(latency), "p50": percentile(latency, 50),
            "p95": percentile(latency, 95)}  # fmt: skip


def in_process(n: int, smtp_port: int, smtp_log: Path, folder: Path, setup: RunSetup) -> dict:
    api, state, child = start_server(n, "BENCH", None)
    to = f"{folder.name}@example.com"
    config = load_config(write_config(folder, source("fr", api, 60), smtp_port, to, setup))
    try:
        began = time.perf_counter()
        report = pipeline.check(config)
        elapsed = time.perf_counter() - began
        assert not report.errors and report.failed == 0 == report.pending, report
        return figures(n, elapsed, latencies(state, smtp_log, to, "BENCH"))
    finally:
        child.terminate()


def spawn(command: list[str], path: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "MONITOR_CONFIG": str(path)}
    with open(log, "ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def celery(
    n: int, per_poll: int, smtp_port: int, smtp_log: Path, folder: Path, timeout: float,
    processes: int, setup: RunSetup,
):  # fmt: skip
    """The backlog, then the feed, through one worker (2 processes); beat for the feed."""
    from monitor.tasks import make_app

    backlog_api, backlog_state, backlog_server = start_server(n, "BENCH", None)
    feed_api, feed_state, feed_server = start_server(n, "FEED", per_poll)
    to = f"{folder.name}@example.com"
    sources = source("backlog", backlog_api, 1440) + source("feed", feed_api, 1 / 60)
    path = write_config(folder, sources, smtp_port, to, setup)
    config = load_config(path)
    db = store.open_store(config.database_url)  # migrated before the workers start
    client = make_app(config)
    log = folder / "worker.log"
    worker = spawn([sys.executable, "-m", "celery", "-A", "monitor.tasks", "worker", "-P",
                    "prefork", "-c", str(processes), "--without-mingle", "--without-gossip",
                    "-l", "WARNING", "-n", f"bench-{os.getpid()}@localhost"],
                   path, log)  # fmt: skip
    beat = None
    try:
        ping = client.control.ping
        wait_for(lambda: worker.poll() is not None or ping(timeout=0.5), "the worker", 60)
        if worker.poll() is not None:
            raise SystemExit(f"the worker stopped:\n{log.read_text()[-3000:]}")
        began = time.perf_counter()
        result = client.send_task("monitor.tasks.poll_source", args=["backlog"]).get(
            timeout=timeout
        )
        assert not result["errors"] and result["fetched"] == n, result
        # each document is a process_document task: its alerts exist once it has run
        wait_for(lambda: not pending(db), "the backlog's documents processed", timeout)
        expected = count_alerts(db, "BENCH")
        wait_for(lambda: len(accepted(smtp_log, to)) >= expected, "the backlog's emails", timeout)
        backlog_latency = latencies(backlog_state, smtp_log, to, "BENCH")
        backlog = figures(n, time.perf_counter() - began, backlog_latency)

        began = time.perf_counter()
        beat = spawn([str(Path(sys.executable).parent / "monitor"), "beat", "--config",
                      str(path), "-l", "INFO"], path, folder / "beat.log")  # fmt: skip

        def fed() -> bool:  # all released, a poll after that (so the last one ended), all sent
            state = server_state(feed_state)
            if state["released"] < n or state["after_end"] < 1:
                return False
            if pending(db):
                return False
            feed_emails = sum(1 for k in accepted(smtp_log, to) if k.startswith("FEED-"))
            return feed_emails >= count_alerts(db, "FEED")

        wait_for(fed, "the feed's emails", timeout, every=0.5)
        feed = figures(n, time.perf_counter() - began, latencies(feed_state, smtp_log, to, "FEED"))
    finally:
        for process in (beat, worker):
            if process is not None:
                stop(process)
        backlog_server.terminate()
        feed_server.terminate()
    locked = log.read_text(errors="replace").count("database is locked")
    return backlog, feed, locked


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--per-poll", type=int, default=100, help="documents a feed poll finds")
    parser.add_argument("--runs", type=int, default=3, help="the figures are their medians")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--processes", type=int, default=2, help="worker processes (-c)")
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="postgresql: a throw-away server on loopback (Debian's package)",
    )
    parser.add_argument(
        "--fan-out-above",
        type=int,
        default=None,
        help="celery.fan_out_above (default: the store's default)",
    )
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="regmonitor-bench-"))
    port = free_port()
    os.environ["MONITOR_BROKER_URL"] = f"redis://127.0.0.1:{port}/0"  # before monitor.tasks
    broker = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    smtp_log, ready = folder / "smtp.jsonl", CHILDREN.Queue()
    smtp_args = (smtp_log, free_port(), ready)
    CHILDREN.Process(target=serve_smtp, args=smtp_args, daemon=True).start()
    stack = contextlib.ExitStack()
    server = None
    if args.store == "postgresql":
        sys.path.insert(0, str(ROOT))  # the tests' throw-away server
        from tests.pg import postgres_server

        server = stack.enter_context(postgres_server())
        if server is None:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    setup = RunSetup(server, args.fan_out_above)
    loads = [os.getloadavg()[0]]
    local, backlog, feed = [], [], []
    try:
        smtp_port = ready.get(timeout=30)
        client = redis.Redis.from_url(os.environ["MONITOR_BROKER_URL"])

        def up() -> bool:
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_for(up, "redis-server", 20)
        for run in range(1, args.runs + 1):
            local.append(in_process(args.docs, smtp_port, smtp_log, folder / f"inprocess{run}",
                                    setup))  # fmt: skip
            client.flushall()
            b, f, locked = celery(args.docs, args.per_poll, smtp_port, smtp_log,
                                  folder / f"celery{run}", args.timeout,
                                  args.processes, setup)  # fmt: skip
            b["ratio"] = b["rate"] / local[-1]["rate"]
            backlog.append(b)
            feed.append(f)
            loads.append(os.getloadavg()[0])
            print(f"run {run}: in-process {local[-1]['rate']:.1f} docs/s, celery {b['rate']:.1f}"
                  f" docs/s (ratio {b['ratio']:.2f}); p50/p95 in-process "
                  f"{local[-1]['p50']:.2f}/{local[-1]['p95']:.2f} s, celery {b['p50']:.2f}/"
                  f"{b['p95']:.2f} s, feed {f['p50']:.2f}/{f['p95']:.2f} s; {b['alerts']} "
                  f"alerts; {locked} 'database is locked' in the worker log; load {loads[-1]:.2f}",
                  flush=True)  # fmt: skip
    finally:
        broker.terminate()
        broker.wait(timeout=10)
        stack.close()
    fan_out = "default" if args.fan_out_above is None else args.fan_out_above
    print(f"medians of {args.runs} runs, {args.docs} documents, worker prefork "
          f"-c {args.processes}, {args.store}, celery.fan_out_above {fan_out}:")  # fmt: skip
    for name, runs in (("in-process", local), ("celery", backlog)):
        print(f"  backlog, {name:<10} {median_of(runs, 'rate'):7.1f} docs/s; latency p50 "
              f"{median_of(runs, 'p50'):6.2f} s, p95 {median_of(runs, 'p95'):6.2f} s")  # fmt: skip
    print(f"  feed, celery + beat    {args.docs // args.per_poll} polls of {args.per_poll}, one a "
          f"second; latency p50 {median_of(feed, 'p50'):6.2f} s, p95 {median_of(feed, 'p95'):6.2f}"
          " s")  # fmt: skip
    ratio = median_of(backlog, "ratio")
    rate = median_of(local, "rate")
    print(f"  throughput ratio celery/in-process: {ratio:.2f}")
    print(f"  in a backlog the 95th percentile document waits for about 0.95 x {args.docs} / "
          f"{rate:.0f} docs/s (in-process) = {0.95 * args.docs / rate:.1f} s")  # fmt: skip
    for name, runs in (("backlog, celery", backlog), ("feed", feed)):
        met = median_of(runs, "p95") <= GOAL_P95
        print(f"goal p95 <= {GOAL_P95} s ({name}): {'met' if met else 'NOT met'}")
    print(f"goal ratio >= {GOAL_RATIO}: {'met' if ratio >= GOAL_RATIO else 'NOT met'}")
    print(f"load average (1 min) at the start and after each run: "
          f"{', '.join(f'{x:.2f}' for x in loads)} (2 cores)")  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
