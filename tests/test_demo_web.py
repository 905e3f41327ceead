"""`make demo-web` (scripts/demo_web.sh) serves what a first `make demo` stored, and a
decision recorded through its login and review form is in `monitor review --export`:
the demo's real recorded records, a real server on loopback, the real script."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from monitor.config import load_config
from monitor.pipeline import check
from tests.conftest import DEMO, ROOT
from tests.loopback import free_port, wait_for
from tests.web_server import csrf_of


def test_demo_web_shows_the_demo_events_and_a_decision_reaches_the_export(tmp_path):
    state = tmp_path / "demo"
    config = tmp_path / "monitor.yaml"  # the demo's monitor.yaml, its state in tmp_path
    text = (DEMO / "monitor.yaml").read_text(encoding="utf-8")
    text = text.replace("data_dir: ../../.demo", f"data_dir: {state}")
    text = text.replace("file:recorded/", f"file:{DEMO}/recorded/")
    text = text.replace("path: portfolio/", f"path: {DEMO}/portfolio/")
    text = text.replace("outbox://../../.demo/outbox.jsonl", f"outbox://{state}/outbox.jsonl")
    config.write_text(text, encoding="utf-8")
    report = check(load_config(config))
    relevant = sorted(f.event_id for f in report.found if f.score.relevant)
    assert len(report.found) == 1064 and len(relevant) == 17  # what `make demo` stores

    port = free_port()
    env = {**os.environ, "STATE": str(state), "PORT": str(port),
           "BIN": str(Path(sys.executable).parent)}  # fmt: skip
    log = tmp_path / "demo-web.log"
    with log.open("wb") as out:
        server = subprocess.Popen([shutil.which("bash"), str(ROOT / "scripts" / "demo_web.sh")],
                                  stdout=out, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    try:
        said = wait_for(lambda: re.search(r"password (\S+) \(made", log.read_text()),
                        "the password demo_web.sh prints")  # fmt: skip
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert server.poll() is None, log.read_text()
            try:
                return httpx.get(f"{url}/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, "monitor web started by demo_web.sh")
        with httpx.Client(base_url=url) as client:
            page = client.get("/login")
            client.post("/login", data={"csrf": csrf_of(page.text), "name": "demo",
                                        "password": said.group(1)})  # fmt: skip
            listed = client.get("/events")
            shown = sorted(int(x) for x in re.findall(r'data-event="(\d+)"', listed.text))
            assert shown == relevant
            event = relevant[0]
            form = client.get(f"/events/{event}").text
            answer = client.post(f"/events/{event}/review", data={
                "csrf": csrf_of(form), "seen": "0", "status": "no impact",
                "note": "not a product we ship", "assignee": "", "actions": "",
            })  # fmt: skip
            assert answer.status_code == 303
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "password_hash" in (state / "web.yaml").read_text()
    assert said.group(1) not in (state / "web.yaml").read_text()  # only its hash is written
    exported = subprocess.run(
        [sys.executable, "-m", "monitor", "review", "--export", "-", "-c", str(state / "web.yaml")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    [row] = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert (row["event_id"], row["author"], row["status"], row["note"]) == (
        str(event), "demo", "no impact", "not a product we ship"
    )  # fmt: skip
