#!/usr/bin/env bash
# Take the README's pictures of `monitor web` on the demo data with headless Chromium:
# docs/web-events.png (the event list) and docs/web-document.png (a document page with
# a decision recorded).
#
#   scripts/screenshot_web.sh [OUT_DIR]
#
# The demo state is built the way `make demo` builds it (the demo's recorded Federal
# Register pages, portfolio and threshold), but in a temporary folder, so .demo/ is left
# alone. A user with a random password is configured, one decision is recorded with
# `monitor review`, `monitor web` is started on a free loopback port, and Selenium logs
# in through the login page like a user. Needs the virtualenv with the dev tools
# (`make test` creates it) and Debian's chromium and chromium-driver, installed here when
# missing. Nothing is fetched from the network by regmonitor.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/docs}"
BIN="${BIN:-$ROOT/.venv/bin}"
DEMO="$ROOT/examples/demo"

if [ ! -x "$BIN/monitor" ] || ! "$BIN/python" -c 'import selenium' 2>/dev/null; then
    echo "no $BIN/monitor with selenium: run 'make test' first (it creates .venv)" >&2
    exit 1
fi
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "installing Debian's chromium and chromium-driver packages" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

WORK="$(mktemp -d)"
SERVER=""
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

PASSWORD="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(18))')"
HASH="$(printf '%s\n' "$PASSWORD" | "$BIN/monitor" web hash-password)"
PORT="$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# the demo's monitor.yaml with absolute paths and its state in $WORK, and a user
cat >"$WORK/monitor.yaml" <<EOF
data_dir: state
sources:
  - name: federal-register
    kind: federal_register
    base_url: "file:$DEMO/recorded/"
    since: 2016-01-01
    retries: 0
portfolio:
  path: "$DEMO/portfolio/"
  watch_terms: [advanced computing, supercomputer, Entity List, foreign direct product, 3A090]
channels:
  - name: demo-outbox
    url: outbox://outbox.jsonl
    min_severity: medium
scoring:
  threshold: 50
web:
  port: $PORT
  base_url: "http://127.0.0.1:$PORT/"
  users:
    - name: analyst
      password_hash: "$HASH"
EOF

"$BIN/monitor" check --config "$WORK/monitor.yaml" --format json >/dev/null
EVENT="$("$BIN/monitor" review --open -f json -c "$WORK/monitor.yaml" | "$BIN/python" -c '
import json, sys
print(next(x["event_id"] for x in json.load(sys.stdin) if x["document_number"] == "2020-10856"))')"
"$BIN/monitor" review "$EVENT" -c "$WORK/monitor.yaml" --author analyst --status "in review" \
    --assign analyst --note "Reading the FDP amendments against our Huawei orders." >/dev/null
"$BIN/monitor" review "$EVENT" -c "$WORK/monitor.yaml" --author analyst \
    --status "action required" --note "Huawei is named: hold its open orders; sales informed." \
    --action "hold shipments to Huawei Technologies" --action "screen HiSilicon orders" >/dev/null

"$BIN/monitor" web --config "$WORK/monitor.yaml" >"$WORK/web.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    "$BIN/python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/healthz', timeout=1)" \
        2>/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/web.log" >&2; exit 1; }
    sleep 0.2
done

mkdir -p "$OUT"
PASSWORD="$PASSWORD" "$BIN/python" - "$PORT" "$EVENT" "$OUT" "$WORK/profile" <<'EOF'
import os, shutil, sys
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import WebDriverWait

port, event, out, profile = sys.argv[1:5]
options = Options()
options.binary_location = shutil.which("chromium")
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--hide-scrollbars", "--disable-background-networking", "--no-first-run",
             "--window-size=1400,1050", f"--user-data-dir={profile}"):
    options.add_argument(flag)
driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
try:
    base = f"http://127.0.0.1:{port}"
    driver.get(f"{base}/events")
    WebDriverWait(driver, 30).until(until.presence_of_element_located((By.ID, "password")))
    driver.find_element(By.ID, "name").send_keys("analyst")
    driver.find_element(By.ID, "password").send_keys(os.environ["PASSWORD"])
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 30).until(until.presence_of_element_located((By.ID, "events")))
    driver.save_screenshot(f"{out}/web-events.png")
    driver.set_window_size(1400, 1250)
    driver.get(f"{base}/events/{event}")
    WebDriverWait(driver, 30).until(until.presence_of_element_located((By.ID, "history")))
    driver.save_screenshot(f"{out}/web-document.png")
finally:
    driver.quit()
EOF
test -s "$OUT/web-events.png" && test -s "$OUT/web-document.png"
echo "wrote $OUT/web-events.png and $OUT/web-document.png"
