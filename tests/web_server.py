"""`monitor web` as a real server process on loopback for the web tests, and a store
filled by the real pipeline for it to show.

`web_store` runs `check` on real recorded FR records (examples/demo/records) and adds
SYNTHETIC documents where a test needs what the records lack: markup in the text, an
Entity List rule whose entries match a customer, an upcoming comment deadline.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx

from monitor.config import load_config
from monitor.document import Agency, Document, Listed, RuleFacts
from monitor.pipeline import check
from monitor.store import open_store
from monitor.web.auth import hash_password
from tests.conftest import PORTFOLIO, process_document, write_page
from tests.loopback import free_port, wait_for

PASSWORD = "correct horse battery staple"
TOKEN = "tok-" + "7" * 28  # an API token (the environment gives it to the config)
SMTP_SECRET = "smtp-Pw-never-on-a-page-9931"
SOURCE_KEY = "srcKey-never-on-a-page-4417"
HOSTILE = '<script>alert("x")</script> & <b>Co.</b>'
RECORDS = ("2020-10856", "2026-00789", "2023-04558", "2021-04505")
BIS = [Agency(name="Industry and Security Bureau", slug="industry-and-security-bureau")]


def web_config(folder: Path, write_config, *, extra: str = "") -> Path:
    """A monitor.yaml reading `folder`'s recorded page, with two users, a token, a channel
    whose URL holds a password and a disabled source whose URL holds a key."""
    hashed = hash_password(PASSWORD)
    mail = f"mailtos://alerts:{SMTP_SECRET}@smtp.example.com?to=team@example.com"
    return write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2019-01-01,
              retries: 0}}
          - {{name: keyed, kind: federal_register, enabled: false,
              base_url: "https://api.example.com/v1/?api_key={SOURCE_KEY}"}}
        portfolio:
          path: {PORTFOLIO}
        channels:
          - {{name: team-outbox, url: "outbox://outbox.jsonl", min_severity: medium,
              immediate: medium}}
          - {{name: team-mail, url: "{mail}", enabled: false}}
        web:
          base_url: http://127.0.0.1:8080/
          secret_key: "{"k" * 40}"
          users:
            - {{name: alice, password_hash: "{hashed}"}}
            - {{name: bob, password_hash: "{hashed}"}}
          tokens:
            - {{name: ci-bot, token: "${{WEB_TOKEN}}"}}
        {extra}
        """
    )


def fill_store(config_path: Path) -> dict[str, int]:
    """The events `check` records from the real records plus the synthetic documents;
    the first event of each document, by document number."""
    config = load_config(config_path)
    check(config)
    db = open_store(config.database_url)
    soon = date.today() + timedelta(days=12)
    synthetic = [
        Document(  # SYNTHETIC: markup in the title, abstract and an entry
            document_number="2099-90001", type="Rule", agencies=BIS,
            publication_date="2099-01-02", title=f"Entity List additions {HOSTILE}",
            abstract=f"Adds {HOSTILE} to the Entity List under China.",
            rule=RuleFacts(entities=[
                Listed(action="added", country="CN", country_heading="CHINA, PEOPLE'S REPUBLIC OF",
                       name="Semiconductor Manufacturing International Corporation",
                       aliases=["SMIC"], license_requirement="For all items subject to the EAR."),
                Listed(action="added", country="CN", name=HOSTILE),
            ]),
        ),
        Document(  # SYNTHETIC: a proposed rule with comments due in 12 days
            document_number="2099-90002", type="Proposed Rule", agencies=BIS,
            publication_date=date.today().isoformat(), comments_close_on=soon.isoformat(),
            title="Revisions to the advanced computing controls for Huawei Technologies Co., Ltd.",
            abstract="BIS proposes to revise license requirements for Huawei Technologies Co.,"
            " Ltd. and its affiliates under the Entity List.",
        ),
    ]  # fmt: skip
    with db.session() as session:
        for doc in synthetic:
            process_document(session, config, "fr", doc)
        session.commit()
    with db.session() as session:
        from sqlalchemy import func, select

        from monitor.store import DocumentRow, EventRow

        query = (
            select(DocumentRow.document_number, func.min(EventRow.id))
            .join(EventRow, EventRow.document_id == DocumentRow.id)
            .group_by(DocumentRow.document_number)
        )
        return dict(session.execute(query).all())


def web_store(tmp_path: Path, write_config, *, extra: str = "") -> tuple[Path, dict[str, int]]:
    folder = write_page(tmp_path / "fr", *RECORDS)
    path = web_config(folder, write_config, extra=extra)
    return path, fill_store(path)


class WebServer:
    """`python -m monitor web` on a free loopback port, up once /healthz answers."""

    def __init__(self, config: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / f"web-{self.port}.log"
        env = {**os.environ, "WEB_TOKEN": TOKEN, "MONITOR_LOG_LEVEL": "INFO"}
        command = [sys.executable, "-m", "monitor", "web", "-c", str(config),
                   "--port", str(self.port), *args]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            env=env, cwd=config.parent)  # fmt: skip
        wait_for(self._up, f"monitor web on port {self.port} (log: {self.log})", timeout=60)

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"monitor web exited: {self.log.read_text()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def login(client: httpx.Client, name: str = "alice", password: str = PASSWORD) -> httpx.Response:
    """Log in the way the form does: the login page's CSRF token, then the POST."""
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(page.text), "name": name,
                                       "password": password, "next": "/events"})  # fmt: skip


def csrf_of(html: str) -> str:
    start = html.index('name="csrf" value="') + len('name="csrf" value="')
    return html[start : html.index('"', start)]
