"""The main flows of `monitor web` in a real headless Chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium) against a real server on loopback: log in, filter
the events, open a document, record a decision, see it in the history and in the CSV
export; a form stripped of its CSRF token changes nothing; markup stays text."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from monitor import review, store
from monitor.config import load_config
from tests.web_server import HOSTILE, PASSWORD, TOKEN, WebServer, web_store

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as until  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="Debian's chromium and chromium-driver are not installed"
    " (scripts/ensure-services.sh installs them: apt-get install chromium chromium-driver)",
)
HUAWEI_FDP, MARKUP = "2020-10856", "2099-90001"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("browser")

    def write_config(text: str) -> Path:
        path = tmp_path / "monitor.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    with pytest.MonkeyPatch.context() as env:
        env.setenv("WEB_TOKEN", TOKEN)
        path, ids = web_store(tmp_path, write_config)
        server = WebServer(path)
        yield server, path, ids
        server.stop()


@pytest.fixture
def browser(tmp_path):
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--no-first-run", "--disable-background-networking",
                 f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    yield driver
    driver.quit()


def wait(driver, condition, timeout: float = 30):
    return WebDriverWait(driver, timeout).until(condition)


def log_in(driver, server) -> None:
    driver.get(f"{server.url}/events")
    wait(driver, until.presence_of_element_located((By.ID, "password")))
    driver.find_element(By.ID, "name").send_keys("alice")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    wait(driver, until.presence_of_element_located((By.ID, "events")))


def test_log_in_filter_open_a_document_record_a_decision_and_export_it(site, browser):
    server, path, ids = site
    browser.get(f"{server.url}/events")
    assert "/login" in browser.current_url  # closed: the login page first
    log_in(browser, server)
    header = browser.find_element(By.CSS_SELECTOR, "header.top")
    assert header.value_of_css_property("background-color") == "rgba(31, 58, 95, 1)"  # CSS ok

    Select(browser.find_element(By.ID, "f-severity")).select_by_visible_text("critical")
    browser.find_element(By.ID, "apply").click()
    wait(browser, until.url_contains("severity=critical"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#events tbody tr[data-event]")
    shown = {int(r.get_attribute("data-event")) for r in rows}
    assert shown == {ids[HUAWEI_FDP], ids[MARKUP]}
    assert all("critical" in r.find_element(By.CSS_SELECTOR, ".badge").text for r in rows)

    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-event="{ids[HUAWEI_FDP]}"]')
    row.find_element(By.CSS_SELECTOR, "a.title").click()
    title = wait(browser, until.presence_of_element_located((By.ID, "doc-title")))
    assert "Foreign-Produced Direct Product Rule" in title.text
    assert "To do:" in browser.find_element(By.ID, "impacts").text

    Select(browser.find_element(By.ID, "r-status")).select_by_visible_text("action required")
    browser.find_element(By.ID, "r-assignee").send_keys("dana")
    browser.find_element(By.ID, "r-note").send_keys("Huawei is a customer: hold shipments")
    browser.find_element(By.ID, "r-actions").send_keys("hold shipments to Huawei")
    browser.find_element(By.ID, "r-submit").click()
    entry = wait(browser, until.presence_of_element_located((By.CSS_SELECTOR, "#history li")))
    assert "alice" in entry.text and "action required" in entry.text
    assert "Huawei is a customer: hold shipments" in entry.text
    assert "hold shipments to Huawei" in browser.find_element(By.CSS_SELECTOR, "ul.actions").text

    exported = subprocess.run(
        [sys.executable, "-m", "monitor", "review", "--export", "-", "-c", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(r["event_id"], r["author"], r["status"], r["assignee"]) for r in rows] == [
        (str(ids[HUAWEI_FDP]), "alice", "action required", "dana")
    ]
    cookie = browser.get_cookie("regmonitor_session")  # the browser's session downloads it
    log = httpx.get(f"{server.url}/reviews.csv", cookies={cookie["name"]: cookie["value"]})
    assert "Huawei is a customer: hold shipments" in log.text


def test_a_form_without_its_csrf_token_changes_nothing(site, browser):
    server, path, ids = site
    log_in(browser, server)
    browser.get(f"{server.url}/events/{ids[MARKUP]}")
    wait(browser, until.presence_of_element_located((By.ID, "review-form")))
    browser.execute_script(  # what a forged form (another site's) lacks: the token
        "document.querySelector('#review-form input[name=csrf]').remove()"
    )
    browser.find_element(By.ID, "r-note").send_keys("forged")
    browser.find_element(By.ID, "r-submit").click()
    refused = wait(browser, until.presence_of_element_located((By.CSS_SELECTOR, ".problem")))
    assert "nothing was changed" in refused.text
    with store.open_store(load_config(path).database_url).session() as s:
        assert review.history(s, ids[MARKUP]) == []


def test_markup_in_a_document_is_shown_as_text(site, browser):
    server, _, ids = site
    log_in(browser, server)
    browser.get(f"{server.url}/events/{ids[MARKUP]}")
    title = wait(browser, until.presence_of_element_located((By.ID, "doc-title")))
    assert HOSTILE in title.text  # the characters, not an element
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert browser.find_elements(By.CSS_SELECTOR, "#doc-title b") == []
