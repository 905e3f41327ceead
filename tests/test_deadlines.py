"""Deadlines: read from API fields and DATES text, reminded once, moved by extensions."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from monitor import store
from monitor.config import load_config
from monitor.deadlines import extract, fr_today, from_dates_text, not_live, reminder_offset
from monitor.document import Document
from monitor.pipeline import check
from tests.conftest import PORTFOLIO, RECORDS


def record(number: str) -> Document:
    return Document.model_validate(json.loads((RECORDS / f"{number}.json").read_text()))


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("2023-27189", [("comments", date(2024, 2, 5))]),  # "no later than February 5, 2024"
        ("2023-28767", [("comments", date(2024, 2, 16))]),  # "must be received by ..."
        ("2025-18737", [("comments", date(2025, 10, 27))]),  # "11:59 p.m. (ET) October 27"
        ("2020-10856", [("effective", date(2020, 5, 15))]),  # field and text agree: once
        # the extension cites the ANPRM's publication date; the deadline is the new date
        ("2023-28964", [("comments", date(2024, 4, 1))]),
    ],
)
def test_deadlines_from_real_records(number, expected):
    assert [(d.kind, d.due) for d in extract(record(number))] == expected


def test_interim_final_rule_with_deadline_only_in_text():
    text = (
        "Effective date: This rule is effective October 25, 2023, except for amendatory "
        "instruction 5, which is effective January 1, 2025. Comments must be received by BIS "
        "no later than December 18, 2023. Compliance date: You are not required to comply "
        "with the requirements until January 31, 2025."
    )  # the wording of BIS interim final rules, quoted in DOMAIN.md
    found = [(d.kind, d.due) for d in from_dates_text(text)]
    assert found == [
        ("effective", date(2023, 10, 25)),
        ("effective", date(2025, 1, 1)),
        ("comments", date(2023, 12, 18)),
        ("compliance", date(2025, 1, 31)),
    ]


def test_today_is_the_us_eastern_date():
    late_in_california = datetime(2025, 5, 14, 21, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert fr_today(late_in_california) == date(2025, 5, 15)  # 00:30 in Washington
    early_in_tokyo = datetime(2025, 5, 15, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert fr_today(early_in_tokyo) == date(2025, 5, 14)
    assert fr_today(datetime(2025, 3, 9, 4, 30, tzinfo=UTC)) == date(2025, 3, 8)  # EST
    assert fr_today(datetime(2025, 3, 10, 4, 30, tzinfo=UTC)) == date(2025, 3, 10)  # EDT


@pytest.mark.parametrize(
    ("left", "offset"), [(31, None), (30, 30), (20, 30), (10, 14), (7, 7), (2, 7), (1, 1), (0, 1)]
)
def test_reminder_offset_never_skips_a_crossed_reminder(left, offset):
    due = date(2025, 5, 15)
    today = date.fromordinal(due.toordinal() - left)
    assert reminder_offset(due, today, (30, 14, 7, 1)) == offset
    assert reminder_offset(due, date(2025, 5, 16), (30, 14, 7, 1)) is None  # past


def page(*documents: dict) -> dict:
    return {"count": len(documents), "total_pages": 1, "results": list(documents)}


@pytest.fixture
def setup(tmp_path: Path, write_config):
    """A recorded folder holding chosen records, a portfolio watching its words."""
    folder = tmp_path / "recorded"
    folder.mkdir()

    def serve(*documents: dict) -> None:
        (folder / "documents.json").write_text(json.dumps(page(*documents)))

    config_path = write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2020-01-01,
             retries: 0}}
        portfolio:
          path: {PORTFOLIO}
          watch_terms: [offshore, Entity List]
        scoring: {{threshold: 0}}
        channels:
          - {{name: out, url: "outbox://outbox.jsonl", min_severity: info, immediate: info}}
        deadlines: {{offsets: [14, 7, 1]}}
        """
    )
    return serve, config_path, tmp_path


def raw(number: str) -> dict:
    return json.loads((RECORDS / f"{number}.json").read_text())


def test_reminders_fire_once_per_offset(setup):
    serve, config_path, tmp_path = setup
    serve(raw("2023-27019"))  # BSEE proposed rule, comments by March 4, 2024
    config = load_config(config_path)
    eastern = ZoneInfo("America/New_York")
    check(config, now=datetime(2024, 1, 1, 12, tzinfo=eastern))  # 63 days left: none
    runs = {
        day: check(config, now=datetime(2024, *day, 9, tzinfo=eastern))
        for day in [(2, 20), (2, 21), (2, 27), (3, 3), (3, 4)]
    }
    kinds = {
        day: [(f.kind, f.document.document_number) for f in r.found] for day, r in runs.items()
    }
    assert kinds == {
        (2, 20): [("deadline_reminder", "2023-27019")],  # 13 days left: the 14-day reminder
        (2, 21): [],
        (2, 27): [("deadline_reminder", "2023-27019")],  # 6 days: the 7-day one
        (3, 3): [("deadline_reminder", "2023-27019")],  # 1 day
        (3, 4): [],  # due today, the 1-day reminder was sent
    }
    outbox = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    titles = [line["title"] for line in outbox if "deadline" in line["title"]]
    assert len(titles) == 3
    assert "Comments deadline 2024-03-04 (in 13 days)" in titles[0]
    assert "(in 1 day)" in titles[2]


def test_no_reminder_of_a_compliance_date_of_a_rule_not_enforced(setup):
    """SYNTHETIC record under the AI Diffusion rule's number: BIS announced on 2025-05-13
    that it would not enforce the rule (knowledge/data/rules.yaml), so its compliance date
    is no deadline; its comment period is."""
    serve, config_path, _ = setup
    serve({
        "document_number": "2025-00636", "title": "Framework for Artificial Intelligence Diffusion",
        "type": "Rule", "agencies": [{"name": "Industry and Security Bureau",
                                      "slug": "industry-and-security-bureau"}],
        "publication_date": "2025-01-15",
        "dates": "Comments must be received by May 15, 2025. Compliance date: You are not "
                 "required to comply with the requirements until May 15, 2025.",
    })  # fmt: skip
    assert not_live("compliance", "2025-00636", date(2025, 5, 15)) == (
        "the AI Diffusion rule is not enforced on 2025-05-15"
    )
    assert not_live("comments", "2025-00636", date(2025, 5, 15)) is None
    config = load_config(config_path)
    eastern = ZoneInfo("America/New_York")
    check(config, now=datetime(2025, 4, 1, 12, tzinfo=eastern))
    late = check(config, now=datetime(2025, 5, 14, 9, tzinfo=eastern))
    reminded = [f for f in late.found if f.kind == "deadline_reminder"]
    assert [r.document.document_number for r in reminded] == ["2025-00636"]
    with store.open_store(config.database_url).session() as session:
        (event,) = session.scalars(
            select(store.EventRow).where(store.EventRow.kind == "deadline_reminder")
        ).all()
    assert event.payload["deadline"] == "comments"


@pytest.mark.parametrize("store_kind", ["sqlite", "postgresql"])
def test_extension_moves_the_earlier_deadline(setup, store_kind, request):
    serve, config_path, _ = setup
    if store_kind == "postgresql":  # the candidates' query must run there too
        url = request.getfixturevalue("postgres_database")
        config_path.write_text(f"store_url: {url}\n" + config_path.read_text())
    extension = raw("2023-28964")  # real: extends the ANPRM at 88 FR 74379 to April 1, 2024
    original = {  # SYNTHETIC stand-in for that ANPRM (not in the offline data)
        "document_number": "TEST-ANPRM",
        "title": "Synthetic stand-in for the advance notice extended by 2023-28964",
        "type": "Proposed Rule",
        "agencies": extension["agencies"],
        "publication_date": "2023-10-31",
        "comments_close_on": "2024-01-29",
        "citation": "88 FR 74379",
        "regulation_id_numbers": extension["regulation_id_numbers"],
    }
    config = load_config(config_path)
    serve(original)
    check(config, now=datetime(2023, 11, 1, tzinfo=UTC))
    serve(original, extension)
    report = check(config, now=datetime(2024, 1, 2, tzinfo=UTC))
    moved = [f for f in report.found if f.kind == "deadline_changed"]
    assert [f.document.document_number for f in moved] == ["TEST-ANPRM"]
    db = store.open_store(config.database_url)
    with db.session() as s:
        event = s.scalar(select(store.EventRow).where(store.EventRow.kind == "deadline_changed"))
        open_ = [(d.due_on, doc.document_number) for d, doc in store.open_deadlines(s)]
    assert event.payload["before"] == ["2024-01-29"] and event.payload["after"] == "2024-04-01"
    assert event.payload["by"] == "2023-28964"
    assert ("2024-01-29", "TEST-ANPRM") not in open_ and ("2024-04-01", "2023-28964") in open_
    again = check(config, now=datetime(2024, 1, 2, tzinfo=UTC))
    assert [f for f in again.found if f.kind == "deadline_changed"] == []


def test_deadlines_command_lists_and_writes_an_ics_calendar(setup):
    serve, config_path, tmp_path = setup
    serve(raw("2023-27019"), raw("2023-28767"))
    check(load_config(config_path), now=datetime(2024, 1, 1, tzinfo=UTC))
    ics = tmp_path / "deadlines.ics"

    def deadlines(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "monitor", "deadlines", "-c", str(config_path), *args],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    result = deadlines("--from", "2024-02-10", "--days", "30", "--ics", str(ics), "-f", "json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [(d["document_number"], d["kind"], d["due"], d["days_left"]) for d in listed] == [
        ("2023-28767", "comments", "2024-02-16", 6),
        ("2023-27019", "comments", "2024-03-04", 23),
    ]
    events = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert [(str(e["summary"])[:13], e["dtstart"].dt) for e in events] == [
        ("Comments due:", date(2024, 2, 16)),
        ("Comments due:", date(2024, 3, 4)),
    ]
    assert str(events[0]["uid"]) == "fr:2023-28767-comments-2024-02-16@regmonitor"
    # nothing is upcoming in real time for 2024 records; a bad date is one clear line
    assert json.loads(deadlines("-f", "json").stdout) == []
    bad = deadlines("--from", "someday")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --from:")
