"""`monitor web` on a real PostgreSQL server (started on loopback by the tests): the list
and its filters, a document page, a decision recorded with an API token, the CSV log;
pages read through READ ONLY sessions."""

from __future__ import annotations

import csv
import io
import re

from tests.web_server import TOKEN, WebServer, web_store

HUAWEI_FDP, AC_POLICY, MARKUP = "2020-10856", "2026-00789", "2099-90001"


def test_the_web_on_postgresql(postgres_database, tmp_path, write_config, monkeypatch):
    monkeypatch.setenv("WEB_TOKEN", TOKEN)
    path, ids = web_store(tmp_path, write_config, extra=f'store_url: "{postgres_database}"')
    server = WebServer(path)
    bearer = {"authorization": f"Bearer {TOKEN}"}
    try:
        with server.client() as client:
            listed = client.get("/events", headers=bearer)
            shown = [int(x) for x in re.findall(r'data-event="(\d+)"', listed.text)]
            assert shown[0] in (ids[HUAWEI_FDP], ids[MARKUP]) and ids[AC_POLICY] in shown
            smic = client.get("/events", params={"customer": "smic"}, headers=bearer)
            touching = [int(x) for x in re.findall(r'data-event="(\d+)"', smic.text)]
            assert touching[0] == ids[MARKUP] and ids[HUAWEI_FDP] not in touching  # listed first
            page = client.get(f"/events/{ids[MARKUP]}", headers=bearer)
            assert page.status_code == 200 and '<tr class="hit">' in page.text
            answer = client.post(f"/events/{ids[AC_POLICY]}/review", headers=bearer,
                                 data={"status": "no impact", "note": "on PostgreSQL"})  # fmt: skip
            assert answer.status_code == 303
            opened = client.get("/events", params={"status": "open", "show": "all"},
                                headers=bearer)  # fmt: skip
            assert str(ids[AC_POLICY]) not in re.findall(r'data-event="(\d+)"', opened.text)
            rows = list(
                csv.DictReader(io.StringIO(client.get("/reviews.csv", headers=bearer).text))
            )
            assert [(r["event_id"], r["author"], r["note"]) for r in rows] == [
                (str(ids[AC_POLICY]), "ci-bot", "on PostgreSQL")
            ]
    finally:
        server.stop()
