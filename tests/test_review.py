"""Reviews: decisions on events recorded with who and when, appended and never rewritten;
`monitor review` as a user runs it; the digest's open and decided events; the subject
index the web filters on. The store is filled by the real pipeline from real recorded
FR records (examples/demo/records)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from monitor import review, store
from monitor.alerts import load_templates
from monitor.config import load_config
from monitor.digest import build_digest, render_digest
from monitor.pipeline import check
from tests.conftest import PORTFOLIO, write_page

CRITICAL, HIGH, QUIET = "2020-10856", "2026-00789", "2021-04505"  # Huawei FDP; AC policy; none


@pytest.fixture
def filled(tmp_path: Path, write_config) -> tuple[Path, dict[str, int]]:
    """A store `check` filled from three real records; the event ID of each by number."""
    folder = write_page(tmp_path / "fr", CRITICAL, HIGH, QUIET)
    path = write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2019-01-01,
              retries: 0}}
        portfolio:
          path: {PORTFOLIO}
        web:
          base_url: https://regmonitor.example.com/
        """
    )
    report = check(load_config(path))
    ids = {f.document.document_number: f.event_id for f in report.found}
    assert set(ids) == {CRITICAL, HIGH, QUIET}
    return path, ids


def open_db(path: Path) -> store.Store:
    return store.open_store(load_config(path).database_url)


def run_monitor(*args: str, cwd: Path, user: str = "casey") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd, capture_output=True, text=True, check=False,
        env={**os.environ, "COLUMNS": "250", "USER": user, "LOGNAME": user},
    )  # fmt: skip


def test_each_change_is_appended_with_its_author_and_the_state_follows(filled):
    path, ids = filled
    db = open_db(path)
    event = ids[CRITICAL]
    with db.session() as s:
        first = review.record(s, event, "alice", status="in-review", assignee="bob")
        items = ["hold shipments to Huawei", " ", "check affiliates"]
        second = review.record(
            s, event, "bob", status="Action Required", note="Huawei is ours", actions=items
        )
        third = review.record(s, event, "bob", note="sales told")
        s.commit()
    with db.session() as s:
        entries = review.history(s, event)
        state = review.current(s, event)
    assert [(e.author, e.previous_status, e.status, e.assignee) for e in entries] == [
        ("alice", "new", "in review", "bob"),
        ("bob", "in review", "action required", "bob"),
        ("bob", "action required", "action required", "bob"),
    ]
    assert [e.id for e in entries] == [first.id, second.id, third.id]
    assert entries[1].actions == ["hold shipments to Huawei", "check affiliates"]
    assert entries[0].at <= entries[1].at <= entries[2].at
    assert (state.status, state.assignee, state.updated_by) == ("action required", "bob", "bob")
    assert state.actions == ["hold shipments to Huawei", "check affiliates"]
    assert state.last_entry_id == third.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "maybe"}, "unknown status 'maybe'"),
        ({}, "nothing to record"),
        ({"status": "new"}, "nothing to record"),
        ({"note": "   "}, "nothing to record"),
        ({"note": "x" * 10_001}, "longer than 10,000"),
    ],
)
def test_a_change_that_records_nothing_or_is_wrong_is_refused_and_changes_nothing(
    filled, change, message
):
    path, ids = filled
    db = open_db(path)
    with db.session() as s, pytest.raises(review.ReviewError, match=message):
        review.record(s, ids[HIGH], "alice", **change)
    with db.session() as s:
        assert review.history(s, ids[HIGH]) == [] and review.current(s, ids[HIGH]) is None


def test_an_unknown_event_or_a_missing_author_is_an_error(filled):
    path, ids = filled
    db = open_db(path)
    with db.session() as s:
        with pytest.raises(review.ReviewError, match="no event with ID 999999"):
            review.record(s, 999999, "alice", status="done")
        with pytest.raises(review.ReviewError, match="author"):
            review.record(s, ids[HIGH], "  ", status="done")


def test_a_decision_over_one_the_author_has_not_seen_is_a_conflict(filled):
    path, ids = filled
    db = open_db(path)
    with db.session() as s:
        review.record(s, ids[HIGH], "alice", status="in review", seen=0)
        s.commit()
    with db.session() as s, pytest.raises(review.ReviewConflict, match="changed meanwhile"):
        review.record(s, ids[HIGH], "bob", status="no impact", seen=0)  # saw no entry
    with db.session() as s:
        assert [e.author for e in review.history(s, ids[HIGH])] == ["alice"]


def _refused(db: store.Store, sql: str) -> None:
    with db.engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text(sql))


def _check_append_only(db: store.Store, event_id: int) -> None:
    with db.session() as s:
        review.record(s, event_id, "alice", status="no impact", note="not ours")
        s.commit()
    _refused(db, "UPDATE review_entries SET note = 'rewritten', author = 'mallory'")
    _refused(db, "DELETE FROM review_entries")
    with db.session() as s:
        [entry] = review.history(s, event_id)
    assert (entry.author, entry.note, entry.status) == ("alice", "not ours", "no impact")


def test_the_database_refuses_to_rewrite_or_delete_the_history(filled):
    path, ids = filled
    _check_append_only(open_db(path), ids[CRITICAL])


def test_postgresql_refuses_to_rewrite_the_history_too(postgres_database):
    db = store.open_store(postgres_database)
    with db.session() as s:
        event = store.add_event(s, dedup_key="new:fr:PG", kind="new_document", relevant=True)
        s.commit()
        event_id = event.id
    _check_append_only(db, event_id)


def test_open_lists_relevant_events_awaiting_a_decision_oldest_first(filled):
    path, ids = filled
    db = open_db(path)
    link = load_config(path).web.event_url
    with db.session() as s:
        lines, total = review.open_reviews(s, link=link)
        assert [line.event_id for line in lines] == sorted([ids[CRITICAL], ids[HIGH]])
        assert total == 2 and lines[0].status == "new"
        assert lines[0].url == f"https://regmonitor.example.com/events/{lines[0].event_id}"
        review.record(s, ids[CRITICAL], "alice", status="in review")
        review.record(s, ids[HIGH], "alice", status="no impact")
        review.record(s, ids[QUIET], "alice", status="in review", note="the scorer missed it")
        s.commit()
        lines, total = review.open_reviews(s)
    assert [(line.event_id, line.status) for line in lines] == [
        (ids[CRITICAL], "in review"),
        (ids[QUIET], "in review"),
    ]
    assert total == 2


def test_export_is_the_audit_trail_of_a_period_safe_to_open_in_a_spreadsheet(filled):
    path, ids = filled
    db = open_db(path)
    with db.session() as s:
        review.record(s, ids[CRITICAL], "alice", status="action required",
                      note="=HYPERLINK(\"http://evil.example\")", actions=["@hold"])  # fmt: skip
        s.commit()
        rows = review.export_rows(s)
        later = rows[0]["recorded_at"]
        assert review.export_rows(s, since=store.utcnow() + timedelta(seconds=1)) == []
    buffer = io.StringIO()
    review.write_csv(rows, buffer)
    [row] = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert row["event_id"] == str(ids[CRITICAL]) and row["document_number"] == CRITICAL
    assert (row["author"], row["previous_status"], row["status"]) == (
        "alice", "new", "action required"
    )  # fmt: skip
    assert row["note"] == '\'=HYPERLINK("http://evil.example")' and row["actions"] == "'@hold"
    assert row["recorded_at"] == later and row["severity"] == "critical"


def test_review_command_records_shows_lists_and_exports(filled):
    path, ids = filled
    c, event = str(path), str(ids[CRITICAL])
    listed = run_monitor("review", "--open", "-c", c, "-f", "json", cwd=path.parent)
    assert listed.returncode == 0, listed.stderr
    assert [x["event_id"] for x in json.loads(listed.stdout)] == sorted([ids[CRITICAL], ids[HIGH]])
    done = run_monitor("review", event, "--status", "action required", "--note", "ours",
                       "--assign", "dana", "--action", "hold shipments", "-c", c,
                       cwd=path.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "new -> action required, assigned to dana" in done.stdout and "by casey" in done.stdout
    shown = run_monitor("review", event, "-c", c, "-f", "json", cwd=path.parent)
    data = json.loads(shown.stdout)
    assert (data["status"], data["assignee"], data["actions"]) == (
        "action required", "dana", ["hold shipments"]
    )  # fmt: skip
    assert [(h["author"], h["note"]) for h in data["history"]] == [("casey", "ours")]
    out = path.parent / "audit.csv"
    exported = run_monitor("review", "--export", str(out), "--since", "1d", "-c", c,
                           cwd=path.parent)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert (row["event_id"], row["author"], row["status"]) == (event, "casey", "action required")
    listed = run_monitor("review", "--open", "-c", c, "-f", "json", cwd=path.parent)
    assert [x["event_id"] for x in json.loads(listed.stdout)] == [ids[HIGH]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999", "--status", "done"], "no event with ID 999999"),
        (["999999"], "no event with ID 999999"),
        (["{id}", "--status", "finished"], "unknown status 'finished'"),
        ([], "give an event ID, --open or --export"),
        (["--open", "--since", "7d"], "--since and --until go with --export"),
        (["--export", "x.csv", "--since", "yesterday"], "--since: expected a date"),
    ],
)
def test_review_command_errors_are_one_line_and_change_nothing(filled, args, message):
    path, ids = filled
    args = [a.replace("{id}", str(ids[HIGH])) for a in args]
    result = run_monitor("review", *args, "-c", str(path), cwd=path.parent)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {result.stderr.strip()[7:]}"]
    assert message in result.stderr
    with open_db(path).session() as s:
        assert s.scalars(select(store.ReviewEntryRow)).all() == []


def test_the_digest_lists_events_still_open_and_those_decided_in_its_period(filled):
    path, ids = filled
    config = load_config(path)
    db = open_db(path)
    start = store.utcnow() - timedelta(days=7)
    with db.session() as s:
        review.record(s, ids[HIGH], "alice", status="no impact", note="below the lines")
        s.commit()
        made = build_digest(s, config, start)
    assert [r.event_id for r in made.reviews_open] == [ids[CRITICAL]]
    assert made.reviews_open_total == 1
    [decided] = made.reviews_decided
    assert (decided.event_id, decided.status, decided.updated_by, decided.note) == (
        ids[HIGH], "no impact", "alice", "below the lines"
    )  # fmt: skip
    templates = load_templates()
    body = render_digest(templates, "text", made).body
    assert "REVIEWS: 1 event awaiting a decision" in body
    assert f"#{ids[HIGH]}  no impact by alice" in body and "below the lines" in body
    html = render_digest(templates, "email", made).body
    assert f'href="https://regmonitor.example.com/events/{ids[CRITICAL]}"' in html
    json.dumps(made.to_json())  # the JSON form of `monitor digest -f json`
    with db.session() as s:  # a week later, the decision is no longer of the period
        later = build_digest(s, config, store.utcnow() + timedelta(seconds=1),
                             store.utcnow() + timedelta(days=7))  # fmt: skip
    assert later.reviews_decided == [] and later.reviews_open_total == 1


def test_events_are_indexed_by_the_customers_and_chips_they_touch(filled):
    path, ids = filled
    with open_db(path).session() as s:
        rows = s.execute(select(store.EventSubjectRow.event_id, store.EventSubjectRow.subject))
        subjects: dict[int, set[str]] = {}
        for event_id, subject in rows:
            subjects.setdefault(event_id, set()).add(subject)
    assert "customer:huawei" in subjects[ids[CRITICAL]]
    assert {"customer:biren", "chip:nvidia-b200"} <= subjects[ids[HIGH]]
    # a low event reaches the customers at home where it lists entries, and no chip
    assert "customer:northwind-dc" in subjects[ids[QUIET]]
    assert not any(subject.startswith("chip:") for subject in subjects[ids[QUIET]])


def test_upgrading_a_store_of_0007_indexes_the_events_it_holds(filled):
    from alembic import command
    from alembic.config import Config as AlembicConfig

    path, _ = filled
    db = open_db(path)
    with db.session() as s:
        before = sorted(s.execute(select(store.EventSubjectRow.subject,
                                         store.EventSubjectRow.event_id)).all())  # fmt: skip
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(store.MIGRATIONS))
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0007")
    again = store.open_store(load_config(path).database_url)  # upgrades to the head
    with again.session() as s:
        after = sorted(s.execute(select(store.EventSubjectRow.subject,
                                        store.EventSubjectRow.event_id)).all())  # fmt: skip
    assert after == before and len(before) > 10


def _reader_cannot_write(url: str) -> None:
    store.open_store(url)  # migrated by the writer
    reader = store.open_reader(url)
    with reader.session() as s:
        assert s.scalars(select(store.EventRow)).all() is not None  # it reads
    with reader.session() as s, pytest.raises(DBAPIError, match=r"(?i)read.?only"):
        store.add_event(s, dedup_key="new:fr:RO", kind="new_document")
        s.flush()
    with store.open_store(url).session() as s:
        assert not store.event_exists(s, "new:fr:RO")


def test_the_webs_reader_cannot_write_sqlite(tmp_path):
    _reader_cannot_write(f"sqlite:///{tmp_path / 'ro.db'}")


def test_the_webs_reader_cannot_write_postgresql(postgres_database):
    _reader_cannot_write(postgres_database)
