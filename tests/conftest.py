"""Shared fixtures: paths to the bundled real records, and config files in tmp dirs."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"
RECORDED = DEMO / "recorded"
RECORDS = DEMO / "records"
PORTFOLIO = DEMO / "portfolio"


@pytest.fixture(autouse=True)
def no_live_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything but loopback goes to a closed port: a live request fails fast."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
        monkeypatch.setenv(name.lower(), "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")


@pytest.fixture(autouse=True)
def cli_log_handlers_removed():
    """A command run in-process (CliRunner) leaves its log handler on that run's stderr,
    closed afterwards: the next test's log lines would fail on it."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_regmonitor", False)]:
        root.removeHandler(handler)


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a monitor.yaml (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "monitor.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def page1() -> dict:
    """The real documents.json page (1000 results, 2024-01-02..17)."""
    return json.loads((RECORDED / "documents.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def page2() -> dict:
    """The demo's second page: the shared/data/fr_docs development records."""
    return json.loads((RECORDED / "documents.page2.json").read_text(encoding="utf-8"))


def read_outbox(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server on loopback for the session (skipped if not installed)."""
    from tests.pg import postgres_server

    with postgres_server() as url:
        if url is None:
            pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
        yield url


@pytest.fixture
def postgres_database(postgres_url, tmp_path: Path) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server."""
    from sqlalchemy import create_engine, text

    database = f"regmonitor_{tmp_path.name[-8:].replace('-', '_').lower()}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return postgres_url.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server on loopback for the session (skipped if not installed)."""
    from tests.redis_server import redis_server as start

    with start() as server:
        if server is None:
            pytest.skip("redis-server not installed (apt-get install redis-server)")
        yield server


@pytest.fixture
def celery_worker(redis_server, tmp_path: Path):
    """Start real Celery workers (subprocesses) for a config; all stopped at teardown.

    `start(config_path)` returns the worker (`command`: another one, e.g. `monitor beat`);
    `kill()` ends it with SIGKILL (its whole process group, as a machine dying would),
    `stop()` with a warm shutdown.
    """
    import redis

    from tests.worker import Worker

    redis.Redis.from_url(redis_server.url).flushall()
    workers: list[Worker] = []

    def start(config: Path, command: list[str] | None = None, ready: str = "ready.") -> Worker:
        log = tmp_path / f"worker{len(workers)}.log"
        worker = Worker(config, redis_server.url, log, command, ready)
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def process_document(session, config, source: str, doc, *, baseline: bool = False) -> list:
    """Store a sighting and record its events at once (a poll's two steps for one document,
    without the commit between them)."""
    from monitor.pipeline import process_pending, store_document

    sighting = store_document(session, source, doc, baseline=baseline)
    return process_pending(session, config, sighting.row)


def record(number: str) -> dict:
    """One real recorded FR record of the demo set, as the API gives it."""
    return json.loads((RECORDS / f"{number}.json").read_text(encoding="utf-8"))


def write_page(folder: Path, *numbers: str) -> Path:
    """A recorded folder whose documents.json page holds these real records."""
    folder.mkdir(parents=True, exist_ok=True)
    results = [record(n) for n in numbers]
    page = {"count": len(results), "results": results}
    (folder / "documents.json").write_text(json.dumps(page), encoding="utf-8")
    return folder
