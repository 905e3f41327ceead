"""`monitor web` as a real server on loopback, its pages fetched over HTTP: closed without
a login, a CSRF token on every form, the review author the logged-in user, markup
escaped, no secret on any page. The store is filled by the real pipeline from real
recorded FR records, plus SYNTHETIC documents (tests/web_server.py)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor import store
from monitor.config import load_config
from tests.web_server import (
    HOSTILE,
    SMTP_SECRET,
    SOURCE_KEY,
    TOKEN,
    WebServer,
    csrf_of,
    login,
    web_store,
)

HUAWEI_FDP, AC_POLICY, ENTITY_RULE, QUIET = "2020-10856", "2026-00789", "2023-04558", "2021-04505"
MARKUP, PROPOSAL = "2099-90001", "2099-90002"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One server for the module on a store filled once: (server, config path, event IDs)."""
    tmp_path = tmp_path_factory.mktemp("web")

    def write_config(text: str) -> Path:
        import textwrap

        path = tmp_path / "monitor.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    with pytest.MonkeyPatch.context() as env:
        env.setenv("WEB_TOKEN", TOKEN)  # monitor.yaml reads the token from the environment
        path, ids = web_store(tmp_path, write_config)
        server = WebServer(path)
        yield server, path, ids
        server.stop()


@pytest.fixture
def alice(site):
    server, _, _ = site
    with server.client() as client:
        assert login(client).status_code == 303
        yield client


def entries(path: Path) -> list[store.ReviewEntryRow]:
    with store.open_store(load_config(path).database_url).session() as s:
        return list(s.scalars(select(store.ReviewEntryRow).order_by(store.ReviewEntryRow.id)))


def form_of(client, event_id: int) -> dict[str, str]:
    page = client.get(f"/events/{event_id}")
    seen = re.search(r'name="seen" value="(\d+)"', page.text).group(1)
    return {"csrf": csrf_of(page.text), "seen": seen}


# --- closed by default -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/events", "/events/1", "/deadlines", "/sources",
                                  "/customers/huawei", "/reviews.csv", "/deadlines.ics",
                                  "/no-such-page"])  # fmt: skip
def test_every_page_needs_a_login(site, path):
    server, _, _ = site
    with server.client() as client:
        browser = client.get(path, headers={"accept": "text/html"})
        script = client.get(path)
    assert browser.status_code == 303 and browser.headers["location"].startswith("/login?next=")
    assert script.status_code == 401 and script.json() == {"error": "login required"}


def test_health_answers_without_a_login_and_says_nothing_more(site):
    server, _, _ = site
    with server.client() as client:
        health = client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert "server" not in health.headers  # no version banner


def test_a_post_without_a_login_changes_nothing(site):
    server, path, ids = site
    before = len(entries(path))
    with server.client() as client:
        answer = client.post(f"/events/{ids[HUAWEI_FDP]}/review",
                             data={"status": "no impact", "note": "sneaky"})  # fmt: skip
    assert answer.status_code == 401 and len(entries(path)) == before


def test_it_listens_on_loopback_only_by_default(site):
    server, _, _ = site
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("no /proc/net/tcp to read the listening address from")
    port = f"{server.port:04X}"
    listening = [line.split()[1] for line in table.read_text().splitlines()[1:]
                 if line.split()[1].endswith(f":{port}") and line.split()[3] == "0A"]  # fmt: skip
    assert listening == ["0100007F:" + port]  # 127.0.0.1, not 0.0.0.0


@pytest.mark.parametrize(
    ("name", "password"), [("alice", "wrong password"), ("mallory", "correct horse battery staple")]
)
def test_a_wrong_password_or_an_unknown_user_gets_no_session(site, name, password):
    server, _, _ = site
    with server.client() as client:
        answer = login(client, name, password)
        assert answer.status_code == 401 and "Wrong user name or password." in answer.text
        assert client.get("/events").status_code == 401


def test_a_login_form_without_its_csrf_token_is_refused(site):
    server, _, _ = site
    with server.client() as client:
        client.get("/login")
        forged = client.post("/login", data={"name": "alice", "password": "x", "csrf": "forged"})
        assert forged.status_code == 403
        assert client.get("/events").status_code == 401


def test_repeated_wrong_passwords_lock_the_name_out(site):
    server, _, _ = site
    with server.client() as client:
        codes = [login(client, "bob", f"guess {i}").status_code for i in range(11)]
        locked = login(client, "bob")  # the right password, too late
    assert codes == [401] * 10 + [429] and locked.status_code == 429
    with server.client() as client:  # another user is not locked out
        assert login(client, "alice").status_code == 303


def test_a_forged_or_foreign_session_cookie_is_no_login(site, alice):
    server, _, _ = site
    cookie = alice.cookies["regmonitor_session"]
    with server.client() as client:
        client.cookies.set("regmonitor_session", cookie[:-4] + "AAAA")
        assert client.get("/events").status_code == 401
    with server.client() as client:  # an unsigned session naming a user
        client.cookies.set("regmonitor_session", "eyJ1c2VyIjogImFsaWNlIn0=")
        assert client.get("/events").status_code == 401


def test_logout_ends_the_session(site, alice):
    page = alice.get("/events")
    assert alice.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert alice.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 303
    assert alice.get("/events").status_code == 401


# --- the pages -----------------------------------------------------------------------------


def test_events_most_severe_first_with_their_impacts(site, alice):
    _, _, ids = site
    page = alice.get("/events")
    assert page.status_code == 200
    shown = [int(x) for x in re.findall(r'data-event="(\d+)"', page.text)]
    assert shown[0] == ids[HUAWEI_FDP] and ids[QUIET] not in shown  # relevant only
    assert ids[AC_POLICY] in shown and ids[ENTITY_RULE] in shown
    assert "is named in a change to the Entity List" in page.text  # an impact line
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    everything = alice.get("/events", params={"show": "all", "sort": "newest"})
    newest = [int(x) for x in re.findall(r'data-event="(\d+)"', everything.text)]
    assert newest == sorted(newest, reverse=True) and ids[QUIET] in newest


@pytest.mark.parametrize(
    ("params", "wanted", "unwanted"),
    [
        ({"severity": "critical"}, [HUAWEI_FDP, MARKUP], [AC_POLICY, ENTITY_RULE]),
        ({"customer": "smic"}, [MARKUP], [HUAWEI_FDP]),
        ({"chip": "nvidia-b200"}, [AC_POLICY], [HUAWEI_FDP, MARKUP]),
        ({"kind": "entity_listed"}, [MARKUP], [HUAWEI_FDP, AC_POLICY]),
        ({"customer": "northwind-dc", "show": "all"}, [QUIET], [HUAWEI_FDP]),
    ],
)
def test_filters(site, alice, params, wanted, unwanted):
    _, _, ids = site
    page = alice.get("/events", params=params)
    shown = {int(x) for x in re.findall(r'data-event="(\d+)"', page.text)}
    assert {ids[n] for n in wanted} <= shown and not {ids[n] for n in unwanted} & shown


@pytest.mark.parametrize(
    "params", [{"severity": "urgent"}, {"customer": "nobody"}, {"page": "0"}, {"sort": "x"}]
)
def test_a_filter_that_is_not_one_of_its_values_is_a_bad_request(site, alice, params):
    page = alice.get("/events", params=params)
    assert page.status_code == 400 and "is not" in page.text


def test_a_document_page_shows_what_changed_deadlines_sightings_and_alerts(site, alice):
    _, _, ids = site
    page = alice.get(f"/events/{ids[MARKUP]}")
    assert page.status_code == 200
    text = page.text
    assert "Semiconductor Manufacturing International Corporation" in text
    hit = text[text.index('<tr class="hit">') :].split("</tr>")[0]  # the entry matched
    assert "Semiconductor Manufacturing International Corporation" in hit and "smic" in hit
    assert "first seen" in text and "by source fr" in text  # a sighting
    alerts = text[text.index('id="alerts"') :]
    assert "<td>team-outbox</td>" in alerts and "<td>pending</td>" in alerts  # not sent yet
    sent = alice.get(f"/events/{ids[HUAWEI_FDP]}").text
    assert re.search(r"<td>team-outbox</td>.*?<td>sent</td>", sent[sent.index('id="alerts"') :])
    proposal = alice.get(f"/events/{ids[PROPOSAL]}").text
    assert "Comments due" in proposal  # its deadline


def test_markup_in_document_text_is_escaped(site, alice):
    _, _, ids = site
    for url in (f"/events/{ids[MARKUP]}", "/events?kind=entity_listed", "/customers/smic"):
        text = alice.get(url).text
        assert "<script>" not in text and "<b>Co.</b>" not in text, url
        assert "&lt;script&gt;" in text, url


def test_an_event_or_customer_that_does_not_exist_is_not_found(site, alice):
    assert alice.get("/events/999999").status_code == 404
    assert alice.get("/events/abc").status_code == 404
    assert alice.get("/customers/nobody").status_code == 404


def test_no_secret_or_channel_url_on_any_page(site, alice):
    _, _, ids = site
    pages = ["/events", "/events?show=all", f"/events/{ids[HUAWEI_FDP]}", "/deadlines",
             "/sources", "/customers", "/customers/huawei", "/reviews.csv"]  # fmt: skip
    secrets = [SMTP_SECRET, SOURCE_KEY, TOKEN, "k" * 40, "mailtos://", "outbox://", "$argon2"]
    for url in pages:
        text = alice.get(url).text
        assert not [s for s in secrets if s in text], url
    sources = alice.get("/sources").text
    assert "api_key=***" in sources and "keyed" in sources


def test_deadlines_as_a_calendar_list_with_its_ics(site, alice):
    _, _, ids = site
    page = alice.get("/deadlines")
    assert page.status_code == 200 and "Comments due" in page.text
    assert f'href="/events/{ids[PROPOSAL]}"' in page.text
    ics = alice.get("/deadlines.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content and b"2099-90002" in ics.content


def test_sources_and_a_customers_screening_history(site, alice):
    _, _, ids = site
    sources = alice.get("/sources").text
    assert "fr" in sources and "ok" in sources
    smic = alice.get("/customers/smic").text
    assert f'href="/events/{ids[MARKUP]}"' in smic
    assert "matches the Entity List entry" in smic


# --- recording a decision ----------------------------------------------------------------


def test_a_decision_is_recorded_as_the_logged_in_user(site, alice):
    _, path, ids = site
    event = ids[AC_POLICY]
    fields = {
        **form_of(alice, event), "status": "action required", "assignee": "dana",
        "note": f"licences for biren {HOSTILE}", "actions": "apply for licences\n\nre-check X",
        "author": "mallory",  # not a field: the author is who is logged in
    }  # fmt: skip
    answer = alice.post(f"/events/{event}/review", data=fields)
    assert answer.status_code == 303 and answer.headers["location"] == f"/events/{event}#review"
    [entry] = [e for e in entries(path) if e.event_id == event]
    assert (entry.author, entry.status, entry.assignee) == ("alice", "action required", "dana")
    assert entry.actions == ["apply for licences", "re-check X"]
    page = alice.get(f"/events/{event}").text
    history = page[page.index('id="history"') :]
    assert "alice" in history and "action required" in history and "&lt;script&gt;" in history
    exported = list(csv.DictReader(io.StringIO(alice.get("/reviews.csv").text)))
    assert any(r["event_id"] == str(event) and r["author"] == "alice" for r in exported)


@pytest.mark.parametrize("csrf", [None, "forged-token"])
def test_a_forged_review_form_changes_nothing(site, alice, csrf):
    _, path, ids = site
    before = len(entries(path))
    data = {"status": "no impact", "note": "forged", "seen": "0"}
    if csrf:
        data["csrf"] = csrf
    answer = alice.post(f"/events/{ids[HUAWEI_FDP]}/review", data=data)
    assert answer.status_code == 403 and "nothing was changed" in answer.text
    assert len(entries(path)) == before


def test_a_review_of_an_event_that_does_not_exist_or_of_nothing_changes_nothing(site, alice):
    _, path, ids = site
    before = len(entries(path))
    fields = form_of(alice, ids[QUIET])
    missing = alice.post("/events/999999/review", data={**fields, "status": "done"})
    nothing = alice.post(f"/events/{ids[QUIET]}/review", data={**fields, "status": "new"})
    bad = alice.post(f"/events/{ids[QUIET]}/review", data={**fields, "status": "finished"})
    assert missing.status_code == 404
    assert nothing.status_code == 400 and "nothing to record" in nothing.text
    assert bad.status_code == 400 and "unknown status" in bad.text
    assert len(entries(path)) == before


def test_a_decision_on_a_review_changed_meanwhile_is_a_conflict(site, alice):
    _, path, ids = site
    event = ids[ENTITY_RULE]
    stale = form_of(alice, event)
    first = alice.post(f"/events/{event}/review", data={**stale, "status": "in review"})
    assert first.status_code == 303
    again = alice.post(f"/events/{event}/review", data={**stale, "status": "no impact"})
    assert again.status_code == 409 and "meanwhile" in again.text
    assert [e.status for e in entries(path) if e.event_id == event] == ["in review"]


def test_an_api_token_reads_and_records_as_its_name(site):
    server, path, ids = site
    with server.client() as client:
        bearer = {"authorization": f"Bearer {TOKEN}"}
        assert client.get("/events", headers=bearer).status_code == 200
        wrong = {"authorization": "Bearer " + "x" * 32}
        assert client.get("/events", headers=wrong).status_code == 401
        answer = client.post(f"/events/{ids[QUIET]}/review", headers=bearer,
                             data={"status": "no impact", "note": "not ours"})  # fmt: skip
        assert answer.status_code == 303
    [entry] = [e for e in entries(path) if e.event_id == ids[QUIET] and e.author == "ci-bot"]
    assert entry.status == "no impact"


def test_without_users_or_tokens_it_does_not_start(tmp_path, write_config):
    path = write_config("data_dir: state\n")
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "web", "-c", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: web: no users or tokens configured, so nobody could log in: add web.users"
        " (hashes from `monitor web hash-password`) or web.tokens"
    ]


def test_hash_password_prints_an_argon2_hash_the_config_accepts(tmp_path, write_config):
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "web", "hash-password"],
        input="a long enough password\n", capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    hashed = result.stdout.strip()
    assert hashed.startswith("$argon2id$") and "a long enough password" not in hashed
    path = write_config(f'web:\n  users:\n    - {{name: carol, password_hash: "{hashed}"}}\n')
    assert load_config(path).web.users[0].name == "carol"


def test_a_sources_health_event_has_its_page(site, alice):
    _, path, _ = site
    db = store.open_store(load_config(path).database_url)
    with db.session() as s:
        event = store.add_event(
            s, dedup_key="source_failing:keyed:test", kind="source_failing", document_id=None,
            score=100, severity="high", relevant=True, reasons=[], matches={},
            payload={"source": "keyed", "kind": "federal_register", "failures": 3,
                     "error": f"https://api.example.com/v1/?api_key={SOURCE_KEY}: HTTP 503",
                     "failing_since": None, "last_success": None},
        )  # fmt: skip
        s.commit()
        event_id = event.id
    page = alice.get(f"/events/{event_id}")
    assert page.status_code == 200 and "Source <strong>keyed</strong>" in page.text
    assert "3 failed polls in a row" in page.text and SOURCE_KEY not in page.text
    listed = alice.get("/sources").text
    assert f'href="/events/{event_id}"' in listed


def test_awaiting_a_decision_is_what_monitor_review_open_lists(site, alice):
    from monitor import review

    _, path, _ = site
    with store.open_store(load_config(path).database_url).session() as s:
        lines, total = review.open_reviews(s)
    page = alice.get("/events", params={"status": "open", "show": "all"})
    shown = {int(x) for x in re.findall(r'data-event="(\d+)"', page.text)}
    assert shown == {line.event_id for line in lines} and total == len(shown)


def test_a_login_lasts_session_hours_however_often_it_is_used(site):
    from monitor.web.auth import fingerprint, session_user

    _, path, _ = site
    settings = load_config(path).web
    alice = settings.users[0]
    fresh = {"user": "alice", "fp": fingerprint(alice), "at": time.time() - 60}
    old = {**fresh, "at": time.time() - settings.session_hours * 3600 - 60}
    other = {**fresh, "fp": "0" * 16}  # a session from before the password changed
    assert session_user(settings, fresh) == "alice"
    assert session_user(settings, old) is None and session_user(settings, other) is None
