#!/usr/bin/env bash
# Render the weekly digest of the demo data as HTML and take a PNG of it with
# headless Chromium: docs/digest.png, the picture in the README.
#
#   scripts/screenshot_digest.sh [OUT.png]
#
# The demo state is built the way `make demo` builds it (the demo's recorded
# Federal Register pages, portfolio and threshold), but in a temporary folder,
# so .demo/ is left alone and the digest's "last 7 days" always holds the run.
# Needs the virtualenv (`make demo` or `make test` creates it) and Debian's
# chromium package, installed here when missing. Nothing is fetched from the
# network by regmonitor; Chromium runs with its background networking off.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/docs/digest.png}"
MONITOR="${MONITOR:-$ROOT/.venv/bin/monitor}"
DEMO="$ROOT/examples/demo"

if [ ! -x "$MONITOR" ]; then
    echo "no $MONITOR: run 'make demo' first (it creates .venv)" >&2
    exit 1
fi
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROMIUM" ]; then
    echo "installing Debian's chromium package" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    CHROMIUM="$(command -v chromium)"
fi

WORK="$(mktemp -d)"
PROFILE="$(mktemp -d)"
trap 'rm -rf "$WORK" "$PROFILE"' EXIT

# the demo's monitor.yaml with absolute paths and its state in $WORK
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
EOF

"$MONITOR" check --config "$WORK/monitor.yaml" --format json >/dev/null
"$MONITOR" digest --config "$WORK/monitor.yaml" --since 7d --out "$WORK/digest.html" >/dev/null

mkdir -p "$(dirname "$OUT")"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --user-data-dir="$PROFILE" --screenshot="$OUT" --window-size=900,1400 \
    "file://$WORK/digest.html" 2>"$WORK/chromium.log" || {
    cat "$WORK/chromium.log" >&2
    exit 1
}
test -s "$OUT"
echo "wrote $OUT"
