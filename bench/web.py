"""`monitor web` on a store of 100,000 events: the event list and a document page.

1. `monitor check` stores the demo's 1,064 real recorded Federal Register records in a
   fresh SQLite store: the baseline store (1,064 events, 17 relevant);
2. a copy of it grows to `--events` (100,000) events: every document and its event
   cloned under new document numbers, with their versions, subjects, outbox rows for
   the relevant ones, reviews of 3% of them (entries and current state), recorded over
   two years; the same real texts, scores, impacts and payloads, so the pages render
   what real events hold;
3. for each store a real `monitor web` server on loopback answers, through one
   keep-alive HTTP client with an API token, `--requests` (200) requests of the event
   list (cycling: relevant most severe first, all newest first, a random page of all,
   a random customer, a random chip, awaiting a decision, a random severity, a random
   page of one kind newest first) and of the document pages of random events, after 20
   warm-up requests; then each of those lists on its own. No ANALYZE: the planner has
   what a store has.

Prints p50/p95/max per page and store, the ratio of the large store's p95 to the
baseline's, measured in the same run, and the goal (p95 <= 100 ms).

    .venv/bin/python bench/web.py [--events 100000] [--requests 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

from monitor import routing, store
from monitor.config import load_config
from monitor.pipeline import check

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"
TOKEN = "bench-token-" + "x" * 24
GOAL_MS = 100.0
WARMUP = 20


def write_config(folder: Path, port: int) -> Path:
    path = folder / "monitor.yaml"
    path.write_text(
        f"""
data_dir: state
sources:
  - {{name: federal-register, kind: federal_register, base_url: "file:{DEMO}/recorded/",
     since: 2016-01-01, retries: 0}}
portfolio:
  path: {DEMO}/portfolio/
  watch_terms: [advanced computing, supercomputer, Entity List, foreign direct product, 3A090]
channels:
  - {{name: demo-outbox, url: "outbox://outbox.jsonl", min_severity: medium}}
web:
  port: {port}
  secret_key: "{"s" * 40}"
  tokens:
    - {{name: bench, token: "{TOKEN}"}}
""",
        encoding="utf-8",
    )
    return path


def grow(url: str, target: int, seed: int = 7) -> int:
    """Clone the store's documents and events until it holds `target` events."""
    rng = random.Random(seed)
    db = store.open_store(url)
    with db.session() as s:
        docs = {d.id: d for d in s.scalars(select(store.DocumentRow))}
        events = list(s.scalars(select(store.EventRow).order_by(store.EventRow.id)))
        next_doc = (s.scalar(select(func.max(store.DocumentRow.id))) or 0) + 1
        next_event = (s.scalar(select(func.max(store.EventRow.id))) or 0) + 1
        next_entry = 1
        have = len(events)
        now = store.utcnow()
        copy = 0
        while have < target:
            copy += 1
            batch_docs, batch_versions, batch_events, subjects, outbox, entries, reviews = (
                [], [], [], [], [], [], []
            )  # fmt: skip
            for event in events:
                if have >= target:
                    break
                doc = docs[event.document_id]
                number = f"{doc.document_number}-c{copy}"
                data = {**doc.data, "document_number": number}
                at = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
                batch_docs.append({
                    "id": next_doc, "key": f"fr:{number}", "document_number": number,
                    "source": doc.source, "title": doc.title, "doc_type": doc.doc_type,
                    "publication_date": doc.publication_date, "content_hash": doc.content_hash,
                    "data": data, "first_seen_at": at, "last_seen_at": at,
                })  # fmt: skip
                batch_versions.append({
                    "document_id": next_doc, "content_hash": doc.content_hash,
                    "source": doc.source, "data": data, "seen_at": at,
                })  # fmt: skip
                batch_events.append({
                    "id": next_event, "dedup_key": f"new:fr:{number}", "kind": event.kind,
                    "document_id": next_doc, "score": event.score, "severity": event.severity,
                    "relevant": event.relevant, "reasons": event.reasons,
                    "matches": event.matches, "payload": event.payload, "created_at": at,
                })  # fmt: skip
                touched = routing.subjects_of(event.matches, event.payload)
                subjects += [{"subject": x, "event_id": next_event} for x in touched]
                if event.relevant:
                    outbox.append({"event_id": next_event, "channel": "demo-outbox",
                                   "route": "immediate", "carrier_id": None, "status": "sent",
                                   "attempts": 1, "next_attempt_at": at, "created_at": at,
                                   "sent_at": at})  # fmt: skip
                if rng.random() < 0.03:
                    status = rng.choice(("in review", "no impact", "action required", "done"))
                    entries.append({"id": next_entry, "event_id": next_event, "at": at,
                                    "author": "analyst", "previous_status": "new",
                                    "status": status, "assignee": "analyst",
                                    "note": "bench decision", "actions": []})  # fmt: skip
                    reviews.append({"event_id": next_event, "status": status,
                                    "assignee": "analyst", "actions": [],
                                    "last_entry_id": next_entry, "updated_at": at,
                                    "updated_by": "analyst"})  # fmt: skip
                    next_entry += 1
                next_doc += 1
                next_event += 1
                have += 1
            for table, rows in ((store.DocumentRow, batch_docs),
                                (store.DocumentVersionRow, batch_versions),
                                (store.EventRow, batch_events), (store.EventSubjectRow, subjects),
                                (store.AlertRow, outbox), (store.ReviewEntryRow, entries),
                                (store.ReviewRow, reviews)):  # fmt: skip
                for start in range(0, len(rows), 2000):
                    s.execute(insert(table), rows[start : start + 2000])
            s.commit()
    return have


class Server:
    def __init__(self, config: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = config.parent / "web.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "web", "-c", str(config)],
                stdout=log, stderr=subprocess.STDOUT, cwd=config.parent,
            )  # fmt: skip
        end = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"monitor web exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > end:
                raise SystemExit("monitor web did not answer within 60 s")
            time.sleep(0.1)  # polling the server's start-up, not timing anything

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def list_urls(config_path: Path, events: int, rng: random.Random) -> list[str]:
    config = load_config(config_path)
    customers = [c.id for c in config.portfolio.customers]
    chips = [c.id for c in config.portfolio.chips]
    pages = max(1, events // 50)
    return [
        "/events",
        "/events?show=all&sort=newest",
        f"/events?show=all&sort=newest&page={rng.randint(1, pages)}",
        f"/events?show=all&customer={rng.choice(customers)}",
        f"/events?show=all&chip={rng.choice(chips)}",
        "/events?status=open&show=all&sort=newest",
        f"/events?show=all&severity={rng.choice(('info', 'low', 'medium', 'high'))}",
        f"/events?show=all&kind=new_document&sort=newest&page={rng.randint(1, pages)}",
    ]


def measure(server: Server, urls: list[str]) -> list[float]:
    """Wall time of each request in ms (one keep-alive connection, token auth)."""
    times = []
    with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {TOKEN}"},
                      timeout=60) as client:  # fmt: skip
        for url in urls[:WARMUP]:
            client.get(url).raise_for_status()
        for url in urls:
            start = time.perf_counter()
            answer = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"{url}: HTTP {answer.status_code}")
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def run_store(config: Path, events: int, requests: int, seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)
    url = load_config(config).database_url
    with store.open_store(url).session() as s:
        ids = list(s.scalars(select(store.EventRow.id)))
    lists = [u for _ in range(requests) for u in list_urls(config, events, rng)][:requests]
    server = Server(config, load_config(config).web.port)
    try:
        results = {"event list (mixed)": measure(server, lists)}
        docs = [f"/events/{rng.choice(ids)}" for _ in range(requests)]
        results["document page"] = measure(server, docs)
        for label, make in (
            ("  relevant, most severe first", lambda: "/events"),
            ("  all, a random page", lambda: list_urls(config, events, rng)[2]),
            ("  a random customer", lambda: list_urls(config, events, rng)[3]),
            ("  a random chip", lambda: list_urls(config, events, rng)[4]),
            ("  awaiting a decision", lambda: "/events?status=open&show=all&sort=newest"),
            ("  all, a random severity", lambda: list_urls(config, events, rng)[6]),
            ("  a kind, newest, a random page", lambda: list_urls(config, events, rng)[7]),
        ):
            results[label] = measure(server, [make() for _ in range(requests)])
    finally:
        server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build the stores here and keep them")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="regmonitor-web-bench-"))
    small, large = work / "small", work / "large"
    try:
        for folder, port in ((small, 8741), (large, 8742)):
            folder.mkdir(parents=True, exist_ok=True)
            write_config(folder, port)
        started = time.perf_counter()
        report = check(load_config(small / "monitor.yaml"))
        baseline = len(report.found)
        print(f"baseline store: {baseline:,} events from the demo's recorded records "
              f"({time.perf_counter() - started:.1f} s)", flush=True)  # fmt: skip
        (large / "state").mkdir(exist_ok=True)
        shutil.copy(small / "state" / "regmonitor.db", large / "state" / "regmonitor.db")
        started = time.perf_counter()
        grown = grow(load_config(large / "monitor.yaml").database_url, args.events)
        size = (large / "state" / "regmonitor.db").stat().st_size / 1e6
        print(f"large store: {grown:,} events, {size:,.0f} MB "
              f"({time.perf_counter() - started:.1f} s to build)", flush=True)  # fmt: skip
        base = run_store(small / "monitor.yaml", baseline, args.requests, seed=1)
        big = run_store(large / "monitor.yaml", grown, args.requests, seed=1)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.requests} requests each on loopback, after {WARMUP} warm-up; ms")
    print(f"{'page':<34} {'1k p50':>8} {'1k p95':>8} {'100k p50':>9} {'100k p95':>9} "
          f"{'100k max':>9} {'ratio p95':>10}")  # fmt: skip
    for label in base:
        a, b = base[label], big[label]
        print(f"{label:<34} {statistics.median(a):8.1f} {p95(a):8.1f} {statistics.median(b):9.1f}"
              f" {p95(b):9.1f} {max(b):9.1f} {p95(b) / p95(a):10.2f}")  # fmt: skip
    for label in ("event list (mixed)", "document page"):
        ok = p95(big[label]) <= GOAL_MS
        print(f"goal: {label} p95 <= {GOAL_MS:.0f} ms on {grown:,} events: "
              f"{p95(big[label]):.1f} ms, {'met' if ok else 'NOT met'}")  # fmt: skip
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
