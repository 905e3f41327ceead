"""regulations.gov confirms comment periods: real recorded v4 answers on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor import store
from monitor.config import load_config
from monitor.pipeline import check
from monitor.regulations_gov import eastern_day

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "regulations_gov"
KEY = "test-key-7f3a9c1e5d"


def recorded(name: str) -> str:
    data = yaml.safe_load((FIXTURES / name).read_text())
    return data["http_interactions"][0]["response"]["body"]["string"]


def serve(server: HTTPServer) -> list[Request]:
    answers = {
        "2020-28306": recorded("regulations_dot_gov_v4_multi_document_result.yml"),
    }
    empty = recorded("regulations_dot_gov_v4_basic_document_no_result_search.yml")
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        if request.args.get("api_key") != KEY:
            return Response('{"error": "API_KEY_INVALID"}', status=403)
        body = answers.get(request.args.get("filter[frDocNum]", ""), empty)
        return Response(body, content_type="application/vnd.api+json;charset=utf-8")

    server.expect_request("/v4/documents").respond_with_handler(handler)
    return seen


def test_instants_are_read_as_eastern_days():
    assert eastern_day("2021-02-10T04:59:59Z") == date(2021, 2, 9)
    assert eastern_day("2020-11-24T04:59:59Z") == date(2020, 11, 23)
    assert eastern_day(None) is None


@pytest.fixture
def config_path(tmp_path, write_config, httpserver):
    folder = tmp_path / "recorded"
    folder.mkdir()
    record = {  # SYNTHETIC: a stand-in record carrying a real FR number and its RIN-less docket
        "document_number": "2020-28306",
        "title": "Synthetic stand-in for the proposed rule 2020-28306",
        "type": "Proposed Rule",
        "publication_date": "2021-01-07",
        "comments_close_on": "2021-01-25",
    }
    (folder / "documents.json").write_text(json.dumps({"count": 1, "results": [record]}))
    return write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2020-01-01}}
        scoring: {{threshold: 0}}
        regulations_gov: {{base_url: "{httpserver.url_for("/v4/")}", retries: 0}}
        """
    )


def test_a_later_end_date_on_regulations_gov_moves_the_deadline(
    config_path, httpserver, monkeypatch
):
    seen = serve(httpserver)
    monkeypatch.setenv("REGULATIONS_GOV_API_KEY", KEY)
    config = load_config(config_path)
    now = datetime(2021, 1, 10, 12, tzinfo=UTC)
    report = check(config, now=now)
    moved = [f for f in report.found if f.kind == "deadline_changed"]
    assert [f.document.document_number for f in moved] == ["2020-28306"]
    assert [r.args.get("filter[frDocNum]") for r in seen] == ["2020-28306"]
    db = store.open_store(config.database_url)
    with db.session() as s:
        open_ = [(d.due_on, d.origin) for d, _ in store.open_deadlines(s)]
        event = s.query(store.EventRow).filter_by(kind="deadline_changed").one()
    assert open_ == [("2021-02-09", "regulations.gov")]
    assert event.payload["before"] == ["2021-01-25"] and event.payload["after"] == "2021-02-09"
    assert event.payload["dockets"] == ["DOI_FRDOC_0001", "BIA_FRDOC_0001"]
    again = check(config, now=now)  # same answer: nothing moves again
    assert [f for f in again.found if f.kind == "deadline_changed"] == []
    assert len(seen) == 2


def test_without_a_key_nothing_is_asked(config_path, httpserver, monkeypatch):
    seen = serve(httpserver)
    monkeypatch.delenv("REGULATIONS_GOV_API_KEY", raising=False)
    check(load_config(config_path), now=datetime(2021, 1, 10, tzinfo=UTC))
    assert seen == []


def test_a_rejected_key_is_a_note_and_the_key_is_never_logged(config_path, httpserver, tmp_path):
    serve(httpserver)
    env = {
        **os.environ,
        "REGULATIONS_GOV_API_KEY": "wrong-key-0b9e8d7c",
        "MONITOR_LOG_LEVEL": "DEBUG",
        "COLUMNS": "200",
    }
    # the record's deadline is past in real time: make it current for this run
    page = tmp_path / "recorded" / "documents.json"
    data = json.loads(page.read_text())
    data["results"][0]["comments_close_on"] = f"{datetime.now(UTC).year + 1}-01-25"
    page.write_text(json.dumps(data))
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "check", "-c", str(config_path)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "regulations.gov:" in result.stderr and "HTTP 403" in result.stderr
    assert "wrong-key-0b9e8d7c" not in result.stderr + result.stdout
    assert "api_key=***" in result.stderr or "***" in result.stderr


@pytest.mark.parametrize(
    ("attributes", "said"),
    [
        ({"commentEndDate": "tomorrow-ish"}, "commentEndDate is not a date ('tomorrow-ish')"),
        ({"commentEndDate": 20210209}, "commentEndDate is not a date (20210209)"),
        ("a string", "data[0].attributes is a JSON str, not an object"),
    ],
)
def test_a_malformed_answer_is_a_note_and_the_alerts_still_go_out(
    config_path, httpserver, monkeypatch, tmp_path, attributes, said
):
    """SYNTHETIC answers, shaped like the real one but broken: the run goes on to deliver."""
    body = json.dumps({"data": [{"id": "X-1", "type": "documents", "attributes": attributes}]})
    httpserver.expect_request("/v4/documents").respond_with_data(
        body, content_type="application/vnd.api+json"
    )
    monkeypatch.setenv("REGULATIONS_GOV_API_KEY", KEY)
    path = Path(config_path)
    path.write_text(
        path.read_text()
        + '\nchannels:\n  - {name: out, url: "outbox://outbox.jsonl", min_severity: info,'
        " immediate: info}\n"
    )
    config = load_config(path)
    report = check(config, now=datetime(2021, 1, 10, 12, tzinfo=UTC))
    (note,) = [n for n in report.notes if n.startswith("regulations.gov:")]
    assert said in note and "2020-28306" in note and KEY not in note
    assert report.sent == 1 and report.pending == 0
    assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 1
    with store.open_store(config.database_url).session() as s:
        assert [d.due_on for d, _ in store.open_deadlines(s)] == ["2021-01-25"]
