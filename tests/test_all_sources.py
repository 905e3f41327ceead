"""All five source kinds in one monitor.yaml: `monitor check` runs them, `status` shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import RECORDS

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def serve_everything(server: HTTPServer) -> None:
    records = [json.loads((RECORDS / f"{n}.json").read_text()) for n in ("2020-10856",)]
    page = json.dumps({"count": 1, "results": records})
    files = {
        "/api/v1/documents.json": page,
        "/api/v1/documents.rss": FIXTURES / "fr_rss" / "documents.rss",
        "/api/v1/public-inspection-documents/current.json": (
            FIXTURES / "public_inspection" / "current.json"
        ),
        "/ecfr/versions/title-15.json": FIXTURES / "ecfr" / "versions-title-15-part-744.json",
        "/ecfr/full/2025-01-16/title-15.xml": FIXTURES / "ecfr" / "part-744-2025-01-16.xml",
        "/news/wire.rss": FIXTURES / "news" / "tradewire.rss",
    }
    for path, body in files.items():
        text = body.read_text() if isinstance(body, Path) else body
        server.expect_request(path).respond_with_data(text)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=cwd, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_five_kinds_check_and_status(httpserver, write_config, tmp_path):
    serve_everything(httpserver)
    api = httpserver.url_for("/api/v1/")
    config = write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "{api}", since: 2016-01-01}}
          - {{name: rss, kind: federal_register_rss, base_url: "{api}", since: 2016-01-01}}
          - {{name: desk, kind: public_inspection, base_url: "{api}"}}
          - {{name: ear, kind: ecfr, base_url: "{httpserver.url_for("/ecfr/")}", parts: [744]}}
          - name: press
            kind: news
            since: 2016-01-01
            feeds: [{{url: "{httpserver.url_for("/news/wire.rss")}"}}]
        """
    )
    checked = run("check", "-c", str(config), "-f", "json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["errors"] == {}
    assert set(report["fetched"]) == {"fr", "rss", "desk", "ear", "press"}
    assert all(report["fetched"][name] > 0 for name in report["fetched"])
    sources = {s["source"] for s in report["new"]}
    assert {"fr", "rss", "desk", "press"} <= sources  # ear: a first read is a baseline

    status = json.loads(run("status", "-c", str(config), "-f", "json", cwd=tmp_path).stdout)
    by_name = {s["name"]: s for s in status["sources"]}
    assert set(by_name) == {"fr", "rss", "desk", "ear", "press"}
    assert all(s["last_success"] and s["next_run"] for s in by_name.values())
    assert "publication days" in by_name["desk"]["schedule"]
    assert by_name["press"]["schedule"] == "every 60 min"
