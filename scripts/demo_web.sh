#!/usr/bin/env bash
# `make demo-web`: serve the store a `make demo` filled in `monitor web`, on 127.0.0.1.
#
# Writes .demo/web.yaml (the demo's monitor.yaml with its paths made absolute, the same
# state in .demo/, and one user `demo` whose password is made up here and printed once;
# only its argon2 hash is written), then runs `monitor web` on it until Ctrl-C. A
# decision recorded in the browser is in `monitor review --export - -c .demo/web.yaml`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/.venv/bin}"
DEMO="$ROOT/examples/demo"
STATE="${STATE:-$ROOT/.demo}"  # the demo's state (a test gives its own)
PORT="${PORT:-8080}"

if [ ! -s "$STATE/regmonitor.db" ]; then
    echo "no demo store in $STATE: run 'make demo' first" >&2
    exit 1
fi
PASSWORD="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(12))')"
HASH="$(printf '%s\n' "$PASSWORD" | "$BIN/monitor" web hash-password)"
cat >"$STATE/web.yaml" <<YAML
# Written by scripts/demo_web.sh (make demo-web): the demo's configuration and a user.
data_dir: "$STATE"
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
    url: "outbox://$STATE/outbox.jsonl"
    min_severity: medium
scoring:
  threshold: 50
web:
  port: $PORT
  base_url: "http://127.0.0.1:$PORT/"
  users:
    - name: demo
      password_hash: "$HASH"
YAML
echo "log in at http://127.0.0.1:$PORT/ as demo, password $PASSWORD (made for this run)"
exec "$BIN/monitor" web --config "$STATE/web.yaml"
